"""``tracker register-check``: resident-register results from a CSV file (SPEC §7.1)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.cli.imports import print_problems
from tracker.domain.codes import Role


@click.command("register-check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "cp932"]),
    default="auto",
    show_default=True,
    help="File encoding (auto: BOM → UTF-8 → CP932).",
)
@click.option("--actor", help="Audit actor (a records officer); default cli:<OS user>.")
@pass_state
def register_check(
    state: CliState, file: Path, dry_run: bool, encoding: str, actor: str | None
) -> None:
    """Record resident-register results (住基照合) from a CSV file (SPEC §7.1): all or nothing."""
    from tracker.clock import now_utc, today_jst
    from tracker.services import register

    with state.database.session_scope(read_first=True) as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER])
        settled = register.check_file(
            session,
            file,
            actor=actor_name,
            today=today_jst(),
            now=now_utc(),
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
    click.echo(
        f"{verb}: 新規 {report.new}件、変更 {report.changed}件、変更なし {report.unchanged}件"
        f"（文字コード {report.encoding}）",
        err=True,
    )
    click.echo(report.counts_line())
