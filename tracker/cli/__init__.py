"""The ``tracker`` command line (SPEC §7, a contract).

Exit codes: 0 success, 1 domain refusal or invalid input (message on stderr saying what and
where), 2 usage error (click's own). Each command commits once, at its end.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Config
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.models import User
from tracker.services import accounts, audit


@dataclass
class CliState:
    """Built lazily so ``tracker --help`` needs no database."""

    _config: Config | None = None
    _database: Database | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config.from_env()
        return self._config

    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = Database(self.config.database_url)
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None


def fail(message: str) -> NoReturn:
    """A refusal: message on stderr, exit 1 (SPEC §7)."""
    click.echo(f"エラー: {message}", err=True)
    sys.exit(1)


def resolve_actor(session: Session, username: str | None, allowed: Iterable[Role]) -> str:
    """``--actor USER`` must name an active user whose role may run the command (SPEC §7)."""
    if username is None:
        return audit.cli_actor()
    # Only these columns: init-db checks the actor before upgrading an older schema.
    user = session.execute(
        select(User.username, User.role, User.active).where(User.username == username)
    ).first()
    if user is None or not user.active:
        fail(f"--actor: 有効なユーザー「{username}」が見つかりません")
    allowed_values = {role.value for role in allowed}
    if user.role not in allowed_values:
        fail(
            f"--actor: ユーザー「{username}」の役割（{user.role}）ではこの操作はできません"
            f"（許可される役割: {', '.join(sorted(allowed_values))}）"
        )
    name: str = user.username
    return name


pass_state = click.make_pass_decorator(CliState)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tracker")
@click.pass_context
def main(ctx: click.Context) -> None:
    """返戻通知カード保管管理 (tracker). The database is TRACKER_DATABASE_URL."""
    ctx.obj = CliState()
    ctx.call_on_close(ctx.obj.close)


@main.command("init-db")
@click.option("--actor", help="Audit actor (an admin); default cli:<OS user>.")
@pass_state
def init_db(state: CliState, actor: str | None) -> None:
    """Create or upgrade the schema and seed the default rule, locations and ID catalogue."""
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


@main.command("create-user")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="clerk | records_officer | auditor | admin",
)
@click.option("--display-name", help="Name shown in the UI (default: NAME).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--actor", help="Audit actor (an admin); default cli:<OS user>.")
@pass_state
def create_user(
    state: CliState,
    name: str,
    role: str,
    display_name: str | None,
    password_stdin: bool,
    actor: str | None,
) -> None:
    """Add a user. Without --password-stdin a random password is generated and printed once."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = accounts.generate_password(name, display_name)
        generated = True
    from tracker.services.accounts import make_hasher

    hashing = state.config.password_hashing
    hasher = make_hasher(hashing.time_cost, hashing.memory_cost, hashing.parallelism)
    try:
        with state.database.session_scope() as session:
            actor_name = resolve_actor(session, actor, [Role.ADMIN])
            user = accounts.create_user(
                session,
                hasher,
                actor=actor_name,
                username=name,
                role=Role(role),
                password=password,
                display_name=display_name,
            )
            username = user.username
    except accounts.AccountError as refusal:
        fail(str(refusal))
    click.echo(f"ユーザー「{username}」（{Role(role).label_ja}）を作成しました。")
    if generated:
        click.echo(f"初期パスワード: {password}")


@main.command("import")
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
    from tracker.services import importer

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


def _print_import_report(file: Path, report) -> None:  # type: ignore[no-untyped-def]
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
    )
    click.echo(report.counts_line())


def _parse_cli_date(value: str | None, option: str) -> date | None:
    from tracker.domain.errors import InputError
    from tracker.domain.wareki import parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except InputError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


DISPOSAL_LIST_KEYS = (
    "tracking_no",
    "name",
    "birth_date",
    "return_date",
    "rule",
    "control_no",
    "retain_until",
)


@main.command("disposal-list")
@click.option("--as-of", "as_of", help="Eligibility date (ISO or 和暦); default today in Japan.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--encoding",
    type=click.Choice(["utf-8-sig", "utf-8", "cp932"]),
    default="utf-8-sig",
    show_default=True,
    help="CSV encoding (SPEC §6.5: UTF-8 with BOM for Excel by default).",
)
@click.option("--actor", help="Audit actor (an officer or auditor); default cli:<OS user>.")
@pass_state
def disposal_list(
    state: CliState,
    as_of: str | None,
    output_format: str,
    output: Path | None,
    encoding: str,
    actor: str | None,
) -> None:
    """Items eligible for disposal as of DATE (SPEC §3): one record per item."""
    import json as jsonlib

    from tracker.clock import today_jst
    from tracker.domain.export import ExportEncodingError, encode_csv
    from tracker.services import retention

    day = _parse_cli_date(as_of, "--as-of") or today_jst()

    def records(session: Session) -> Iterator[list[str]]:
        for e in retention.iter_eligible(session, day):
            yield [
                e.tracking_no,
                e.name,
                e.birth_date.isoformat(),
                e.returned_on.isoformat(),
                e.rule.label,
                e.control_no,
                e.retain_until.isoformat(),
            ]

    count = 0

    def counted(rows: Iterator[list[str]]) -> Iterator[list[str]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    with state.database.read_session() as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER, Role.AUDITOR])
        if output_format == "csv" and encoding == "cp932":
            try:  # every character checked before anything is written (SPEC §6.5)
                for _ in encode_csv(DISPOSAL_LIST_KEYS, records(session), "cp932"):
                    pass
            except ExportEncodingError as error:
                fail(str(error))
        with _output_stream(output) as sink:
            if output_format == "json":
                sink.write(b"[")
                for row in records(session):
                    sink.write(b"," if count else b"")
                    sink.write(b"\n ")
                    sink.write(
                        jsonlib.dumps(
                            dict(zip(DISPOSAL_LIST_KEYS, row, strict=True)), ensure_ascii=False
                        ).encode("utf-8")
                    )
                    count += 1
                sink.write(b"\n]\n")
            else:
                for chunk in encode_csv(DISPOSAL_LIST_KEYS, counted(records(session)), encoding):
                    sink.write(chunk)
    with state.database.session_scope() as session:
        audit.record(
            session,
            actor=actor_name,
            action="disposal.list_export",
            details={"as_of": day.isoformat(), "items": count, "format": output_format},
        )
    if output is not None:
        click.echo(f"{count}件を {output} に書き出しました（基準日 {day.isoformat()}）", err=True)


