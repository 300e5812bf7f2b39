"""Re-mailing from the command line: ``close-remailed`` (issue 13), run daily by a scheduler.

Re-mailings mailed more than ``remail_close_days`` days (the office setting) before the as-of
date with no return are closed as delivered: the card is 再送付済. The as-of date may not be
after today in Japan (that would close re-mailings early); such a run exits 1 and changes nothing.
"""

from __future__ import annotations

import click

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.cli.disposal import _parse_cli_date
from tracker.domain.codes import Role


@click.command("close-remailed")
@click.option("--as-of", "as_of", help="Count from this day (ISO or 和暦); default today (JST).")
@click.option("--dry-run", is_flag=True, help="Count what would be closed; change nothing.")
@click.option("--actor", help="Audit actor (a records officer); default cli:<OS user>.")
@pass_state
def close_remailed(state: CliState, as_of: str | None, dry_run: bool, actor: str | None) -> None:
    """Close re-mailings past the setting's days without a return as delivered (再送付済)."""
    from tracker.clock import now_utc, today_jst
    from tracker.domain.wareki import format_wareki_with_iso
    from tracker.services import remailing, settings
    from tracker.services.transitions import Conflict

    today = today_jst()
    day = _parse_cli_date(as_of, "--as-of") or today
    if day > today:  # counting from a future day would close re-mailings before their time
        fail(
            f"--as-of {format_wareki_with_iso(day)} は未来の日付です"
            f"（今日は {format_wareki_with_iso(today)}）。今日以前の日付を指定してください"
        )
    with state.database.session_scope() as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER])
        days = settings.load(session).remail_close_days
        try:
            summary = remailing.close_due(
                session, actor=actor_name, as_of=day, days=days, now=now_utc(), dry_run=dry_run
            )
        except Conflict as conflict:
            fail(f"{conflict}（何も変更していません。もう一度実行してください）")
    click.echo(
        f"as_of={summary.as_of.isoformat()} days={summary.days} due={summary.due} "
        f"closed={summary.closed}{' dry_run' if dry_run else ''}"
    )
