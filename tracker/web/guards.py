"""Request-wide input guard: NUL and other C0 control characters (bar tab, CR, LF) never reach
a query or a template. PostgreSQL refuses NUL in text outright (a 500 otherwise), SQLite would
store it. Forms still check their own fields and say which one is wrong; this is the net under
all of them, including search boxes and filters that have no form class."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import abort, request

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: No single text value a person types here is longer (file uploads are not affected).
MAX_VALUE_LENGTH = 20_000


def refuse_control_characters() -> None:
    values = [*request.args.values(), *(request.form.values() if request.form else [])]
    for value in values:
        if _FORBIDDEN.search(value) or len(value) > MAX_VALUE_LENGTH:
            abort(400, description="control")


def keep_search_words_out_of_urls() -> Any:
    """``before_request`` (issue 16): a search word in a query string (``?q=山田花子``, an old
    bookmark or a typed URL) is never used, echoed or passed on. The request goes to the same
    address without ``q`` (other parameters, all codes and ids, kept), before the login check,
    so not even the login page's ``next=`` carries it; the page says to use the search box."""
    if not request.args.get("q", "").strip():
        return None
    from flask import flash, redirect

    from tracker.web.i18n import gettext as _

    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "q"]
    flash(_("検索語はURLに入れられません。検索欄に入力して検索してください。"), "warning")
    target = request.path + (f"?{urlencode(kept)}" if kept else "")
    return redirect(target, 303)
