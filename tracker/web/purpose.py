"""The view purpose of a protected person's data (支援措置, issue 14), asked once per visit.

Every page that opens a protected item's personal data (the item page, the re-mailing form,
the item edit form, the handover form, the item history) calls :func:`ask` first:

- no protected item among those shown: nothing is asked (``Gate.purpose`` is None);
- a purpose form just posted to this URL (field ``purpose``): checked (free text, no
  individual number); remembered in the session for :data:`VALID_FOR` per item id;
- a purpose remembered for every protected item, less than :data:`VALID_FOR` old: reused,
  so that a clerk is not asked again on each page of one visit;
- otherwise the purpose form is returned (posting back to the same URL, query string kept).

The caller puts :func:`detail` of ``Gate.purpose`` into its view event: the keyed digest of
the typed text (``purpose_digest``), never the text (issue 16: a purpose may name a person;
an auditor confirms a purpose by typing it on the event's page). The memory lives
in the signed login session (cleared at logout), never longer than :data:`VALID_FOR`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import redirect, render_template, request, session
from flask.typing import ResponseReturnValue

from tracker.clock import now_utc
from tracker.domain.errors import InputError
from tracker.extensions import db
from tracker.models import Item
from tracker.services import audit, protection
from tracker.web.i18n import gettext as _
from tracker.web.protection.forms import PurposeForm


def detail(purpose: str | None) -> dict[str, str]:
    """The view event's detail for a purpose: its digest, or nothing when none was asked."""
    return {} if purpose is None else {"purpose_digest": audit.digest(purpose)}


#: How long a purpose given for an item is reused without asking again.
VALID_FOR = timedelta(minutes=15)
SESSION_KEY = "view_purposes"


@dataclass(frozen=True)
class Gate:
    """Either the response to return (the purpose form) or the purpose (None: not needed)."""

    response: ResponseReturnValue | None = None
    purpose: str | None = None


def ask(items: Iterable[Item], *, redirect_after_post: bool = True) -> Gate:
    """Ask for (or find) the purpose of opening ``items``; see the module text.

    With ``redirect_after_post`` a posted purpose redirects to the same URL (GET), so that a
    page whose own POST does something else (editing, handing over) is shown, not submitted.
    """
    shown = list(items)
    protected = protection.protected_item_ids(db.session, (i.id for i in shown))
    if not protected:
        return Gate()
    first = next(i for i in shown if i.id in protected)
    form = PurposeForm()
    if request.method == "POST" and "purpose" in request.form:
        problem = None
        purpose = ""
        if not form.validate():
            problem = _("もう一度操作してください")
        else:
            try:
                purpose = protection.check_purpose(form.purpose.data)
            except InputError as error:
                problem = str(error)
        if problem is not None:
            form.purpose.errors = [problem]
            return Gate(response=(_form(first, form), 422))
        _remember(protected, purpose)
        if redirect_after_post:
            return Gate(response=redirect(request.full_path.rstrip("?")))
        return Gate(purpose=purpose)
    remembered = _remembered(protected)
    if remembered is not None:
        return Gate(purpose=remembered)
    return Gate(response=_form(first, form))


def ask_on_show(items: Iterable[Item]) -> Gate:
    """:func:`ask` for a page whose own POST submits something (edit, hand over, re-mail):
    asked when the page is shown (GET) or a purpose is posted; the submission itself (only
    reachable from the page, which asked) is not held up."""
    if request.method == "POST" and "purpose" not in request.form:
        return Gate()
    return ask(items)


def _form(item: Item, form: PurposeForm) -> str:
    return render_template(
        "protection/purpose.html",
        item=item,
        form=form,
        action=request.full_path.rstrip("?"),
    )


def _remember(item_ids: set[int], purpose: str) -> None:
    until = (now_utc() + VALID_FOR).isoformat()
    kept = {k: v for k, v in _stored().items() if _valid(v) is not None}
    kept.update({str(i): [purpose, until] for i in item_ids})
    session[SESSION_KEY] = kept


def _remembered(item_ids: set[int]) -> str | None:
    stored = _stored()
    purposes = [_valid(stored.get(str(i))) for i in sorted(item_ids)]
    if any(p is None for p in purposes):
        return None
    return purposes[0]


def _stored() -> dict[str, object]:
    value = session.get(SESSION_KEY)
    return value if isinstance(value, dict) else {}


def _valid(entry: object) -> str | None:
    if not isinstance(entry, list) or len(entry) != 2:
        return None
    purpose, until = entry
    try:
        expires = datetime.fromisoformat(str(until))
    except ValueError:
        return None
    if expires <= now_utc() or not isinstance(purpose, str):
        return None
    return purpose
