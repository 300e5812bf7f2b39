"""Synthetic demo data (``tracker demo-data``). Nothing here is real personal data."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from tracker.domain.codes import Role
from tracker.services import accounts, importer
from tracker.synthetic import generate_rows, write_csv

#: About 470 envelopes (households of 1-6) returned 2016-2021, every return reason.
DEMO_ROWS = 1000
DEMO_SEED = 2018

DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("clerk", "窓口 花子", Role.CLERK),
    ("officer", "記録 太郎", Role.RECORDS_OFFICER),
    ("officer2", "記録 次郎", Role.RECORDS_OFFICER),
    ("auditor", "監査 一郎", Role.AUDITOR),
    ("admin", "管理 三郎", Role.ADMIN),
)


def create_demo_users(
    session: Session, hasher: PasswordHasher, *, actor: str
) -> list[tuple[str, str, str]]:
    """One user per role (two officers, for four-eyes approval); returns name, role, password."""
    credentials = []
    for username, display_name, role in DEMO_USERS:
        password = accounts.generate_password(username, display_name)
        accounts.create_user(
            session,
            hasher,
            actor=actor,
            username=username,
            role=role,
            password=password,
            display_name=display_name,
        )
        credentials.append((username, role.value, password))
    return credentials


def create_demo_returns(
    session: Session, *, actor: str, today: date, now: datetime, rows: int = DEMO_ROWS
) -> importer.ImportReport:
    """Returned envelopes from the synthetic generator, through the real import path."""
    with tempfile.TemporaryDirectory(prefix="tracker-demo-") as folder:
        path = Path(folder) / "demo.csv"
        write_csv(path, generate_rows(rows, DEMO_SEED), encoding="utf-8", header="ja")
        report = importer.run_import(session, path, actor=actor, today=today, now=now)
    if not report.committed:
        problems = "; ".join(str(p) for p in report.errors[:3])
        raise RuntimeError(f"demo data did not import: {problems}")
    return report


def create_demo_rules(session: Session, *, actor: str) -> int:
    """Fiscal-year rules (k = 1, as Kumamoto's) for the demo's other return years, so that
    disposal screens have something to show; FY2018 keeps the SPEC's seed rule."""
    from tracker.domain.codes import RuleKind
    from tracker.domain.retention import rule_from_fields
    from tracker.services.retention import load_rules, save_rule

    existing = {stored.rule.label for stored in load_rules(session)}
    added = 0
    for year in (2015, 2016, 2017, 2019, 2020, 2021):
        era = "平成" if year < 2019 else "令和"
        number = year - 1988 if year < 2019 else year - 2018
        label = f"{era}{'元' if number == 1 else number}年度返戻分"
        if label in existing:
            continue
        rule = rule_from_fields(
            RuleKind.FISCAL_YEAR, label, date(year, 4, 1), date(year + 1, 3, 31), years=1
        )
        save_rule(
            session, actor=actor, rule=rule, kind=RuleKind.FISCAL_YEAR, parameters={"years": 1}
        )
        added += 1
    return added


#: How many cards in custody get a resident-register result in the demo, and which: most are
#: still registered at the address (so the 実態調査依頼一覧 has rows), a few moved or died.
DEMO_REGISTER_RESULTS = 40


def create_demo_register_results(
    session: Session, *, actor: str, today: date, now: datetime
) -> int:
    """Resident-register results (住基照合) for some demo cards, entered as a records officer
    would on the item page; the number recorded."""
    from datetime import timedelta

    from sqlalchemy import select

    from tracker.domain.codes import ItemStatus, RegisterOutcome
    from tracker.domain.register import RegisterEntry
    from tracker.models import Item
    from tracker.services import register

    items = session.scalars(
        select(Item)
        .where(Item.status == ItemStatus.IN_CUSTODY.value)
        .order_by(Item.id.desc())
        .limit(DEMO_REGISTER_RESULTS)
    ).all()
    cycle = [RegisterOutcome.RESIDENT] * 5 + [
        RegisterOutcome.MOVED_OUT,
        RegisterOutcome.MOVED_WITHIN,
        RegisterOutcome.DECEASED,
    ]
    for n, item in enumerate(items):
        outcome = cycle[n % len(cycle)]
        event_on = None if outcome is RegisterOutcome.RESIDENT else today - timedelta(days=30 + n)
        register.record(
            session,
            item=item,
            entry=RegisterEntry(outcome, event_on, None),
            checked_on=today,
            actor=actor,
            now=now,
        )
    return len(items)


#: The demo opens this many coming weekends for pickup by reservation (issue 15).
DEMO_PICKUP_WEEKENDS = 4


def create_demo_pickup_days(
    session: Session,
    *,
    actor: str,
    today: date,
    now: datetime,
    weekends: int = DEMO_PICKUP_WEEKENDS,
) -> int:
    """Open the Saturdays and Sundays of the coming ``weekends`` (after ``today``) at the
    default location with the seed's weekend pattern; days already open are left alone."""
    from tracker.domain.pickup import seed_weekend_slots
    from tracker.services import pickup

    location = pickup.default_location(session)
    if location is None:
        return 0
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    opened = 0
    for week in range(weekends):
        for day in (saturday + timedelta(weeks=week), saturday + timedelta(weeks=week, days=1)):
            if day <= today or pickup.day_at(session, day, location.id) is not None:
                continue
            pickup.open_day(
                session,
                actor=actor,
                day=day,
                location=location,
                slots=seed_weekend_slots(),
                note=None,
                now=now,
            )
            opened += 1
    return opened
