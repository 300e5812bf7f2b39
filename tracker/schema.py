"""Schema migrations through Alembic, callable from code (``tracker init-db``, ``tracker db``,
tests).

There is no ``alembic.ini``: the configuration is built here, so the migrations shipped inside
the package are found wherever it is installed. Use ``tracker db …`` instead of ``alembic``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # versions/0008_short_message.py, like the revisions before it
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, lambda cfg: command.downgrade(cfg, revision))


def _migrate(engine: Engine, run: Callable[[AlembicConfig], None]) -> None:
    """Run migrations in one transaction.

    SQLite alters a table by copying it (Alembic's batch mode), which drops the old table:
    with foreign keys enforced that fails as soon as another table refers to it. So they are
    switched off for the migration (outside the transaction, where SQLite allows it) and the
    whole database is checked with ``PRAGMA foreign_key_check`` before committing.
    """
    cfg = alembic_config()
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                run(cfg)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def head_revisions() -> tuple[str, ...]:
    """Every head: more than one means two branches need a merge revision."""
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def next_revision_id() -> str | None:
    """``0008`` after ``0007``: revisions are numbered in order. None lets Alembic choose
    (only when the head is not a number)."""
    heads = head_revisions()
    if len(heads) == 1 and heads[0].isdigit():
        return f"{int(heads[0]) + 1:0{len(heads[0])}d}"
    return None


def new_revision(message: str, engine: Engine | None = None) -> Path:
    """Write a new revision file into the migrations and return its path.

    With ``engine``, the upgrade and downgrade are generated from the differences between the
    models and that database (which must be at the head); without, they are empty. Either way
    the file is a draft to read and complete: Alembic does not see triggers, CHECK
    constraints' contents or data changes.
    """
    cfg = alembic_config()
    rev_id = next_revision_id()
    if engine is None:
        script = command.revision(cfg, message=message, rev_id=rev_id)
    else:
        with engine.connect() as connection:
            cfg.attributes["connection"] = connection
            script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
            connection.rollback()
    assert script is not None and not isinstance(script, list)  # one revision, no branches
    return Path(script.path)
