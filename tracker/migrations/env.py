"""Alembic environment. Run through ``tracker init-db`` (tracker.schema), which passes the
connection in ``config.attributes["connection"]``; plain ``alembic`` works too with
``TRACKER_DATABASE_URL`` set."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from tracker.db import make_engine
from tracker.models import Base

config = context.config
target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    from tracker.config import default_database_url

    engine = make_engine(os.environ.get("TRACKER_DATABASE_URL") or default_database_url())
    with engine.connect() as conn:
        run_with(conn)
