"""Request-wide input guard: NUL and other C0 control characters (bar tab, CR, LF) never reach
a query or a template. PostgreSQL refuses NUL in text outright (a 500 otherwise), SQLite would
store it. Forms still check their own fields and say which one is wrong; this is the net under
all of them, including search boxes and filters that have no form class."""

from __future__ import annotations

import re

from flask import abort, request

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: No single text value a person types here is longer (file uploads are not affected).
MAX_VALUE_LENGTH = 20_000


def refuse_control_characters() -> None:
    values = [*request.args.values(), *(request.form.values() if request.form else [])]
    for value in values:
        if _FORBIDDEN.search(value) or len(value) > MAX_VALUE_LENGTH:
            abort(400, description="control")
