"""The synthetic returned-mail generator (tracker/synthetic/, scripts/gen-returns).

What a user of the generator relies on: the same seed gives the same file, every row is one an
import accepts (SPEC §6.1–6.4), envelopes hang together, nothing could be an individual number
(SPEC §2), CP932 output is real CP932, and a million rows do not need a million rows of memory.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import tracemalloc
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import date
from itertools import groupby, islice
from pathlib import Path

import pytest

from tracker.domain.codes import RETURN_REASON_LABELS, ReturnReason
from tracker.domain.kana import is_kana
from tracker.domain.mynumber import contains_individual_number
from tracker.domain.records import Checked, check_envelope, check_item
from tracker.domain.tracking import normalize_tracking_no, parse_tracking_no
from tracker.domain.wareki import parse_date
from tracker.synthetic import (
    COLUMNS,
    ENVELOPE_COLUMNS,
    JAPANESE_HEADERS,
    NOTICE_START,
    generate_rows,
    tracking_number,
    write_csv,
)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gen-returns"
FREE_TEXT = ("addressee", "address", "name", "name_kana", "relationship", "slot")
START, END = date(2016, 1, 1), date(2021, 12, 31)


def csv_bytes(n_rows: int, seed: int, **options: str) -> bytes:
    encoding = options.get("encoding", "utf-8")
    buffer = io.BytesIO()
    rows = generate_rows(n_rows, seed, cp932_safe=encoding == "cp932")
    write_csv(buffer, rows, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


def households(rows: Iterator[dict[str, str]]) -> Iterator[list[dict[str, str]]]:
    """Consecutive rows with one tracking number (as digits)."""
    for _, group in groupby(rows, key=lambda row: normalize_tracking_no(row["tracking_no"])):
        yield list(group)


@pytest.fixture(scope="module")
def sample() -> list[dict[str, str]]:
    """50,000 rows: enough for every variant to occur, small enough to check cell by cell."""
    return list(generate_rows(50_000, 20240401))


def test_same_seed_gives_identical_bytes_and_another_seed_does_not() -> None:
    first = csv_bytes(3000, 7)
    assert first == csv_bytes(3000, 7)
    assert first != csv_bytes(3000, 8)


@pytest.mark.parametrize("n_rows", [0, 1, 2, 7, 1001])
def test_exactly_the_rows_asked_for(n_rows: int) -> None:
    assert sum(1 for _ in generate_rows(n_rows, 3)) == n_rows
    lines = csv_bytes(n_rows, 3).decode("utf-8").split("\r\n")
    assert lines[-1] == ""  # CRLF after every record, header included
    assert len(lines) - 1 == n_rows + 1


def test_headers_in_english_or_japanese_and_bom_only_when_asked() -> None:
    english = csv_bytes(5, 1)
    assert english.startswith(b"tracking_no,return_date,return_reason,")
    japanese = csv_bytes(5, 1, header="ja", encoding="utf-8-sig")
    assert japanese.startswith("\ufeffお問い合わせ番号,返戻日,還付事由".encode())
    header = next(csv.reader(io.StringIO(japanese.decode("utf-8-sig"))))
    assert header == [JAPANESE_HEADERS[column] for column in COLUMNS]
    # Same rows whatever the header language.
    assert english.split(b"\r\n", 1)[1] == japanese.split(b"\r\n", 1)[1]


def test_households_are_consecutive_and_agree_on_the_envelope(
    sample: list[dict[str, str]],
) -> None:
    seen: set[str] = set()
    sizes: Counter[int] = Counter()
    for rows in households(iter(sample)):
        digits = normalize_tracking_no(rows[0]["tracking_no"])
        assert digits not in seen, "a household's rows must be consecutive"
        seen.add(digits)
        sizes[len(rows)] += 1
        for column in ENVELOPE_COLUMNS:
            assert {row[column] for row in rows} == {rows[0][column]}, column
        assert rows[0]["relationship"] == "世帯主"
        assert rows[0]["addressee"] == rows[0]["name"]
        assert all(row["relationship"] != "世帯主" for row in rows[1:])
    assert set(sizes) == {1, 2, 3, 4, 5, 6}
    total = sum(sizes.values())
    assert (sizes[1] + sizes[2] + sizes[3]) / total > 0.75  # most households are small
    assert sizes[6] / total < 0.05


def test_parents_are_older_than_their_children(sample: list[dict[str, str]]) -> None:
    for rows in households(iter(sample)):
        born = {row["relationship"]: parse_date(row["birth_date"]) for row in rows}
        head = born["世帯主"]
        for row in rows:
            relationship, birth = row["relationship"], parse_date(row["birth_date"])
            if relationship in ("父", "母"):
                assert birth < head
            if relationship == "子":
                assert birth > head
                assert all(birth > born[spouse] for spouse in ("妻", "夫") if spouse in born)
            if relationship == "孫":
                assert birth > born["子"]


def test_tracking_numbers_are_unique_and_about_half_a_percent_warn() -> None:
    numbers: set[str] = set()
    warnings = 0
    envelopes = 0
    for rows in households(generate_rows(200_000, 11)):
        envelopes += 1
        parsed = parse_tracking_no(rows[0]["tracking_no"])
        assert len(parsed.digits) == 12
        numbers.add(parsed.digits)
        warnings += parsed.warning is not None
    assert len(numbers) == envelopes
    assert 0.003 < warnings / envelopes < 0.007


def test_files_made_with_different_seeds_share_no_tracking_number() -> None:
    def numbers(seed: int) -> set[str]:
        return {normalize_tracking_no(row["tracking_no"]) for row in generate_rows(20_000, seed)}

    assert not numbers(1) & numbers(2)


def test_cp932_output_encodes_strictly_and_round_trips() -> None:
    rows = list(generate_rows(30_000, 5, cp932_safe=True))
    for row in rows:
        for value in row.values():
            value.encode("cp932")  # strict: raises on anything CP932 cannot hold
    data = csv_bytes(30_000, 5, encoding="cp932", header="ja")
    reader = csv.reader(io.StringIO(data.decode("cp932"), newline=""))
    assert next(reader) == [JAPANESE_HEADERS[column] for column in COLUMNS]
    assert [dict(zip(COLUMNS, record, strict=True)) for record in reader] == rows


def test_cp932_safe_keeps_the_same_people_and_only_swaps_what_cp932_lacks() -> None:
    plain = list(generate_rows(30_000, 5))
    safe = list(generate_rows(30_000, 5, cp932_safe=True))
    assert any("𠮷" in row["name"] for row in plain)
    changed = [(a, b) for a, b in zip(plain, safe, strict=True) if a != b]
    assert changed
    for original, replaced in changed:
        assert original["tracking_no"] == replaced["tracking_no"]
        assert original["name_kana"] == replaced["name_kana"]
        assert replaced["name"] == original["name"].replace("𠮷", "吉").replace(
            "葛\U000e0100", "葛"
        )


def test_no_cell_could_hold_an_individual_number(sample: list[dict[str, str]]) -> None:
    for row in sample:
        for column in FREE_TEXT:
            value = row[column]
            assert not contains_individual_number(value), (column, value)
            # Stronger, and why the above holds: no free-text digit run is longer than four.
            runs = re.findall(r"[0-9]+", unicodedata.normalize("NFKC", value))
            assert max(map(len, runs), default=0) <= 4, (column, value)


def test_every_date_parses_and_return_dates_stay_in_range(sample: list[dict[str, str]]) -> None:
    shapes: set[str] = set()
    for row in sample:
        returned = parse_date(row["return_date"])
        born = parse_date(row["birth_date"])
        assert START <= returned <= END
        assert returned.weekday() < 5
        assert date(1900, 1, 1) <= born < returned
        for text in (row["return_date"], row["birth_date"]):
            shapes.add(re.sub(r"[0-9０-９]+", "9", text))
    # SPEC §6.1 forms all occur: ISO, slashes, 和暦 in kanji and letters, zero-padded, full-width.
    for shape in ("9-9-9", "9/9/9", "平成9年9月9日", "H9.9.9", "R9.9.9", "S9.9.9", "T9.9.9"):
        assert shape in shapes, shape
    assert any("元年" in shape for shape in shapes)
    assert any(re.search("[０-９]", row["return_date"]) for row in sample)


def test_item_kind_agrees_with_the_return_date(sample: list[dict[str, str]]) -> None:
    kinds: Counter[str] = Counter()
    for row in sample:
        kinds[row["item_kind"]] += 1
        returned = parse_date(row["return_date"])
        if row["item_kind"] in ("number_notice", "個人番号通知書"):
            assert returned >= NOTICE_START
        else:
            assert row["item_kind"] in ("", "notification_card", "通知カード")
            assert returned < NOTICE_START
    cards = kinds[""] + kinds["notification_card"] + kinds["通知カード"]
    assert cards > len(sample) / 2
    assert kinds["number_notice"] and kinds["個人番号通知書"]


def test_every_row_passes_the_import_field_rules(sample: list[dict[str, str]]) -> None:
    """What the bulk import checks per row (tracker.domain.records), without a database."""
    today = date(2022, 1, 1)
    warned = 0
    for row in sample:
        checked = Checked()
        envelope = check_envelope(row, today, checked)
        assert envelope is not None, (checked.errors, row)
        check_item(row, today, envelope.returned_on, checked)
        assert not checked.errors, (checked.errors, row)
        assert set(checked.warnings) <= {"tracking_no"}
        warned += bool(checked.warnings)
    assert warned


def test_the_variety_an_importer_must_cope_with(sample: list[dict[str, str]]) -> None:
    names = [row["name"] for row in sample]
    kana = [row["name_kana"] for row in sample]
    assert all(is_kana(value) for value in kana)
    assert any("\u3000" in name for name in names)
    assert any(" " in name for name in names)
    assert any(re.search("[ｦ-ﾟ]", value) for value in kana)  # half-width
    assert any(re.search("[ぁ-ゖ]", value) for value in kana)  # hiragana
    for variant in ("髙橋", "山﨑", "渡邊", "渡邉", "齋藤", "𠮷田"):
        assert any(name.startswith(variant) for name in names), variant
    for reason in ReturnReason:
        reasons = {row["return_reason"] for row in sample}
        assert reason.value in reasons
        assert RETURN_REASON_LABELS[reason] in reasons
    locations = Counter(row["location"] for row in sample)
    assert locations[""] > len(sample) / 2
    assert {"CHUO", "HIGASHI", "NISHI", "MINAMI", "KITA", "東区役所", "北区役所"} <= set(locations)
    assert all(row["address"].startswith(("熊本市", "熊本県熊本市")) for row in sample)
    assert all(re.fullmatch(r"[HR][0-9]{2}-[0-9]{2}-B[0-9]{3}|", row["slot"]) for row in sample)
    envelopes = list(households(iter(sample)))
    with_code = sum(bool(rows[0]["household_code"]) for rows in envelopes)
    assert 0.6 < with_code / len(envelopes) < 0.8
    assert all(re.fullmatch(r"[0-9]*", row["household_code"]) for row in sample)


def test_memory_stays_flat_while_streaming() -> None:
    """Buffering the rows would take megabytes; streaming 30,000 takes a few kilobytes."""
    rows = generate_rows(30_000, 2)
    next(rows)  # set-up (tables are module-level; the generator's state is tiny)
    tracemalloc.start()
    try:
        for _ in islice(rows, 29_999):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 512 * 1024


def test_bad_arguments_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="after end"):
        generate_rows(10, 1, start=date(2020, 1, 2), end=date(2020, 1, 1))
    with pytest.raises(ValueError, match="first mailing"):
        generate_rows(10, 1, start=date(2015, 1, 1))
    with pytest.raises(ValueError, match="negative"):
        generate_rows(-1, 1)


def test_a_narrow_window_keeps_every_return_date_inside_it() -> None:
    start, end = date(2018, 4, 1), date(2019, 3, 31)
    for row in generate_rows(2000, 4, start=start, end=end):
        assert start <= parse_date(row["return_date"]) <= end
        assert row["item_kind"] != "number_notice"


def test_script_writes_a_file_and_keeps_stdout_clean(tmp_path: Path) -> None:
    output = tmp_path / "returns.csv"
    result = subprocess.run(
        [
            str(SCRIPT),
            "500",
            "--seed",
            "5",
            "--encoding",
            "cp932",
            "--header",
            "ja",
            "--output",
            str(output),
        ],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""
    assert output.read_bytes() == csv_bytes(500, 5, encoding="cp932", header="ja")

    to_stdout = subprocess.run(
        [str(SCRIPT), "200", "--seed", "5"], capture_output=True, check=False, timeout=60
    )
    assert to_stdout.returncode == 0
    assert to_stdout.stderr == b""
    assert to_stdout.stdout == csv_bytes(200, 5)


def test_script_usage_errors_exit_2() -> None:
    result = subprocess.run(
        [str(SCRIPT), "ten"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 2
    assert "rows" in result.stderr
    assert result.stdout == ""


def test_tracking_number_check_digit_is_right_unless_corrupted() -> None:
    assert parse_tracking_no(tracking_number(1, 0)).warning is None
    for corrupt in range(1, 10):
        assert parse_tracking_no(tracking_number(1, 0, corrupt=corrupt)).warning is not None
    assert tracking_number(1, 0)[:11] == tracking_number(1, 0, corrupt=4)[:11]
