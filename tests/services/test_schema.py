"""Migrations are the schema: ``alembic upgrade head`` gives exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tracker.db import Database
from tracker.models import Base
from tracker.schema import current_revision, downgrade, head_revision, upgrade


def test_migrations_give_exactly_the_models_schema(database: Database) -> None:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert current_revision(database.engine) == head_revision()


def test_check_constraints_exist_in_the_database(database: Database) -> None:
    names = {c["name"] for c in inspect(database.engine).get_check_constraints("items")}
    assert {"ck_items_status", "ck_items_kind"} <= names


def test_downgrade_to_nothing_and_back(database: Database) -> None:
    downgrade(database.engine, "base")
    tables = set(inspect(database.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade(database.engine)
    assert set(Base.metadata.tables) <= set(inspect(database.engine).get_table_names())
