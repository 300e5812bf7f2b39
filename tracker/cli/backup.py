"""``tracker backup DEST`` and ``tracker restore SRC`` (SPEC §7; how it works: tracker/backup.py,
docs/deployment.md "Backups and restore")."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.domain.codes import Role


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--actor", help="Audit actor (an admin); default cli:<OS user>.")
@pass_state
def backup_command(state: CliState, dest: Path, actor: str | None) -> None:
    """Back up the database into the new or empty folder DEST (dump and manifest.json)."""
    from sqlalchemy.exc import SQLAlchemyError

    from tracker import backup

    try:
        with state.database.read_session() as session:
            actor_name = resolve_actor(session, actor, [Role.ADMIN])
        manifest = backup.backup(state.database.engine, dest)
        with state.database.session_scope() as session:
            backup.record_backup(session, actor=actor_name, manifest=manifest)
    except backup.BackupError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(f"データベースを読めません: {type(error).__name__}")
    head = manifest["audit_head"]
    click.echo(
        f"バックアップしました: {dest / manifest['dump']['file']}"
        f"（{manifest['dump']['size']:,} バイト、SHA-256 {manifest['dump']['sha256']}）"
    )
    click.echo(
        f"  行数: 通知物 {manifest['counts'].get('items', 0):,}件、監査ログ {head['seq']:,}件"
        f"（先頭 {head['seq']}:{head['hash']}）"
    )


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--actor", default=None, help="Audit actor of system.restore; default cli:<OS user>.")
@pass_state
def restore_command(state: CliState, src: Path, actor: str | None) -> None:
    """Restore the backup folder SRC into an empty database (TRACKER_DATABASE_URL), then
    verify row counts, the audit chain and its head, and the audit triggers."""
    from sqlalchemy.exc import SQLAlchemyError

    from tracker import backup
    from tracker.db import Database
    from tracker.services import audit

    url = state.config.database_url
    try:
        manifest = backup.restore(url, src)
        audit.use_digest_key(state.config.digest_key())
        database = Database(url)
        try:
            backup.verify_restored(database.engine, manifest)
            with database.session_scope() as session:
                # the restored users: --actor is checked against them
                actor_name = resolve_actor(session, actor, [Role.ADMIN])
                backup.record_restore(session, actor=actor_name, manifest=manifest)
        finally:
            database.dispose()
    except backup.BackupError as error:
        fail(str(error))
    except SQLAlchemyError as error:
        fail(f"復元先のデータベースを使えません: {type(error).__name__}: {error}")
    head = manifest["audit_head"]
    click.echo(
        f"復元しました: 行数 {len(manifest['counts'])} テーブル一致、監査ログ連鎖 正常"
        f"（先頭 {head['seq']}:{head['hash']}）、監査ログのトリガー 有効"
    )
