"""The id of a new row, known before its insert: control, receipt and certificate numbers are
made from it (E000000123, H000000045, D000000007) and printed in the same transaction.

PostgreSQL: the table's sequence (``nextval``), safe under any concurrency. SQLite: one more
than the largest id, safe because the transaction holds SQLite's only write lock, taken here
if this unit of work has only read so far.
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tracker.db import begin_writing
from tracker.models import Base


def next_id(session: Session, model: type[Base]) -> int:
    """The id the next row of ``model`` will take."""
    if session.get_bind().dialect.name == "postgresql":
        sequence = f"{model.__tablename__}_id_seq"  # the model's own table, never input
        value: int = session.execute(text(f"SELECT nextval('{sequence}')")).scalar_one()
        return value
    begin_writing(session)
    current = session.execute(select(func.coalesce(func.max(model.__table__.c.id), 0))).scalar_one()
    return int(current) + 1
