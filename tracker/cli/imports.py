"""``tracker import``: the bulk CSV import (SPEC §6.4) and its report on the terminal."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.domain.codes import Role


@click.command("import")
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
def import_file(
    state: CliState, file: Path, dry_run: bool, encoding: str, actor: str | None
) -> None:
    """Import returned envelopes and items from a CSV file (SPEC §6.4): all or nothing."""
    from tracker.clock import now_utc, today_jst
    from tracker.logs import configure_logging
    from tracker.services import importer

    # The phase timings (INFO) on stderr: where a slow import spends its time.
    configure_logging("json" if os.environ.get("TRACKER_LOG_FORMAT") == "json" else "text")
    progress = _progress_printer("行を検証しました")
    # One unit of work; read-first: SQLite's write lock only for the checks and inserts.
    with state.database.session_scope(read_first=True) as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER])
        settled = importer.import_file(
            session,
            file,
            actor=actor_name,
            today=today_jst(),
            now=now_utc(),
            encoding=encoding,
            dry_run=dry_run,
            progress=progress,
        )
    if settled.report is None:
        fail(f"{file}: {settled.refusal}")
    report = settled.report
    _print_import_report(file, report)
    if not report.ok:
        sys.exit(1)


def _progress_printer(what: str):  # type: ignore[no-untyped-def]
    """Progress on stderr for long work, only when someone is watching a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(count: int) -> None:
        if count % 100_000 < 5000:
            click.echo(f"\r{count:,} {what}…", err=True, nl=False)

    return show


def print_problems(file: Path, report) -> None:  # type: ignore[no-untyped-def]
    """Warnings, errors and ignored columns on stderr, one line each: ``エラー: FILE: 3行目、
    列「異動日」、値「…」: reason`` (``tracker register-check`` prints the same)."""
    for problem in report.warnings:
        click.echo(f"警告: {file}: {problem}", err=True)
    if report.warning_count > len(report.warnings):
        click.echo(f"警告: ほか {report.warning_count - len(report.warnings)} 件", err=True)
    for problem in report.errors:
        click.echo(f"エラー: {file}: {problem}", err=True)
    if report.error_count > len(report.errors):
        click.echo(f"エラー: ほか {report.error_count - len(report.errors)} 件", err=True)
    if report.ignored_columns:
        click.echo(f"注意: 使わない列を無視しました: {'、'.join(report.ignored_columns)}", err=True)


def _print_import_report(file: Path, report) -> None:  # type: ignore[no-untyped-def]
    print_problems(file, report)
    if not report.ok:
        click.echo(
            f"取込を中止しました: {report.error_count}件のエラー（{report.rows}行を検証）。"
            "何も書き込んでいません",
            err=True,
        )
        return
    verb = "検証のみ（書き込みなし）" if report.dry_run else "取込完了"
    click.echo(
        f"{verb}: 通知物 {report.items}件、封筒 {report.envelopes}件、"
        f"重複 {report.duplicates}件、警告 {report.warning_count}件（文字コード {report.encoding}）"
        + (f"、再送付分の返戻 {report.remail_returns}件" if report.remail_returns else "")
    )
    click.echo(report.counts_line())
