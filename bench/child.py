"""Work the bench runs in a process of its own, so that its peak memory (the child's maximum
resident set, read by the parent with ``os.wait4``) is its own.

``python -m bench.child TASK ARG OUT``: TASK is ``import`` (``tracker import FILE``, the command
itself, in this process), ``raw-import`` (its baseline: csv.reader and a plain insert of the
same rows into the same schema), ``certificate`` (the disposal certificate of N items) or
``canvas`` (its baseline: the same rows drawn on a plain ReportLab canvas with the same font).
The seconds of the work alone (not the interpreter's start) are written to OUT as JSON.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any


def tracker_import(csv_file: str) -> dict[str, Any]:
    import contextlib
    import io

    import tracker.services.importer  # noqa: F401 - loaded before the clock starts, as the
    from tracker.cli import main  # modules of a long-running import would be

    started = time.perf_counter()
    sink = io.StringIO()
    code: object = 0
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            main(["import", csv_file], standalone_mode=False)
        except SystemExit as leaving:
            code = leaving.code
    seconds = time.perf_counter() - started
    if code not in (0, None):
        raise SystemExit(f"tracker import failed ({code}): {sink.getvalue()[-2000:]}")
    return {"seconds": seconds, "output": sink.getvalue()[-500:]}


def _iso(text: str) -> str:
    """The raw baseline converts nothing: an ISO date is kept, any other shape (和暦, slashes,
    full-width digits) becomes one fixed date, so that the insert itself is what is timed."""
    return text if len(text) == 10 and text[4] == "-" and text[7] == "-" else "2020-01-01"


def raw_rows(csv_file: str) -> Iterator[tuple[list[str], list[list[str]]]]:
    """(envelope row, its item rows) from the CSV, grouped by tracking number."""
    with open(csv_file, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        tracking = header.index("tracking_no")
        current: list[str] | None = None
        members: list[list[str]] = []
        for row in reader:
            if current is not None and row[tracking] != current[tracking]:
                yield current, members
                members = []
            if not members:
                current = row
            members.append(row)
        if current is not None:
            yield current, members


def raw_import(csv_file: str) -> dict[str, Any]:
    """csv.reader + executemany (SQLite) or COPY (PostgreSQL) of the same rows into envelopes
    and items of the same schema, 10,000 rows at a time, one transaction: no checks, no
    normalisation, no audit event."""
    from sqlalchemy import create_engine

    from tracker.domain.codes import ReturnReason

    url = os.environ["TRACKER_DATABASE_URL"]
    engine = create_engine(url)
    reasons = {reason.value for reason in ReturnReason}
    started = time.perf_counter()
    with open(csv_file, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    col = {name: index for index, name in enumerate(header)}
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    envelopes: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    rows = 0
    with engine.connect() as connection:
        location = connection.exec_driver_sql(
            "SELECT id FROM locations ORDER BY is_default DESC, id LIMIT 1"
        ).scalar_one()
        envelope_id = connection.exec_driver_sql(
            "SELECT COALESCE(MAX(id), 0) FROM envelopes"
        ).scalar_one()
        item_id = connection.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM items").scalar_one()
        for head, members in raw_rows(csv_file):
            if len(items) >= RAW_BATCH:  # bounded memory, like the import's own batches
                _insert(connection, envelopes, items)
                envelopes, items = [], []
            envelope_id += 1
            control = f"B{envelope_id:09d}"
            reason = head[col["return_reason"]]
            envelopes.append(
                (
                    envelope_id,
                    control,
                    head[col["tracking_no"]],
                    head[col["addressee"]],
                    head[col["address"]],
                    head[col["household_code"]] or None,
                    _iso(head[col["return_date"]]),
                    reason if reason in reasons else "OTHER",
                    location,
                    head[col["slot"]] or None,
                    "bench",
                    now,
                )
            )
            for position, row in enumerate(members, start=1):
                item_id += 1
                rows += 1
                name, kana = row[col["name"]], row[col["name_kana"]]
                items.append(
                    (
                        item_id,
                        f"{control}-{position}",
                        envelope_id,
                        position,
                        "notification_card",
                        name,
                        kana,
                        name,
                        kana,
                        _iso(row[col["birth_date"]]),
                        row[col["relationship"]] or None,
                        "in_custody",
                    )
                )
        _insert(connection, envelopes, items)
        connection.commit()
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "rows": rows, "method": _method(url)}


#: Rows held before they are written (one transaction for the whole file, as the import).
RAW_BATCH = 10_000
ENVELOPE_COLUMNS = (
    "id, control_no, tracking_no, addressee, address, household_code, returned_on,"
    " return_reason, location_id, slot, intake_by, intake_at"
)
ITEM_COLUMNS = (
    "id, control_no, envelope_id, position, kind, name, name_kana, name_key, kana_key,"
    " birth_date, relationship_to_head, status"
)


def _method(url: str) -> str:
    return "executemany" if url.startswith("sqlite") else "COPY"


def _insert(
    connection: Any, envelopes: list[tuple[Any, ...]], items: list[tuple[Any, ...]]
) -> None:
    raw = connection.connection.driver_connection
    if connection.dialect.name == "sqlite":
        cursor = raw.cursor()
        cursor.executemany(
            f"INSERT INTO envelopes ({ENVELOPE_COLUMNS}) VALUES ({', '.join('?' * 12)})",
            envelopes,
        )
        cursor.executemany(
            f"INSERT INTO items ({ITEM_COLUMNS}) VALUES ({', '.join('?' * 12)})", items
        )
        return
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY envelopes ({ENVELOPE_COLUMNS}) FROM STDIN") as copy:
            for row in envelopes:
                copy.write_row(row)
        with cursor.copy(f"COPY items ({ITEM_COLUMNS}) FROM STDIN") as copy:
            for row in items:
                copy.write_row(row)


def setup(arg: str) -> dict[str, Any]:
    """``tracker init-db`` and (unless ARG is ``nousers``) ``tracker create-user`` for each
    bench user, in one process."""
    from click.testing import CliRunner

    from bench.env import PASSWORD, USERS
    from tracker.cli import main

    runner = CliRunner()
    started = time.perf_counter()
    commands = [["init-db"]]
    if arg != "nousers":
        commands += [
            ["create-user", name, "--role", role, "--password-stdin"]
            for name, role in USERS.items()
        ]
    for args in commands:
        outcome = runner.invoke(main, args, input=PASSWORD + "\n", catch_exceptions=False)
        if outcome.exit_code != 0:
            raise SystemExit(f"tracker {' '.join(args)}: {outcome.output}")
    return {"seconds": time.perf_counter() - started}


def _certificate_items(n: int) -> list[Any]:
    from tracker.pdf.certificate import CertificateItem

    return [
        CertificateItem(
            f"E{700000000 + i:09d}-1", f"{500000000000 + i}", date(2018, 4, 1), "山田○○"
        )
        for i in range(n)
    ]


def repeated(task: Any, arg: str) -> dict[str, Any]:
    """``ROWS,REPEAT``: the task ``REPEAT`` times in this process; every duration."""
    rows, repeat = (int(part) for part in arg.split(","))
    answers = [task(rows) for _ in range(repeat)]
    return {**answers[-1], "seconds": [a["seconds"] for a in answers]}


def certificate(n: int) -> dict[str, Any]:
    """The disposal certificate of ``n`` items, as the disposal service renders it."""
    from tracker.pdf.certificate import Certificate, CohortCount, render_certificate
    from tracker.pdf.fonts import register_fallback_font, register_fonts

    register_fonts()
    register_fallback_font()  # loaded by both tasks before the clock starts
    items = _certificate_items(n)
    started = time.perf_counter()
    cert = Certificate(
        "D2026-000042", "熊本市", "中央区役所 区民課",
        [CohortCount("平成30年度返戻分", "返戻日 2018-04-01〜2019-03-31", n)],
        date(2020, 4, 1), date(2026, 11, 20), "溶解", "熊本市東区", None, None, items, [],
        "記録 一郎", "監査 次郎", "実施 三郎", "立会 四郎", "0" * 64, 1,
        datetime(2026, 11, 27, 3, tzinfo=UTC),
    )  # fmt: skip
    pdf = render_certificate(cert)
    return {"seconds": time.perf_counter() - started, "bytes": len(pdf), "rows": n}


def canvas(n: int) -> dict[str, Any]:
    """Baseline: the same rows drawn with the same font on a plain canvas, 40 rows a page, into
    memory: the texts of the certificate's five cells (row number, control no, tracking no,
    return date in 和暦 with the ISO date, masked name), so both draw the same glyphs."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from tracker.domain.wareki import format_wareki_with_iso
    from tracker.pdf.fonts import register_fallback_font, register_fonts

    fonts = register_fonts()
    register_fallback_font()
    items = _certificate_items(n)
    started = time.perf_counter()
    out = io.BytesIO()
    page = Canvas(out, pagesize=A4)
    height = A4[1]
    for index, item in enumerate(items):
        line = index % 40
        if line == 0 and index:
            page.showPage()
        if line == 0:
            page.setFont(fonts.mincho, 9)
        y = height - 60 - line * 18
        page.drawRightString(50, y, str(index + 1))
        page.drawString(60, y, item.control_no)
        page.drawString(150, y, item.tracking_no)
        page.drawString(250, y, format_wareki_with_iso(item.returned_on))
        page.drawString(400, y, item.masked_name)
    page.showPage()
    page.save()
    return {"seconds": time.perf_counter() - started, "bytes": out.tell(), "rows": n}


TASKS = {
    "import": lambda arg: tracker_import(arg),
    "raw-import": lambda arg: raw_import(arg),
    "certificate": lambda arg: repeated(certificate, arg),
    "canvas": lambda arg: repeated(canvas, arg),
    "setup": setup,
}


def main(argv: list[str]) -> int:
    task, arg, out = argv
    result = TASKS[task](arg)
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
