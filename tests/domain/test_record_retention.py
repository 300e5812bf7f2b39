"""Retention periods of the tracker's own records (issue 16 part 2): the cutoff counted like
民法 140–143, the bounds and their messages, and the placeholder no form accepts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tracker.domain.codes import RecordClass
from tracker.domain.errors import InputError
from tracker.domain.record_retention import (
    PLACEHOLDER,
    PLACEHOLDER_BIRTH_DATE,
    PeriodError,
    checked_period,
    cutoff,
    kept_until,
)
from tracker.domain.records import OLDEST_BIRTH_DATE, check_birth_date, check_free_text


@pytest.mark.parametrize(
    ("record_class", "count", "anchor"),
    [
        (RecordClass.ITEMS, 5, date(2026, 1, 1)),
        (RecordClass.ITEMS, 5, date(2024, 2, 29)),  # kept through 2029-02-28
        (RecordClass.HANDOVERS, 1, date(2027, 3, 1)),
        (RecordClass.RESERVATIONS, 365, date(2030, 12, 31)),
        (RecordClass.CONTACTS, 30, date(2000, 2, 29)),
    ],
)
def test_a_record_is_kept_through_its_last_day_and_due_the_day_after(
    record_class: RecordClass, count: int, anchor: date
) -> None:
    last = kept_until(record_class, count, anchor)
    assert not anchor < cutoff(record_class, count, last)  # kept on its last day
    assert anchor < cutoff(record_class, count, last + timedelta(days=1))  # due the next


def test_periods_are_bounded_with_messages_naming_the_class() -> None:
    assert checked_period(RecordClass.ITEMS, "7") == 7
    assert checked_period(RecordClass.RESERVATIONS, 3650) == 3650
    with pytest.raises(PeriodError, match="終了した通知物と返戻郵便の保存期間は1〜30年"):
        checked_period(RecordClass.ITEMS, 31)
    with pytest.raises(PeriodError, match="受取予約の保存期間は1〜3650日"):
        checked_period(RecordClass.RESERVATIONS, "0")
    with pytest.raises(PeriodError, match="「５」は数ではありません"):
        checked_period(RecordClass.CONTACTS, "５")
    with pytest.raises(PeriodError, match="数ではありません"):
        checked_period(RecordClass.HANDOVERS, "")


def test_no_form_accepts_the_placeholders() -> None:
    for typed in (PLACEHOLDER, "保存期間経過により消去済", "(保存期間経過により消去)"):
        with pytest.raises(InputError, match="消去済の記録の印"):
            check_free_text(typed, "name", required=True, label="氏名")
    assert check_free_text("保存期間の相談", "name", required=True, label="氏名")
    assert PLACEHOLDER_BIRTH_DATE < OLDEST_BIRTH_DATE
    with pytest.raises(InputError, match="古すぎます"):
        check_birth_date(PLACEHOLDER_BIRTH_DATE.isoformat(), date(2026, 12, 1))
