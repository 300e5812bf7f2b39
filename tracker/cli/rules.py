"""``tracker rules export|import``: retention rules as JSON (SPEC §3; docs/rules-format.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.domain.codes import Role


@click.group("rules")
def rules_group() -> None:
    """Retention rules (廃棄基準) as JSON."""


@rules_group.command("export")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (default stdout).",
)
@pass_state
def export(state: CliState, output: Path | None) -> None:
    """Every retention rule, in window order, as JSON (UTF-8)."""
    from tracker.services import rules_exchange

    with state.database.read_session() as session:
        data = rules_exchange.export_rules(session)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(data['rules'])}件の廃棄基準を {output} に書き出しました", err=True)


@rules_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--actor", help="Audit actor (a records officer); default cli:<OS user>.")
@pass_state
def import_(state: CliState, file: Path, dry_run: bool, actor: str | None) -> None:
    """Create or change the rules of FILE (matched by label), all or nothing."""
    from tracker.services import rules_exchange

    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        fail(f"{file}: JSON として読めません（{error}）")
    with state.database.session_scope() as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER])
        report = rules_exchange.import_rules(session, data, actor=actor_name, dry_run=dry_run)
        if report.errors:
            session.rollback()
            for problem in report.errors:
                click.echo(f"エラー: {problem}", err=True)
            fail("廃棄基準は1件も取り込んでいません")
        if dry_run:
            session.rollback()
    done = "確認のみ（書き込みなし）: " if dry_run else ""
    click.echo(
        f"{done}新規 {len(report.created)}件、変更 {len(report.changed)}件、"
        f"変更なし {len(report.unchanged)}件"
    )
