"""``tracker backup DEST`` and ``tracker restore SRC`` (SPEC §7, a contract; issue 17).

A backup is a folder: the dump (``tracker.sqlite3``, a copy made with SQLite's online backup
API, or ``tracker.dump``, ``pg_dump -Fc``) and ``manifest.json``: the row count of every table,
the audit head (seq and hash), the versions, the time and the dump's SHA-256 and size.

What was decided, and why:

- **The manifest describes the dump, not the live database.** On PostgreSQL the counts and the
  audit head are read in a ``REPEATABLE READ, READ ONLY`` transaction whose snapshot is
  exported (``pg_export_snapshot()``) and handed to ``pg_dump --snapshot``; the transaction stays
  open until pg_dump has finished, so both see exactly the same committed data although
  handovers go on meanwhile. (Counting the restored copy instead would need a second server
  and a restore per backup.) On SQLite the copy is taken in one step of the backup API (one
  read transaction: a consistent snapshot; WAL readers never block writers) and the manifest
  is then read from the copy itself.
- **Nothing looks complete before it is.** The dump and the manifest are written under
  temporary names (``.….partial``), flushed to disk, and renamed at the end, the manifest
  last: a folder without ``manifest.json`` is an interrupted backup, and restore refuses it.
- **The backup's audit event is outside the snapshot.** It is appended to the live chain after
  the dump is complete, because it names the dump's SHA-256 and the head the dump holds; a
  dump cannot contain its own digest. So the live chain says when each backup was taken and
  which head it ends at, and a restored copy ends exactly at its manifest's head.
- **Restore goes into an empty database only** (a SQLite file that does not exist yet counts
  as empty), checks the SHA-256 before touching anything, and then verifies the result: the
  schema revision, every table's row count, the audit chain and its head, and that the audit
  triggers exist and still refuse UPDATE and DELETE (TRUNCATE on PostgreSQL). The first
  mismatch is named. Only then is ``system.restore`` appended to the restored chain.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from tracker.clock import now_utc

MANIFEST = "manifest.json"
SQLITE_DUMP = "tracker.sqlite3"
POSTGRES_DUMP = "tracker.dump"
FORMAT = "tracker-backup/1"
PARTIAL = ".partial"
#: Message of the audit triggers (migration 0001): a refusal that names it came from them.
APPEND_ONLY = "append-only"
SQLITE_TRIGGERS = frozenset(
    {"audit_events_no_update", "audit_events_no_delete", "audit_events_extend_only"}
)
POSTGRES_TRIGGERS = frozenset(
    {"audit_events_no_update_delete", "audit_events_no_truncate", "audit_events_extend_only"}
)


class BackupError(Exception):
    """A refused or failed backup or restore; the message says what and where (Japanese)."""


@dataclass(frozen=True)
class Snapshot:
    """What the manifest says about the dump's contents."""

    counts: dict[str, int]
    head_seq: int
    head_hash: str
    schema: str | None
    server: str


# --- shared ----------------------------------------------------------------------------------


def tracker_version() -> str:
    try:
        return version("tracker")
    except PackageNotFoundError:  # pragma: no cover — running from a source tree
        return "unknown"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prepare_destination(dest: Path) -> None:
    if dest.exists():
        if not dest.is_dir():
            raise BackupError(f"{dest}: フォルダではありません")
        if any(dest.iterdir()):
            raise BackupError(
                f"{dest}: 空でないフォルダにはバックアップしません（新しいフォルダを指定）"
            )
    else:
        try:
            dest.mkdir(mode=0o700, parents=True)
        except OSError as error:
            raise BackupError(f"{dest}: フォルダを作れません: {error.strerror}") from None


def _private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only: a backup holds names and birth dates."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))


def _count_tables(conn: Connection, tables: list[str]) -> dict[str, int]:
    quote = conn.dialect.identifier_preparer.quote
    return {
        name: int(conn.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one())  # noqa: S608
        for name in tables
    }


