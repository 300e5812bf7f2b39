"""The field rules of a resident-register result (SPEC §7.1), shared by form and file."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.domain.codes import RegisterOutcome
from tracker.domain.records import FieldError
from tracker.domain.register import check_checked_on, check_entry, check_event_on, check_outcome
from tracker.domain.wareki import DateParseError

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("現住", RegisterOutcome.RESIDENT),
        (" 市内転居 ", RegisterOutcome.MOVED_WITHIN),
        ("転出", RegisterOutcome.MOVED_OUT),
        ("死亡", RegisterOutcome.DECEASED),
        ("職権消除", RegisterOutcome.STRUCK_OFF),
        ("国外転出", RegisterOutcome.EMIGRATED),
        ("deceased", RegisterOutcome.DECEASED),
        ("ＤＥＣＥＡＳＥＤ", RegisterOutcome.DECEASED),
    ],
)
def test_outcomes_by_japanese_label_or_code(text: str, outcome: RegisterOutcome) -> None:
    assert check_outcome(text) is outcome


@pytest.mark.parametrize("text", ["", "引越し", "dead"])
def test_an_unknown_outcome_lists_the_choices(text: str) -> None:
    with pytest.raises(FieldError, match=r"現住・市内転居・転出・死亡・職権消除・国外転出|入力"):
        check_outcome(text)


def test_the_event_date_is_required_except_for_resident() -> None:
    assert check_event_on("", RegisterOutcome.RESIDENT, TODAY) is None
    with pytest.raises(FieldError, match="「死亡」のときは異動日を入力してください"):
        check_event_on(" ", RegisterOutcome.DECEASED, TODAY)


@pytest.mark.parametrize(
    "text", ["令和5年1月10日", "R5.1.10", "R05.01.10", "2023-01-10", "2023/1/10", "㋿5年1月10日"]
)
def test_event_dates_in_every_spec_form(text: str) -> None:
    assert check_event_on(text, RegisterOutcome.MOVED_OUT, TODAY) == date(2023, 1, 10)


def test_impossible_or_later_event_dates_are_refused() -> None:
    with pytest.raises(DateParseError, match="存在しない日付"):
        check_event_on("2023-02-30", RegisterOutcome.DECEASED, TODAY)
    with pytest.raises(DateParseError):
        check_event_on("平成31年5月1日", RegisterOutcome.DECEASED, TODAY)
    with pytest.raises(FieldError, match="照合日 令和8年11月27日 \\(2026-11-27\\) より後"):
        check_event_on("2026-11-28", RegisterOutcome.DECEASED, TODAY)


def test_the_check_date_defaults_to_today_and_is_never_in_the_future() -> None:
    assert check_checked_on("", TODAY) == TODAY
    assert check_checked_on("R8.11.1", TODAY) == date(2026, 11, 1)
    with pytest.raises(FieldError, match="未来"):
        check_checked_on("2026-11-28", TODAY)


def test_an_entry_equal_in_outcome_date_and_note_is_the_same() -> None:
    entry = check_entry("死亡", "R5.1.10", "", TODAY)
    assert entry.same_as("deceased", date(2023, 1, 10), None)
    assert entry.same_as("deceased", date(2023, 1, 10), "")
    assert not entry.same_as("deceased", date(2023, 1, 11), None)
    assert not entry.same_as("deceased", date(2023, 1, 10), "病院")
    assert not entry.same_as("moved_out", date(2023, 1, 10), None)


def test_a_note_with_an_individual_number_is_refused() -> None:
    with pytest.raises(FieldError, match="個人番号"):
        check_entry("現住", "", "番号 123456789018", TODAY)
