"""Factories for notices (お知らせ, issue 15): two retention rules whose deadlines differ, and
many items logged in one session (a mailing of 1,000 letters needs 1,000 items quickly).

Rule A 「令和8年上期返戻分」 (months_after 12) covers returns 2026-01-01 … 2026-06-30: an item
returned in March 2026 is kept to 2027-03-31, one returned in May to 2027-05-31. Rule B
「お知らせ後3か月」 (period_from notice_sent_on, 3 months) covers 2026-07-01 … 2026-12-31: its
items have no deadline until a notice is sent (they are in the coverage gap before), and after
a sending on 2026-11-27 they are kept to 2027-02-27.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import Flask
from sqlalchemy import select

from tests import factories
from tests.factories import NOW, database_of
from tests.factories_rules import save
from tracker.db import Database
from tracker.domain.codes import ItemKind, ReturnReason, RuleKind
from tracker.domain.records import EnvelopeFields
from tracker.domain.retention import rule_from_fields
from tracker.models import Location
from tracker.services import intake

RULE_A = "令和8年上期返戻分"
RULE_B = "お知らせ後3か月"
#: Returns under rule A and the last day to collect they get.
RETURNED_A = (date(2026, 3, 5), date(2027, 3, 31))
RETURNED_A2 = (date(2026, 5, 20), date(2027, 5, 31))
#: A return under rule B, and its last day after a sending on TODAY (2026-11-27).
RETURNED_B = (date(2026, 8, 10), date(2027, 2, 27))
#: Tracking-number series of this area's envelopes.
SERIES = 8


def rules(target: Flask | Database) -> tuple[int, int]:
    """Save rules A and B (see the module docstring); their row ids."""
    a = save(
        target,
        rule_from_fields(
            RuleKind.MONTHS_AFTER, RULE_A, date(2026, 1, 1), date(2026, 6, 30), months=12
        ),
    )
    b = save(
        target,
        rule_from_fields(
            RuleKind.PERIOD_FROM,
            RULE_B,
            date(2026, 7, 1),
            date(2026, 12, 31),
            anchor="notice_sent_on",
            period_count=3,
            period_unit="months",
        ),
    )
    return a, b


def many(
    target: Flask | Database,
    returned: Sequence[date],
    *,
    start: int = 0,
    name: str = "通知 太郎",
    address: str = "〒860-0001 熊本県熊本市中央区千葉城町{n}-1",
    location: str | None = None,
) -> list[int]:
    """One envelope with one item per return date, numbered from ``start``: the item of
    envelope ``n`` is for ``{name}{n}`` at ``address`` (``{n}`` filled in), kept at the
    location with code ``location`` (default: the default location); their ids."""
    ids: list[int] = []
    with database_of(target).session_scope() as session:
        where = Location.code == location if location else Location.is_default.is_(True)
        location_id = session.scalar(select(Location.id).where(where))
        assert location_id is not None
        for offset, returned_on in enumerate(returned):
            n = start + offset
            person = f"{name}{n}"
            fields = EnvelopeFields(
                factories.tracking_no(n, SERIES),
                returned_on,
                ReturnReason.TENKYO_FUMEI,
                person,
                address.format(n=n),
                None,
                "",
                None,
            )
            logged = intake.log_envelope(
                session,
                actor="clerk1",
                fields=fields,
                location_id=location_id,
                items=[factories.item(person, "ツウチ タロウ", kind=ItemKind.NOTIFICATION_CARD)],
                now=NOW,
            )
            ids.extend(i.id for i in logged.items)
    return ids


def long_template(target: Flask | Database, extra_lines: int = 30) -> None:
    """A newer template version too long for a page, stored directly (as an older release,
    which did not check the length, might have saved it)."""
    from tracker.models import NoticeTemplate
    from tracker.services import notice_templates

    with database_of(target).session_scope() as session:
        current = notice_templates.current(session)
        assert current is not None
        body = notice_templates.DEFAULT_BODY.replace(
            "問い合わせ先", "追加の説明です。\n" * extra_lines + "問い合わせ先"
        )
        session.add(
            NoticeTemplate(version=current.version + 1, title="長い文面", body=body, created_by="t")
        )