def _audit_head(conn: Connection) -> tuple[int, str]:
    from tracker.domain.chain import GENESIS_HASH

    row = conn.execute(text("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")).first()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def _schema_revision(conn: Connection) -> str | None:
    value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


def user_tables(conn: Connection) -> list[str]:
    """Every table of the database the tracker uses (its schema on PostgreSQL)."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(
            text(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        )
    else:
        rows = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " ORDER BY tablename"
            )
        )
    return [str(name) for name in rows.scalars()]


def _read_snapshot(conn: Connection, server: str) -> Snapshot:
    tables = user_tables(conn)
    if "audit_events" not in tables or "alembic_version" not in tables:
        raise BackupError("データベースが初期化されていません（tracker init-db）")
    seq, head = _audit_head(conn)
    return Snapshot(_count_tables(conn, tables), seq, head, _schema_revision(conn), server)


def _manifest(
    engine_name: str, dump: Path, snapshot: Snapshot, taken_at: datetime, pg_dump: str | None
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "created_at": taken_at.isoformat(),
        "engine": engine_name,
        "dump": {"file": dump.name, "sha256": sha256_file(dump), "size": dump.stat().st_size},
        "counts": snapshot.counts,
        "audit_head": {"seq": snapshot.head_seq, "hash": snapshot.head_hash},
        "versions": {
            "tracker": tracker_version(),
            "schema": snapshot.schema,
            "database": snapshot.server,
            "pg_dump": pg_dump,
        },
    }


def _finish(dest: Path, partial_dump: Path, final_dump: Path, manifest: dict[str, Any]) -> None:
    """Rename into place, the manifest last: only a complete backup has ``manifest.json``."""
    partial_manifest = dest / (MANIFEST + PARTIAL)
    _private_file(partial_manifest)
    partial_manifest.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8"
    )
    _fsync(partial_dump)
    _fsync(partial_manifest)
    partial_dump.rename(final_dump)
    partial_manifest.rename(dest / MANIFEST)
    _fsync(dest)


# --- backup ----------------------------------------------------------------------------------


def backup(engine: Engine, dest: Path) -> dict[str, Any]:
    """Write the dump and ``manifest.json`` into the new or empty folder ``dest``; the
    manifest (as written) is returned. Works while the app serves."""
    _prepare_destination(dest)
    if engine.dialect.name == "sqlite":
        return _backup_sqlite(engine, dest)
    return _backup_postgres(engine, dest)


def sqlite_path(url: str | URL) -> Path:
    parsed = make_url(url)
    name = parsed.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError("SQLite のファイルを指定してください（メモリ上のデータベースは対象外）")
    return Path(name)


def _backup_sqlite(engine: Engine, dest: Path) -> dict[str, Any]:
    source_path = sqlite_path(engine.url)
    if not source_path.exists():
        raise BackupError(f"{source_path}: データベースのファイルがありません")
    partial = dest / (SQLITE_DUMP + PARTIAL)
    _private_file(partial)
    taken_at = now_utc()
    source = sqlite3.connect(source_path, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            # One step (pages=-1): one read transaction, so a consistent copy even while the
            # app writes (WAL: the writers are not blocked). Then a self-contained file.
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    snapshot = read_sqlite_snapshot(partial)
    manifest = _manifest("sqlite", partial, snapshot, taken_at, None)
    manifest["dump"]["file"] = SQLITE_DUMP
    _finish(dest, partial, dest / SQLITE_DUMP, manifest)
    return manifest


def read_sqlite_snapshot(path: Path) -> Snapshot:
    """The manifest's facts, read from a SQLite copy without changing it."""
    from sqlalchemy import create_engine

    engine = create_engine(
        f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true", hide_parameters=True
    )
    try:
        with engine.connect() as conn:
            return _read_snapshot(conn, sqlite3.sqlite_version)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class PgClient:
    """``pg_dump`` or ``pg_restore`` and how to reach the database without a password on the
    command line (a temporary passfile)."""

    program: str
    version: str
    major: int


