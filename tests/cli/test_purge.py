"""``tracker purge [--dry-run] [--as-of DATE]`` (SPEC §7, issue 15): exit codes, the counts
line, the dry run, --actor, and the boundary (a slot yesterday keeps its number)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import select

from tests import factories
from tests.cli.test_cli import invoke
from tests.factories import TODAY
from tests.factories_life import row_of
from tests.factories_purge import closed, person
from tests.services.test_disposal import EXECUTION
from tests.services.test_purge import RECORDS_LINE, phones, setup
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.domain.record_retention import PLACEHOLDER, PLACEHOLDER_BIRTH_DATE
from tracker.models import DisposalBatch, Item
from tracker.services import disposal, stats


def test_tracker_purge_command(database_url: str) -> None:
    database = Database(database_url)
    ids = setup(database)
    factories.user(database, Role.RECORDS_OFFICER)
    factories.user(database, Role.CLERK)
    as_of = TODAY.isoformat()

    dry = invoke(database_url, "purge", "--as-of", as_of, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() == f"as_of={as_of} reservation_phones=2 {RECORDS_LINE} dry_run"
    assert None not in phones(database).values()

    refused = invoke(database_url, "purge", "--as-of", as_of, "--actor", "clerk1")
    assert refused.exit_code == 1 and "--actor" in refused.output
    assert None not in phones(database).values()

    future = invoke(database_url, "purge", "--as-of", "2100-01-01")
    assert future.exit_code == 1 and "未来の日付" in future.output

    bad = invoke(database_url, "purge", "--as-of", "2026-02-30")
    assert bad.exit_code == 2
    assert invoke(database_url, "purge", "--no-such-option").exit_code == 2

    done = invoke(database_url, "purge", "--as-of", as_of, "--actor", "records-officer1")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"as_of={as_of} reservation_phones=2 {RECORDS_LINE}"
    assert phones(database)[ids["yesterday"]] == "09012345678"
    assert phones(database)[ids["day_before_yesterday"]] is None

    as_of_yesterday = (TODAY - timedelta(days=1)).isoformat()
    again = invoke(database_url, "purge", "--as-of", as_of_yesterday)
    assert again.output.strip() == f"as_of={as_of_yesterday} reservation_phones=0 {RECORDS_LINE}"
    database.dispose()


def test_the_default_as_of_is_today_in_japan(database_url: str) -> None:
    database = Database(database_url)
    # the clock held still, so that "today in Japan" cannot change between the two readings
    with time_machine.travel(datetime(2026, 11, 30, 15, 0, 30, tzinfo=UTC), tick=False):
        result = invoke(database_url, "purge", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"as_of=2026-12-01 reservation_phones=0 {RECORDS_LINE} dry_run"
    database.dispose()


def test_purge_as_of_2031_keeps_the_chain_certificates_and_figures(
    database_url: str, tmp_path: Path
) -> None:
    """Issue 16's Must show: closed items past their five years become placeholders, open
    items stay as they were, the audit chain and an issued certificate still verify, and the
    dashboard's figures do not move."""
    database = Database(database_url)
    factories.user(database, Role.RECORDS_OFFICER)
    batch_id = factories.batch(database, 2, approved_by="officer2", executed=EXECUTION)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        certificate = tmp_path / "certificate.pdf"
        certificate.write_bytes(disposal.certificate_pdf(session, batch))
    handed_2025 = closed(database, 11, on=date(2025, 6, 1))
    handed_eve = closed(database, 12, on=date(2025, 12, 31))
    kept_2026 = closed(database, 13, on=date(2026, 1, 1))
    in_custody = person(database, 14, on=date(2025, 6, 1))
    as_of = date(2031, 1, 1)
    with database.session_scope() as session:
        figures = stats.dashboard(session, as_of)
        untouched = {i: row_of(session, i) for i in (kept_2026.item_id, in_custody.item_id)}

    with time_machine.travel(datetime(2031, 1, 1, 3, 0, tzinfo=UTC), tick=False):
        done = invoke(database_url, "purge", "--as-of", "2031-01-01", "--actor", "records-officer1")
    assert done.exit_code == 0, done.output
    assert " items=2 envelopes=2 " in done.output

    with database.session_scope() as session:
        for who in (handed_2025, handed_eve):
            row = row_of(session, who.item_id)
            assert (row["name"], row["name_kana"], row["birth_date"]) == (
                PLACEHOLDER,
                PLACEHOLDER,
                PLACEHOLDER_BIRTH_DATE,
            )
            assert row["status"] == "handed_over" and row["control_no"]
        assert {i: row_of(session, i) for i in untouched} == untouched
        # the destroyed items of 2026 are not five years old yet
        assert (
            PLACEHOLDER
            not in session.scalars(select(Item.name).where(Item.status == "destroyed")).all()
        )
        assert stats.dashboard(session, as_of) == figures

    chain = invoke(database_url, "audit-verify")
    assert chain.exit_code == 0, chain.output
    verified = invoke(database_url, "certificate-verify", str(certificate))
    assert verified.exit_code == 0, verified.output
    database.dispose()
