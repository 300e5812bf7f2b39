"""The import parser meets arbitrary text and bytes: a report or a clear refusal, never a crash."""

from __future__ import annotations

import io
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.services import importer

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日,保管場所"
VALID = "123456789015,H30.4.1,転居先不明,山田 太郎,熊本市中央区1,山田 太郎,ヤマダ タロウ,S50.1.1,"


def locate(value: str) -> int | None:
    return 1 if value in ("", "CHUO") else None


def consume(stream: io.TextIOBase) -> importer.ImportReport:
    report = importer.ImportReport()
    try:
        for row in importer.iter_rows(
            stream, today=date(2026, 11, 27), locate=locate, report=report
        ):
            assert row.values["tracking_no"].isdigit()
    except importer.ImportFileError as refusal:
        assert str(refusal)  # a file-level refusal always says why
    for problem in report.errors + report.warnings:
        assert problem.line >= 2 and problem.message
    return report


cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "H30.4.1",
            "平成31年5月1日",
            "R元.5.1",
            "㋿2.3.31",
            "2018-02-30",
            "ﾔﾏﾀﾞ",
            "123456789018",
            "1234-5678-9018",
            "\x00",
            '"',
            "\u3000",
            "𠮷",
            "\ue000",
        ]
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, max_size=12), max_size=8), st.booleans())
def test_arbitrary_rows_under_a_valid_header(rows: list[list[str]], with_valid: bool) -> None:
    lines = [HEADER, *(",".join(r) for r in rows)]
    if with_valid:
        lines.append(VALID)
    consume(io.StringIO("\n".join(lines)))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    consume(io.StringIO(text))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.booleans())
def test_arbitrary_bytes(data: bytes, with_header: bool) -> None:
    raw = (HEADER.encode("cp932") + b"\r\n" + data) if with_header else data
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.csv"
        path.write_bytes(raw)
        try:
            encoding = importer.detect_encoding(path)
        except importer.ImportFileError:
            return
        with path.open(encoding=encoding, errors="strict", newline="") as stream:
            consume(stream)