def pg_client(name: str) -> PgClient:
    program = shutil.which(name)
    if program is None:
        raise BackupError(
            f"{name} が見つかりません（PATH）。PostgreSQL のクライアント"
            "（Debian: postgresql-client）を入れてください"
        )
    output = subprocess.run(  # noqa: S603 — the client found on PATH, fixed arguments
        [program, "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"(\d+)(?:\.(\d+))?", output)
    if match is None:
        raise BackupError(f"{name} の版が読めません: {output.strip()!r}")
    return PgClient(program, match.group(0), int(match.group(1)))


def _server_major(conn: Connection) -> tuple[int, str]:
    number = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    return number // 10000, str(conn.execute(text("SHOW server_version")).scalar_one())


def _check_client(client: PgClient, server_major: int, server_version: str) -> None:
    # pg_dump refuses a newer server ("server version mismatch"); pg_restore may not read a
    # newer archive. An older server is fine: newer clients handle every older server.
    if client.major < server_major:
        name = Path(client.program).name
        raise BackupError(
            f"{name} {client.version} はサーバー {server_version} より古いため使えません。"
            f"postgresql-client-{server_major} 以降を入れ、PATH で先に見つかるようにしてください"
        )


@contextmanager
def libpq_target(url: str | URL) -> Iterator[tuple[str, dict[str, str]]]:
    """The connection string (no password) and the environment for a PostgreSQL client.

    The password goes into a temporary passfile (mode 0600, removed afterwards), never onto
    the command line, where every user of the machine could read it in ``ps``.
    """
    from psycopg.conninfo import make_conninfo

    parsed = make_url(url)
    params: dict[str, Any] = {"dbname": parsed.database}
    if parsed.host:
        params["host"] = parsed.host
    if parsed.port:
        params["port"] = parsed.port
    if parsed.username:
        params["user"] = parsed.username
    for key, value in parsed.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    if parsed.password is None:
        yield make_conninfo(**params), env
        return
    escaped = str(parsed.password).replace("\\", "\\\\").replace(":", "\\:")
    fd, name = tempfile.mkstemp(prefix="tracker-pgpass-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as passfile:
            passfile.write(f"*:*:*:*:{escaped}\n")
        env["PGPASSFILE"] = name
        yield make_conninfo(**params), env
    finally:
        with suppress(FileNotFoundError):
            os.unlink(name)


def _backup_postgres(engine: Engine, dest: Path) -> dict[str, Any]:
    client = pg_client("pg_dump")
    partial = dest / (POSTGRES_DUMP + PARTIAL)
    _private_file(partial)
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot_id = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        taken_at = now_utc()
        major, server_version = _server_major(conn)
        _check_client(client, major, server_version)
        snapshot = _read_snapshot(conn, server_version)
        with libpq_target(engine.url) as (conninfo, env):
            # The transaction above stays open: pg_dump imports its snapshot, so the dump
            # holds exactly what was counted.
            done = subprocess.run(  # noqa: S603 — fixed arguments, no shell
                [
                    client.program,
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    f"--file={partial}",
                    f"--dbname={conninfo}",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            raise BackupError(f"pg_dump が失敗しました: {done.stderr.strip()}")
    manifest = _manifest("postgresql", partial, snapshot, taken_at, client.version)
    manifest["dump"]["file"] = POSTGRES_DUMP
    _finish(dest, partial, dest / POSTGRES_DUMP, manifest)
    return manifest


def record_backup(session: Any, *, actor: str, manifest: dict[str, Any]) -> None:
    """The live chain's ``system.backup`` event: counts and the head the dump ends at, the
    dump's digest; never a personal value or the folder's path."""
    from tracker.domain.codes import AuditAction
    from tracker.services import audit

    audit.record(
        session,
        actor=actor,
        action=AuditAction.SYSTEM_BACKUP,
        object_type="backup",
        object_id=manifest["dump"]["sha256"][:16],
        details={
            "engine": manifest["engine"],
            "row_counts": manifest["counts"],
            "backup_head_seq": manifest["audit_head"]["seq"],
            "backup_head_hash": manifest["audit_head"]["hash"],
            "dump_sha256": manifest["dump"]["sha256"],
            "dump_size": manifest["dump"]["size"],
            "schema": manifest["versions"]["schema"],
        },
    )


# --- restore ---------------------------------------------------------------------------------


def read_manifest(src: Path) -> dict[str, Any]:
    path = src / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path}: ありません（完了したバックアップのフォルダではありません）")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}")
        for key in ("dump", "counts", "audit_head", "engine"):
            manifest[key]  # a KeyError names what is missing
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{path}: 読めません: {error}") from None
    return manifest


def check_dump(src: Path, manifest: dict[str, Any]) -> Path:
    """The dump named by the manifest, with the manifest's size and SHA-256."""
    dump = src / Path(str(manifest["dump"]["file"])).name
    if not dump.is_file():
        raise BackupError(f"{dump}: ありません")
    actual = sha256_file(dump)
    if actual != manifest["dump"]["sha256"]:
        raise BackupError(
            f"{dump}: SHA-256 が manifest.json と一致しません（{actual} ≠"
            f" {manifest['dump']['sha256']}）。壊れたか書き換えられたバックアップです"
        )
    return dump


def restore(url: str, src: Path) -> dict[str, Any]:
    """Restore the backup folder ``src`` into the empty database ``url`` and verify it."""
    manifest = read_manifest(src)
    dump = check_dump(src, manifest)
    backend = make_url(url).get_backend_name()
    if backend != manifest["engine"]:
        raise BackupError(
            f"{src}: {manifest['engine']} のバックアップは {backend} には復元できません"
        )
    if backend == "sqlite":
        _restore_sqlite(url, dump)
    else:
        _restore_postgres(url, dump)
    return manifest


def _refuse_tracker_tables(conn: Connection, where: str) -> None:
    from tracker.models import Base

    known = set(Base.metadata.tables) | {"alembic_version"}
    present = sorted(known & set(user_tables(conn)))
    if present:
        raise BackupError(
            f"{where}: 既に tracker のテーブルがあります（{', '.join(present[:5])}…）。"
            "復元は空のデータベースにだけ行います"
        )


def _restore_sqlite(url: str, dump: Path) -> None:
    from sqlalchemy import create_engine

    target = sqlite_path(url)
    if target.exists():
        engine = create_engine(f"sqlite:///{target}", hide_parameters=True)
        try:
            with engine.connect() as conn:
                _refuse_tracker_tables(conn, str(target))
        finally:
            engine.dispose()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        _private_file(target)
    source = sqlite3.connect(f"file:{dump}?mode=ro&immutable=1", uri=True)
    try:
        destination = sqlite3.connect(target, timeout=30)
        try:
            source.backup(destination)
            destination.execute("PRAGMA journal_mode=WAL")
        finally:
            destination.close()
    finally:
        source.close()


def _restore_postgres(url: str, dump: Path) -> None:
    from sqlalchemy import create_engine

    client = pg_client("pg_restore")
    engine = create_engine(url, hide_parameters=True)
    try:
        with engine.connect() as conn:
            _refuse_tracker_tables(conn, f"データベース {make_url(url).database}")
            major, server_version = _server_major(conn)
            _check_client(client, major, server_version)
    finally:
        engine.dispose()
    with libpq_target(url) as (conninfo, env):
        # One transaction: a failed restore leaves the database empty. No owners or grants:
        # the objects belong to the role restoring (the schema owner); the app role is given
        # its rights again by `tracker init-db --app-role NAME` (docs/deployment.md).
        done = subprocess.run(  # noqa: S603 — fixed arguments, no shell
            [
                client.program,
                "--single-transaction",
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                f"--dbname={conninfo}",
                str(dump),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise BackupError(
            f"pg_restore が失敗しました（何も復元していません）: {done.stderr.strip()}"
        )
    # pg_restore brings no planner statistics: without them the search page read every item
    # of a kana prefix (docs/deployment.md, "Planner statistics").
    engine = create_engine(url, hide_parameters=True, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def verify_restored(engine: Engine, manifest: dict[str, Any]) -> None:
    """Raise :class:`BackupError` naming the first difference from the manifest."""
    from sqlalchemy.orm import Session

    from tracker.services import audit

    with engine.connect() as conn:
        schema = _schema_revision(conn)
        if schema != manifest["versions"]["schema"]:
            raise BackupError(
                f"スキーマの版が違います: {schema}（manifest: {manifest['versions']['schema']}）"
            )
        tables = user_tables(conn)
        expected: dict[str, int] = manifest["counts"]
        for name in sorted(set(expected) | set(tables)):
            if name not in tables:
                raise BackupError(f"テーブル {name} が復元されていません")
            if name not in expected:
                raise BackupError(f"テーブル {name} は manifest.json にありません")
        counts = _count_tables(conn, sorted(expected))
        for name in sorted(expected):
            if counts[name] != expected[name]:
                raise BackupError(
                    f"テーブル {name} の行数が違います: {counts[name]}"
                    f"（manifest: {expected[name]}）"
                )
    with Session(engine) as session:
        result = audit.verify_chain(session)
    if not result.ok:
        raise BackupError(
            f"監査ログの連鎖が事象 {result.broken_seq} で壊れています: {result.problem}"
        )
    with engine.connect() as conn:
        seq, head = _audit_head(conn)
    want = manifest["audit_head"]
    if (seq, head) != (want["seq"], want["hash"]):
        raise BackupError(
            f"監査ログの先頭が違います: {seq}:{head}（manifest: {want['seq']}:{want['hash']}）"
        )
    _verify_triggers(engine, seq)


def _verify_triggers(engine: Engine, head_seq: int) -> None:
    """The append-only triggers exist and refuse changes (each probe rolled back)."""
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        if postgres:
            names = conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger"
                    " WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
                )
            ).scalars()
        else:
            names = conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                    " AND tbl_name = 'audit_events'"
                )
            ).scalars()
        found = set(names)
    missing = sorted((POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS) - found)
    if missing:
        raise BackupError(f"監査ログのトリガーがありません: {', '.join(missing)}")
    probes = [  # head_seq is an int read from the database
        ("UPDATE", f"UPDATE audit_events SET actor = actor WHERE seq = {head_seq}"),  # noqa: S608
        ("DELETE", f"DELETE FROM audit_events WHERE seq = {head_seq}"),  # noqa: S608
    ]
    if postgres:
        probes.append(("TRUNCATE", "TRUNCATE audit_events"))
    elif head_seq == 0:
        return  # row triggers fire on no row of an empty log
    for verb, statement in probes:
        if head_seq == 0 and verb != "TRUNCATE":
            continue
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                conn.exec_driver_sql(statement)
            except DBAPIError as error:
                refused = APPEND_ONLY in str(error.orig)
            else:
                refused = False
            finally:
                transaction.rollback()
        if not refused:
            raise BackupError(f"監査ログのトリガーが {verb} を拒否しません")


def record_restore(session: Any, *, actor: str, manifest: dict[str, Any]) -> None:
    """``system.restore``, appended to the restored chain once it verified."""
    from tracker.domain.codes import AuditAction
    from tracker.services import audit

    audit.record(
        session,
        actor=actor,
        action=AuditAction.SYSTEM_RESTORE,
        object_type="backup",
        object_id=manifest["dump"]["sha256"][:16],
        details={
            "engine": manifest["engine"],
            "backup_created_at": manifest["created_at"],
            "backup_head_seq": manifest["audit_head"]["seq"],
            "backup_head_hash": manifest["audit_head"]["hash"],
            "dump_sha256": manifest["dump"]["sha256"],
        },
    )
