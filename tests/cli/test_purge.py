"""``tracker purge [--dry-run] [--as-of DATE]`` (SPEC §7, issue 15): exit codes, the counts
line, the dry run, --actor, and the boundary (a slot yesterday keeps its number)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from tests import factories
from tests.cli.test_cli import invoke
from tests.factories import TODAY
from tests.services.test_purge import phones, setup
from tracker.db import Database
from tracker.domain.codes import Role


def test_tracker_purge_command(database_url: str) -> None:
    database = Database(database_url)
    ids = setup(database)
    factories.user(database, Role.RECORDS_OFFICER)
    factories.user(database, Role.CLERK)
    as_of = TODAY.isoformat()

    dry = invoke(database_url, "purge", "--as-of", as_of, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() == f"as_of={as_of} reservation_phones=2 dry_run"
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
    assert done.output.strip() == f"as_of={as_of} reservation_phones=2"
    assert phones(database)[ids["yesterday"]] == "09012345678"
    assert phones(database)[ids["day_before_yesterday"]] is None

    as_of_yesterday = (TODAY - timedelta(days=1)).isoformat()
    again = invoke(database_url, "purge", "--as-of", as_of_yesterday)
    assert again.output.strip() == f"as_of={as_of_yesterday} reservation_phones=0"
    database.dispose()


def test_the_default_as_of_is_today_in_japan(database_url: str) -> None:
    database = Database(database_url)
    # the clock held still, so that "today in Japan" cannot change between the two readings
    with time_machine.travel(datetime(2026, 11, 30, 15, 0, 30, tzinfo=UTC), tick=False):
        result = invoke(database_url, "purge", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "as_of=2026-12-01 reservation_phones=0 dry_run"
    database.dispose()
