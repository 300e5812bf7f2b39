"""Helpers shared by the security suite (issue #7): stock data, database snapshots, names."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.factories import import_csv, tracking_no
from tracker.models import Base, User
from tracker.services import importer

#: The import CSV's English headers (SPEC §6.4), in the order these tests write them.
HEADER = (
    "tracking_no",
    "return_date",
    "return_reason",
    "addressee",
    "address",
    "name",
    "name_kana",
    "birth_date",
    "relationship",
)


def csv_text(rows: list[dict[str, str]], header: tuple[str, ...] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: row.get(key, "") for key in header})
    return out.getvalue()


def row(n: int, name: str, kana: str, **overrides: str) -> dict[str, str]:
    """One item in its own envelope, returned in 平成30年度 (covered by the seed rule)."""
    values = {
        "tracking_no": tracking_no(n),
        "return_date": "H30.4.2",
        "return_reason": "TENKYO_FUMEI",
        "addressee": name,
        "address": f"熊本市中央区手取本町{n}-1",
        "name": name,
        "name_kana": kana,
        "birth_date": "S50.1.1",
        "relationship": "世帯主",
    }
    values.update(overrides)
    return values


def import_rows(app: Flask, folder: Path, rows: list[dict[str, str]]) -> importer.ImportReport:
    """Import through the service (as ``tracker import`` does) and insist it committed."""
    return import_csv(app, folder, csv_text(rows))


def user_id(app: Flask, username: str) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        found = session.scalar(select(User.id).where(User.username == username))
        assert found is not None, username
        return found


#: Columns a request may touch without changing anything a person decided: the user loader
#: refreshes the session's ``last_seen_at`` on every authenticated request.
VOLATILE = {("user_sessions", "last_seen_at")}


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (minus :data:`VOLATILE` columns), for before/after compares.

    Stronger than row counts: an unwanted UPDATE (an item edited, a user disabled, a batch
    approved) shows up as well as an INSERT.
    """
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with app.extensions["tracker.db"].engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            rows = conn.execute(select(*columns)).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return tables


def counts(app: Flask) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(app).items()}