@contextmanager
def _output_stream(output: Path | None) -> Iterator[Any]:
    """stdout, or a file written whole: a temporary file renamed into place on success."""
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    temporary = output.with_name(f".{output.name}.partial")
    try:
        with temporary.open("wb") as sink:
            yield sink
        temporary.replace(output)
    finally:
        temporary.unlink(missing_ok=True)


@main.command("certificate-verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def certificate_verify(state: CliState, file: Path) -> None:
    """Does FILE match a disposal certificate this tracker issued (by SHA-256)?"""
    import hashlib

    from tracker.services import certificates

    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    with state.database.read_session() as session:
        batch = certificates.find_by_certificate_sha256(session, digest)
        if batch is None:
            fail(f"{file}: この証明書は発行記録と一致しません（SHA-256 {digest}）")
        click.echo(
            f"OK: {file} は廃棄証明書 {batch.certificate_no}（基準日 {batch.as_of.isoformat()}、"
            f"廃棄日 {batch.destroyed_on.isoformat() if batch.destroyed_on else '—'}）と一致します"
            f"（SHA-256 {digest}）"
        )


@main.command("audit-verify")
@click.option(
    "--expect-head",
    metavar="SEQ:HASH",
    help="A head recorded earlier (e.g. on a certificate): also catches deleted newest events.",
)
@pass_state
def audit_verify(state: CliState, expect_head: str | None) -> None:
    """Recompute the audit hash chain: exit 0 if intact, 1 naming the first broken event."""
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.domain.chain import Checkpoint

    try:
        checkpoint = Checkpoint.parse(expect_head) if expect_head else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--expect-head") from None
    try:
        with state.database.read_session() as session:
            result = audit.verify_chain(session, checkpoint=checkpoint)
    except SQLAlchemyError as error:
        fail(
            "監査ログを読めません。データベースに接続できないか、初期化されていません"
            f"（tracker init-db）: {type(error).__name__}"
        )
    if result.ok:
        click.echo(
            f"OK: 監査ログは改ざんされていません（{result.checked}件、"
            f"先頭ハッシュ {result.head_hash}）"
        )
        return
    click.echo(
        f"NG: 監査ログの連鎖が事象 {result.broken_seq} で壊れています: {result.problem}"
        f"（それより前の {result.checked} 件は正常）",
        err=True,
    )
    sys.exit(1)


@main.command("demo-data")
@click.option("--actor", help="Audit actor (an admin); default cli:<OS user>.")
@pass_state
def demo_data(state: CliState, actor: str | None) -> None:
    """Fill an empty database with demo users (one per role, passwords printed) and a realistic
    synthetic set of returned envelopes (2016-2021, households of 1-6)."""
    from tracker.clock import now_utc, today_jst
    from tracker.models import Envelope
    from tracker.services.demo import create_demo_returns, create_demo_rules, create_demo_users

    hashing = state.config.password_hashing
    hasher = accounts.make_hasher(hashing.time_cost, hashing.memory_cost, hashing.parallelism)
    with state.database.session_scope() as session:
        if (
            session.scalar(select(User.id).limit(1)) is not None
            or session.scalar(select(Envelope.id).limit(1)) is not None
        ):
            fail(
                "データベースは空ではありません（ユーザーか封筒が既にあります）。"
                "デモデータは空のデータベースにだけ作成できます"
            )
        actor_name = resolve_actor(session, actor, [Role.ADMIN])
        credentials = create_demo_users(session, hasher, actor=actor_name)
        report = create_demo_returns(session, actor=actor_name, today=today_jst(), now=now_utc())
        rules = create_demo_rules(session, actor=actor_name)
    click.echo(
        f"デモ用の返戻郵便を登録しました: 封筒 {report.envelopes}件、通知物 {report.items}件"
        f"（年度別の廃棄基準 {rules}件を追加）"
    )
    click.echo("デモ用ユーザーを作成しました:")
    for username, role, password in credentials:
        click.echo(f"  {username:<10} {Role(role).label_ja:<8} パスワード: {password}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@pass_state
def serve(state: CliState, host: str, port: int, threads: int) -> None:
    """Run the production WSGI server (waitress)."""
    from waitress import serve as waitress_serve

    from tracker import create_app
    from tracker.schema import current_revision, head_revision

    if current_revision(state.database.engine) != head_revision():
        fail("データベースの構成が古いか未作成です。先に `tracker init-db` を実行してください")
    app = create_app(state.config)
    click.echo(f"http://{host}:{port}/ で待ち受けています（Ctrl+C で終了）")
    waitress_serve(app, host=host, port=port, threads=threads, ident="tracker")


@main.group("db")
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
