"""``tracker purge [--dry-run] [--as-of DATE]`` (SPEC §7): erase personal data past its
keeping time, step by step (:mod:`tracker.services.purge`); prints one counts line.

The as-of date defaults to today in Japan and may not be after it (that would erase early):
such a run exits 1 and changes nothing.
"""

from __future__ import annotations

import click

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.cli.disposal import _parse_cli_date
from tracker.domain.codes import Role


@click.command("purge")
@click.option("--as-of", "as_of", help="Erase as of this day (ISO or 和暦); default today (JST).")
@click.option("--dry-run", is_flag=True, help="Count what would be erased; change nothing.")
@click.option("--actor", help="Audit actor (a records officer); default cli:<OS user>.")
@pass_state
def purge(state: CliState, as_of: str | None, dry_run: bool, actor: str | None) -> None:
    """Erase personal data past its keeping time: call-back numbers of past reservations, and
    the personal values of closed records past their retention (docs/record-retention.md)."""
    from tracker.clock import now_utc, today_jst
    from tracker.domain.wareki import format_wareki_with_iso
    from tracker.services import purge as purging
    from tracker.services.transitions import Conflict

    today = today_jst()
    day = _parse_cli_date(as_of, "--as-of") or today
    if day > today:
        fail(
            f"--as-of {format_wareki_with_iso(day)} は未来の日付です"
            f"（今日は {format_wareki_with_iso(today)}）。今日以前の日付を指定してください"
        )
    with state.database.session_scope() as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER])
        try:
            summary = purging.run(
                session, actor=actor_name, as_of=day, now=now_utc(), dry_run=dry_run
            )
        except Conflict as conflict:
            fail(f"{conflict}（何も変更していません。もう一度実行してください）")
    click.echo(summary.line())
