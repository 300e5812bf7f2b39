"""``tracker id-policy export|import``: the identity policy as JSON (SPEC §4;
docs/identity-policy.md). A prefecture can hand every city the same catalogue and rule."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.domain.codes import Role


@click.group("id-policy")
def id_policy_group() -> None:
    """The identity policy (本人確認の基準) as JSON."""


@id_policy_group.command("export")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (default stdout).",
)
@pass_state
def export(state: CliState, output: Path | None) -> None:
    """The current version of the identity policy as JSON (UTF-8)."""
    from tracker.domain.identity import PolicyError
    from tracker.services import identity_policy

    with state.database.read_session() as session:
        try:
            version, data = identity_policy.export_policy(session)
        except PolicyError as error:
            fail(str(error))
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"本人確認の基準 第{version}版を {output} に書き出しました", err=True)


@id_policy_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option("--actor", help="Audit actor (a records officer); default cli:<OS user>.")
@click.option("--note", help="Why (recorded with the version); default names the file.")
@pass_state
def import_(
    state: CliState, file: Path, dry_run: bool, actor: str | None, note: str | None
) -> None:
    """Store FILE as one new version of the identity policy, all or nothing."""
    from tracker.domain.errors import InputError
    from tracker.domain.identity import PolicyError
    from tracker.domain.records import check_free_text
    from tracker.services import identity_policy

    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        fail(f"{file}: JSON として読めません（{error}）")
    try:
        text = check_free_text(
            note or f"ファイルから取り込み（{file.name}）",
            "note",
            required=True,
            label="変更の理由",
        )
    except InputError as error:
        fail(str(error))
    with state.database.session_scope() as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER])
        try:
            saved = identity_policy.import_policy(session, data, actor=actor_name, note=text)
        except PolicyError as error:
            session.rollback()
            for problem in error.problems:
                click.echo(f"エラー: {problem}", err=True)
            fail("本人確認の基準は取り込んでいません")
        if dry_run:
            session.rollback()
    if saved is None:
        click.echo("変更はありません（現在の版と同じ内容です）")
    elif dry_run:
        click.echo(f"確認のみ（書き込みなし）: 第{saved.version}版として取り込めます")
    else:
        click.echo(f"本人確認の基準を第{saved.version}版として取り込みました")
