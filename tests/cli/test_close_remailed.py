"""``tracker close-remailed`` (issue 13): closes re-mailings past N days as of the date given,
prints one counts line, is idempotent, and checks --actor."""

from __future__ import annotations

from datetime import timedelta

from tests import factories
from tests.cli.test_cli import invoke
from tests.factories import TODAY
from tests.factories_remail import mailed_days_ago
from tracker.clock import today_jst
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.domain.wareki import format_wareki_with_iso
from tracker.models import Item


def statuses(database: Database, ids: list[int]) -> list[str]:
    with database.session_scope() as session:
        return [session.get(Item, i).status for i in ids]  # type: ignore[union-attr]


def test_close_remailed_as_of_a_date_closes_those_past_30_days_once(database_url: str) -> None:
    database = Database(database_url)
    old = factories.envelope(database, 1)[0]
    recent = factories.envelope(database, 2)[0]
    mailed_days_ago(database, old, 1, 31)
    mailed_days_ago(database, recent, 2, 30)
    factories.user(database, Role.RECORDS_OFFICER)
    factories.user(database, Role.CLERK)
    as_of = TODAY.isoformat()

    dry = invoke(database_url, "close-remailed", "--as-of", as_of, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() == f"as_of={as_of} days=30 due=1 closed=0 dry_run"
    assert statuses(database, [old, recent]) == ["remailed", "remailed"]

    refused = invoke(database_url, "close-remailed", "--as-of", as_of, "--actor", "clerk1")
    assert refused.exit_code == 1
    assert "--actor" in refused.output

    done = invoke(database_url, "close-remailed", "--as-of", as_of, "--actor", "records-officer1")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"as_of={as_of} days=30 due=1 closed=1"
    assert statuses(database, [old, recent]) == ["redelivered", "remailed"]

    again = invoke(database_url, "close-remailed", "--as-of", as_of)
    assert again.output.strip() == f"as_of={as_of} days=30 due=0 closed=0"
    assert statuses(database, [old, recent]) == ["redelivered", "remailed"]

    bad = invoke(database_url, "close-remailed", "--as-of", "2026-02-30")
    assert bad.exit_code == 2
    database.dispose()


def test_an_as_of_date_after_today_in_japan_is_refused(database_url: str) -> None:
    """Counting from tomorrow would close re-mailings a day early. Today is the date in Japan
    (the pinned test clock at 23:30 UTC is already tomorrow there)."""
    database = Database(database_url)
    today = today_jst()
    item = factories.envelope(database, 1)[0]
    mailed_days_ago(database, item, 1, (TODAY - today).days + 30)  # due from tomorrow (JST)
    tomorrow = today + timedelta(days=1)

    early = invoke(database_url, "close-remailed", "--as-of", tomorrow.isoformat())
    assert early.exit_code == 1, early.output
    assert f"--as-of {format_wareki_with_iso(tomorrow)} は未来の日付です" in early.output
    assert statuses(database, [item]) == ["remailed"]

    on_time = invoke(database_url, "close-remailed", "--as-of", today.isoformat(), "--dry-run")
    assert on_time.exit_code == 0, on_time.output
    assert on_time.output.strip() == f"as_of={today.isoformat()} days=30 due=0 closed=0 dry_run"
    database.dispose()
