"""The PostgreSQL app role (``tracker init-db --app-role NAME``, issue 17; docs/deployment.md
"PostgreSQL roles").

Two roles: the **schema owner** runs ``tracker init-db`` (migrations, seeding) and owns every
table; the **app role** is what ``tracker serve`` and ``tracker worker`` connect as. It can log
in and do what the app does, nothing more: SELECT, INSERT, UPDATE and DELETE on the tables,
but only SELECT and INSERT on ``audit_events`` (the log is append-only by permissions as well
as by its triggers, which a table owner could drop), SELECT on ``alembic_version``, USAGE on
the sequences, CONNECT and TEMPORARY on the database (the import stages rows in a temporary
table). It owns nothing, so it can neither drop nor alter a table nor a trigger.

Grants are made table by table, after the upgrade: a table a later migration adds is granted
by running ``init-db --app-role`` again (it is part of every upgrade), never by default
privileges, which would give a future append-only table UPDATE too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from sqlalchemy import Connection, text

#: Role names this command accepts: plain lower-case identifiers (no quoting surprises).
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
#: Tables the app may only read and append to.
APPEND_ONLY_TABLES = frozenset({"audit_events"})
#: Tables the app only reads.
READ_ONLY_TABLES = frozenset({"alembic_version"})


class RoleError(Exception):
    """A refused role set-up; the message is for the operator (Japanese)."""


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of ``password``: the server stores only this, and
    the plain password never travels in SQL (nor into a statement log)."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def ensure_app_role(conn: Connection, name: str, password: str | None) -> dict[str, object]:
    """Create or update the login role ``name`` with only the app's rights (in ``conn``'s
    transaction). Returns what was done (for the audit event; no password)."""
    if conn.dialect.name != "postgresql":
        raise RoleError("--app-role は PostgreSQL だけで使えます（SQLite にはロールがありません）")
    if not ROLE_NAME.fullmatch(name):
        raise RoleError(f"--app-role: ロール名「{name}」は英小文字・数字・_ だけにしてください")
    me = str(conn.execute(text("SELECT current_user")).scalar_one())
    if name == me:
        raise RoleError(f"--app-role: スキーマの所有者（{me}）とは別のロールにしてください")
    existing = conn.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :name"), {"name": name}
    ).first()
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
    # The name is checked against ROLE_NAME above; the verifier is base64 and '$', ':' only.
    if existing is None:
        conn.exec_driver_sql(f"CREATE ROLE {name} {attributes}")
    else:
        conn.exec_driver_sql(f"ALTER ROLE {name} {attributes}")
    if password is not None:
        conn.exec_driver_sql(f"ALTER ROLE {name} PASSWORD '{scram_verifier(password)}'")
    database = str(conn.execute(text("SELECT current_database()")).scalar_one())
    schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    tables = [
        str(t)
        for t in conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY tablename"),
            {"s": schema},
        ).scalars()
    ]
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(f"GRANT CONNECT, TEMPORARY ON DATABASE {quote(database)} TO {name}")
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {name}")
    # Start from nothing, so an update also takes back what an older version granted.
    conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {quote(schema)} FROM {name}")
    for table in tables:
        if table in APPEND_ONLY_TABLES:
            rights = "SELECT, INSERT"
        elif table in READ_ONLY_TABLES:
            rights = "SELECT"
        else:
            rights = "SELECT, INSERT, UPDATE, DELETE"
        conn.exec_driver_sql(f"GRANT {rights} ON {quote(schema)}.{quote(table)} TO {name}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {quote(schema)} FROM {name}")
    conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {name}")
    return {
        "role": name,
        "created": existing is None,
        "password_set": password is not None,
        "tables": len(tables),
    }
