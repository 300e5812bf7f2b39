"""``tracker doctor``: is this installation set up to keep its records safe? (issue 17)

Prints the database (kind, URL without its password), the settings that decide whether a
commit survives a crash (SQLite's pragmas, PostgreSQL's fsync, synchronous_commit and
full_page_writes), the migration state, the PDF fonts, the permissions of the instance folder
and of the files that must stay private (the audit digest key, the secret key, the SQLite
file), and the head of the audit chain. Exit 0 when all is well, 1 with the problems listed.
Read only: it creates nothing (not even a missing key file) and takes no lock for long.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.engine import URL, make_url

from tracker.cli.common import CliState, pass_state
from tracker.config import DEFAULT_INSTANCE_PATH
from tracker.db import Database, durability_settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class _Report:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def line(self, text: str) -> None:
        click.echo(text)

    def check(self, text: str, ok: bool, problem: str) -> None:
        click.echo(f"{text}  {'OK' if ok else '問題'}")
        if not ok:
            self.problems.append(problem)


@click.command("doctor")
@pass_state
def doctor(state: CliState) -> None:
    """Check the database, durability settings, migrations, fonts, permissions, audit head."""
    report = _Report()
    config = state.config
    url = make_url(config.database_url)
    shown = url._replace(password=None).render_as_string(hide_password=False)
    report.line(f"データベース: {url.get_backend_name()}  {shown}")
    database = Database(config.database_url)
    try:
        _database_checks(report, database)
    finally:
        database.dispose()
    _font_checks(report)
    _permission_checks(report, config.audit_key_file, url)
    if report.problems:
        click.echo(f"\n問題が {len(report.problems)} 件あります:")
        for problem in report.problems:
            click.echo(f"  - {problem}")
        sys.exit(1)
    click.echo("\n問題はありません")


def _database_checks(report: _Report, database: Database) -> None:
    from tracker.models import AuditEvent
    from tracker.schema import current_revision, head_revision

    try:
        settings = durability_settings(database.engine)
    except Exception as error:  # noqa: BLE001 — the report says what failed
        report.check(
            "  接続",
            False,
            f"データベースに接続できません（{type(error).__name__}）。"
            "TRACKER_DATABASE_URL とサーバーの状態を確かめてください",
        )
        return
    for setting in settings:
        report.check(
            f"  {setting.name} = {setting.value}",
            setting.ok,
            f"{setting.name} が {setting.value} です（{setting.expected} にしてください。"
            "オフではクラッシュや停電でコミット済みの記録を失うおそれがあります）",
        )
    current, head = current_revision(database.engine), head_revision()
    report.check(
        f"マイグレーション: 現在 {current or '未作成'}、最新 {head}",
        current == head,
        f"データベースのマイグレーションが最新ではありません（現在 {current or '未作成'}、"
        f"最新 {head}）。tracker init-db を実行してください",
    )
    if current is None:
        return
    with database.read_session() as session:
        row = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
    if row is None:
        report.line("監査ログの先頭: まだ記録がありません")
    else:
        report.line(f"監査ログの先頭: seq {row.seq}  hash {row.hash}")


def _font_checks(report: _Report) -> None:
    from tracker.pdf.fonts import font_inventory

    report.line("PDF用フォント:")
    for font in font_inventory():
        if font.path is not None:
            report.line(f"  {font.name}  {font.path}  OK")
        elif font.required:
            report.check(
                f"  {font.name}  見つかりません",
                False,
                f"PDF用フォント {font.name} がありません（Debian パッケージ"
                f" {font.debian_package} を入れるか TRACKER_FONT_DIR を設定してください）",
            )
        else:
            report.line(f"  {font.name}  なし（任意: {font.debian_package}）")


def _permission_checks(report: _Report, key_file: Path, url: URL) -> None:
    instance = Path(os.environ.get("TRACKER_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)
    if instance.is_dir():
        mode = _mode(instance)
        report.check(
            f"インスタンスフォルダ: {instance}  {mode:04o}",
            not mode & 0o022,
            f"インスタンスフォルダ {instance} を他のユーザーが書き換えられます（{mode:04o}）。"
            f"chmod 700 {instance} にしてください",
        )
    else:
        report.line(f"インスタンスフォルダ: {instance}  なし")
    if key_file.is_file():
        mode = _mode(key_file)
        report.check(
            f"監査鍵ファイル: {key_file}  {mode:04o}",
            not mode & 0o077,
            f"監査鍵ファイル {key_file} を他のユーザーが読めます（{mode:04o}）。"
            f"chmod 600 {key_file} にしてください",
        )
    else:
        report.check(
            f"監査鍵ファイル: {key_file}  見つかりません",
            False,
            f"監査鍵ファイル {key_file} がありません（TRACKER_AUDIT_KEY_FILE を確かめてください。"
            "バックアップから戻すまで監査ログの照合ができません）",
        )
    private = [instance / "secret_key"]
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        private.append(Path(str(url.database)))
    for path in private:
        if path.is_file():
            mode = _mode(path)
            report.check(
                f"非公開ファイル: {path}  {mode:04o}",
                not mode & 0o077,
                f"{path} を他のユーザーが読めます（{mode:04o}）。chmod 600 {path} にしてください",
            )
