"""Storage locations as data (issue 12): an admin adds, renames and retires them.

A location's ``code`` (``CHUO``) is what import files name, so it never changes once made;
its Japanese name may. A location is never deleted: old envelopes keep pointing at it and
their pages still show its name. Retiring (``active=False``) takes it out of the intake and
move selects, and is refused while any item is in custody there, or for the default location
(intake preselects it, and an import row without a location goes there).

Each change is a conditional ``UPDATE`` whose row count is checked, audited in the same
transaction (``location.create`` / ``location.change`` with before and after /
``location.retire``). Location names and codes are no personal data.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.domain.codes import AuditAction, ItemStatus
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text, quoted
from tracker.models import Envelope, Item, Location
from tracker.services import audit
from tracker.services.transitions import Conflict

CODE_PATTERN = re.compile(r"^[A-Z0-9_-]{2,20}$")


class LocationError(InputError):
    """A refused location change; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str = "name") -> None:
        super().__init__(message)
        self.field = field


def normalise_code(text: str) -> str:
    """Half-width upper case (``ｃｈｕｏ`` → ``CHUO``), or :class:`LocationError`."""
    code = unicodedata.normalize("NFKC", text or "").strip().upper()
    if not CODE_PATTERN.match(code):
        raise LocationError(
            "コードは2〜20文字の半角英大文字・数字・「_」「-」で入力してください"
            f"（入力値: 「{quoted(text)}」）",
            field="code",
        )
    return code


def _checked_name(name: str) -> str:
    try:
        return check_free_text(name, "label", required=True, label="保管場所の名前")
    except InputError as error:
        raise LocationError(str(error), field="name") from None


def _name_taken(session: Session, name: str, *, other_than: int | None = None) -> bool:
    query = select(Location.id).where(Location.name == name)
    if other_than is not None:
        query = query.where(Location.id != other_than)
    return session.scalar(query) is not None


def add_location(session: Session, *, actor: str, code: str, name: str) -> Location:
    """A new active location, listed after the others."""
    code = normalise_code(code)
    name = _checked_name(name)
    if session.scalar(select(Location.id).where(Location.code == code)) is not None:
        raise LocationError(f"コード「{code}」は既に使われています", field="code")
    if _name_taken(session, name):
        raise LocationError(f"保管場所「{name}」は既にあります", field="name")
    last = session.scalar(select(func.max(Location.sort_order))) or 0
    location = Location(code=code, name=name, is_default=False, active=True, sort_order=last + 1)
    try:
        with session.begin_nested():  # a colleague may have taken the code a moment ago
            session.add(location)
            session.flush()
    except IntegrityError:
        raise LocationError(
            f"コード「{code}」か名前「{name}」は既に使われています", field="code"
        ) from None
    audit.record(
        session,
        actor=actor,
        action=AuditAction.LOCATION_CREATE,
        object_type="location",
        object_id=location.id,
        details={"code": code, "name": name},
    )
    return location


def _conflict(location: Location) -> str:
    state = "廃止" if not location.active else f"「{location.name}」に変更"
    return f"保管場所 {location.code} は他の操作で既に{state}されています。画面を開き直してください"


def rename_location(
    session: Session, *, actor: str, location: Location, name: str, expected_name: str
) -> bool:
    """Give ``location`` a new name, if it still has the name the admin saw
    (``expected_name``); returns False when the name is unchanged (nothing written)."""
    name = _checked_name(name)
    if name == expected_name:
        return False
    if _name_taken(session, name, other_than=location.id):
        raise LocationError(f"保管場所「{name}」は既にあります", field="name")
    try:
        with session.begin_nested():
            changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
                update(Location)
                .where(Location.id == location.id, Location.name == expected_name)
                .values(name=name)
                .execution_options(synchronize_session=False)
            ).rowcount
    except IntegrityError:
        raise LocationError(f"保管場所「{name}」は既にあります", field="name") from None
    session.refresh(location)
    if changed != 1:
        raise Conflict(_conflict(location))
    audit.record(
        session,
        actor=actor,
        action=AuditAction.LOCATION_CHANGE,
        object_type="location",
        object_id=location.id,
        details={"code": location.code, "before": {"name": expected_name}, "after": {"name": name}},
    )
    return True


def holds_items(session: Session, location_id: int) -> bool:
    """Whether any item is in custody at the location (only whether: admins see no counts)."""
    return bool(
        session.scalar(
            select(
                exists()
                .where(Envelope.location_id == location_id)
                .where(Item.envelope_id == Envelope.id)
                .where(Item.status == ItemStatus.IN_CUSTODY.value)
            )
        )
    )


def retire_location(session: Session, *, actor: str, location: Location) -> None:
    """Take an empty location out of use. The emptiness check is part of the ``UPDATE``."""
    if location.is_default:
        raise LocationError(
            f"保管場所「{location.name}」は既定の保管場所のため廃止できません", field="retire"
        )
    if not location.active:
        raise Conflict(_conflict(location))
    in_custody_here = (
        exists()
        .where(Envelope.location_id == location.id)
        .where(Item.envelope_id == Envelope.id)
        .where(Item.status == ItemStatus.IN_CUSTODY.value)
    )
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Location)
        .where(
            Location.id == location.id,
            Location.active.is_(True),
            Location.is_default.is_(False),
            ~in_custody_here,
        )
        .values(active=False)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(location)
    if changed != 1:
        if location.active and holds_items(session, location.id):
            raise LocationError(
                f"保管場所「{location.name}」には保管中の通知物があるため廃止できません。"
                "先に別の保管場所へ移してください",
                field="retire",
            )
        raise Conflict(_conflict(location))
    audit.record(
        session,
        actor=actor,
        action=AuditAction.LOCATION_RETIRE,
        object_type="location",
        object_id=location.id,
        details={"code": location.code, "name": location.name},
    )


def reactivate_location(session: Session, *, actor: str, location: Location) -> None:
    """Undo a retirement: the location is offered at intake and for moves again."""
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Location)
        .where(Location.id == location.id, Location.active.is_(False))
        .values(active=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(location)
    if changed != 1:
        raise Conflict(f"保管場所「{location.name}」は既に使用中です。画面を開き直してください")
    audit.record(
        session,
        actor=actor,
        action=AuditAction.LOCATION_CHANGE,
        object_type="location",
        object_id=location.id,
        details={"code": location.code, "before": {"active": False}, "after": {"active": True}},
    )
