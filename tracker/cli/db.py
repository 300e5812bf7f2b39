"""Schema commands: ``init-db`` (upgrade and seed the defaults) and the ``db`` group (Alembic
migrations shipped in tracker/migrations)."""

from __future__ import annotations

from typing import NoReturn

import click
from sqlalchemy.exc import DBAPIError

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.domain.codes import Role
from tracker.services import audit


@click.command("init-db")
@click.option("--actor", help="Audit actor (an admin); default cli:<OS user>.")
@click.option(
    "--app-role",
    metavar="NAME",
    help="PostgreSQL: create or update the login role the app connects as, with only the app's "
    "rights (SELECT and INSERT only on audit_events); run again after every upgrade.",
)
@click.option(
    "--app-password-stdin",
    is_flag=True,
    help="With --app-role: set its password from the first line of standard input.",
)
@pass_state
def init_db(
    state: CliState, actor: str | None, app_role: str | None, app_password_stdin: bool
) -> None:
    """Create or upgrade the schema and seed the default rule, locations and ID catalogue."""
    if app_password_stdin and app_role is None:
        raise click.UsageError("--app-password-stdin needs --app-role")
    if app_role is not None and state.database.dialect != "postgresql":
        fail("--app-role は PostgreSQL だけで使えます（SQLite にはロールがありません）")
    from tracker.schema import upgrade
    from tracker.services.seed import seed_defaults

    if actor is not None:  # refuse before changing anything (SPEC §7)
        from tracker.schema import current_revision

        if current_revision(state.database.engine) is None:
            fail(
                "--actor: データベースが未作成のため、ユーザーを確認できません"
                "（最初の init-db は --actor なしで実行してください）"
            )
        with state.database.session_scope() as session:
            resolve_actor(session, actor, [Role.ADMIN])
    upgrade(state.database.engine)
    with state.database.session_scope() as session:
        actor_name = actor or audit.cli_actor()
        added = seed_defaults(session, actor=actor_name)
    click.echo("データベースを最新の構成にしました。")
    for line in added:
        click.echo(f"  追加: {line}")
    if app_role is not None:
        _app_role(state, app_role, actor_name, app_password_stdin)


def _app_role(state: CliState, name: str, actor: str, password_stdin: bool) -> None:
    import sys

    from tracker.domain.codes import AuditAction
    from tracker.pgroles import RoleError, ensure_app_role

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("--app-password-stdin: 標準入力の1行目が空です")
    try:
        with state.database.session_scope() as session:
            done = ensure_app_role(session.connection(), name, password)
            audit.record(
                session,
                actor=actor,
                action=AuditAction.SYSTEM_APP_ROLE,
                object_type="db_role",
                object_id=name,
                details=done,
            )
    except RoleError as error:
        fail(str(error))
    except DBAPIError as error:
        fail(f"--app-role: ロールを設定できません（CREATEROLE の権限が要ります）: {error.orig}")
    verb = "作成" if done["created"] else "更新"
    click.echo(f"アプリ用ロール {name} を{verb}しました（audit_events は参照と追加のみ）。")


@click.group("db")
def db_group() -> None:
    """Schema migrations (Alembic, migrations shipped in tracker/migrations).

    Use these instead of plain ``alembic``, which has no configuration file here. ``tracker
    init-db`` is ``tracker db upgrade`` followed by seeding the defaults.
    """


def _alembic_failure(error: Exception) -> NoReturn:
    fail(f"マイグレーションを実行できません: {error}")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes (file name).")
@click.option(
    "--autogenerate",
    is_flag=True,
    help="Compare the models with the database (TRACKER_DATABASE_URL, at head) and write the "
    "differences; without it the upgrade and downgrade are empty.",
)
@pass_state
def db_revision(state: CliState, message: str, autogenerate: bool) -> None:
    """Write a new revision into tracker/migrations/versions (a draft to read and complete)."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.db import READ_ONLY
    from tracker.schema import new_revision

    try:
        engine = (
            state.database.engine.execution_options(**{READ_ONLY: True}) if autogenerate else None
        )
        path = new_revision(message, engine)
    except (CommandError, SQLAlchemyError) as error:
        _alembic_failure(error)
    click.echo(f"作成しました: {path}")


@db_group.command("upgrade")
@click.argument("revision", default="head")
@pass_state
def db_upgrade(state: CliState, revision: str) -> None:
    """Upgrade the schema to REVISION (default: head). Seeds nothing: see init-db."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.schema import current_revision, upgrade

    try:
        before = current_revision(state.database.engine)
        upgrade(state.database.engine, revision)
        after = current_revision(state.database.engine)
    except (CommandError, SQLAlchemyError) as error:
        _alembic_failure(error)
    click.echo(f"{before or 'なし'} → {after or 'なし'}")


@db_group.command("downgrade", context_settings={"ignore_unknown_options": True})  # -1
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def db_downgrade(state: CliState, revision: str, yes: bool) -> None:
    """Downgrade the schema to REVISION (e.g. 0006, -1, or base).

    A downgrade drops what later revisions added, with its data; ``base`` drops every table,
    the audit log too. For development and for undoing a failed deployment on a copy.
    """
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.schema import current_revision, downgrade

    try:
        before = current_revision(state.database.engine)
        if not yes:
            click.confirm(
                f"{before or 'なし'} から {revision} に戻します。後のリビジョンが追加した"
                "テーブル・列とそのデータは失われます。続けますか",
                abort=True,
                err=True,
            )
        downgrade(state.database.engine, revision)
        after = current_revision(state.database.engine)
    except (CommandError, SQLAlchemyError) as error:
        _alembic_failure(error)
    click.echo(f"{before or 'なし'} → {after or 'なし'}")


@db_group.command("current")
@pass_state
def db_current(state: CliState) -> None:
    """The database's revision, and whether it is the head."""
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.schema import current_revision, head_revision

    try:
        current = current_revision(state.database.engine)
    except SQLAlchemyError as error:
        fail(f"データベースに接続できません: {type(error).__name__}")
    head = head_revision()
    if current is None:
        click.echo("なし（未作成: tracker init-db を実行してください）")
    elif current == head:
        click.echo(f"{current} (head)")
    else:
        click.echo(f"{current}（最新は {head}: tracker db upgrade で更新できます）")


@db_group.command("heads")
def db_heads() -> None:
    """The newest revision(s) of the migrations shipped with this version (no database)."""
    from tracker.schema import head_revisions

    heads = head_revisions()
    for head in heads:
        click.echo(head)
    if len(heads) > 1:
        click.echo("注意: head が複数あります。マージするリビジョンが必要です", err=True)
