"""``tracker slots import``: a season's pickup days and slots from a CSV file (issue 15)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.cli.imports import print_problems
from tracker.domain.codes import Role


@click.group("slots")
def slots_group() -> None:
    """受取予約日・予約枠 (pickup days and slots)."""


@slots_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option("--location", "location", help="Location code; default the default location.")
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "cp932"]),
    default="auto",
    show_default=True,
    help="File encoding (auto: BOM → UTF-8 → CP932).",
)
@click.option("--actor", help="Audit actor (a records officer); default cli:<OS user>.")
@pass_state
def slots_import(
    state: CliState,
    file: Path,
    dry_run: bool,
    location: str | None,
    encoding: str,
    actor: str | None,
) -> None:
    """Open pickup days from a CSV file (date,start,end,slot_minutes,capacity,breaks): all or
    nothing. Prints ``days=N slots=N places=N``."""
    from tracker.clock import now_utc, today_jst
    from tracker.services import slot_import

    with state.database.session_scope(read_first=True) as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER])
        settled = slot_import.import_file(
            session,
            file,
            actor=actor_name,
            today=today_jst(),
            now=now_utc(),
            location_code=location,
            encoding=encoding,
            dry_run=dry_run,
        )
    if settled.report is None:
        fail(f"{file}: {settled.refusal}")
    report = settled.report
    print_problems(file, report)
    if not report.ok:
        click.echo(
            f"取込を中止しました: {file}: {report.error_count}件のエラー（{report.rows}行を検証）。"
            "何も書き込んでいません",
            err=True,
        )
        sys.exit(1)
    verb = "検証のみ（書き込みなし）" if report.dry_run else "取込完了"
    click.echo(f"{verb}: 保管場所 {report.location}（文字コード {report.encoding}）", err=True)
    click.echo(report.counts_line())
