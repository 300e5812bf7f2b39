"""Retention of the tracker's own records (文書保存規程, issue 16 part 2): how long each class of
record keeps its personal values, and what replaces them afterwards.

Decided here:

- A period counts whole years (or days, for reservations) from an anchor date, the way
  民法 140–143 counts them: a record anchored on A is kept through A + N and its personal
  values go on the day after. As of D, the records anchored before :func:`cutoff` ``(D)``
  are due; one anchored exactly on the cutoff is kept one more day. A cutoff that would fall
  on a 29 February that does not exist is 1 March (A + N years is then 28 February, before D).
- Values are replaced, not deleted: the rows, their control numbers, dates, statuses and
  counts stay, so the ledger's figures, disposal certificates and the audit chain do not move.
  Text becomes :data:`PLACEHOLDER`, which is marked by its brackets and says what happened; a
  birth date (the column is required) becomes :data:`PLACEHOLDER_BIRTH_DATE`, a day before
  the oldest birth date the intake, the edit form and the import accept
  (:data:`tracker.domain.records.OLDEST_BIRTH_DATE`), so no real record can hold it and pages
  can show it as erased.
- Bounds: 1–30 years (a 文書保存規程 rarely keeps longer than 30 years; 永年 is not offered,
  since a period that never ends is not a retention period), 1–3650 days for reservations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tracker.domain.codes import RecordClass
from tracker.domain.errors import InputError
from tracker.domain.records import OLDEST_BIRTH_DATE, PURGED_TEXT

#: What replaces a name, kana, alias, address, recipient name or free text; pages show it as it
#: is, so it says what happened. Full-width brackets mark it as no name anyone has, and
#: :func:`tracker.domain.records.check_free_text` refuses it in every form and import.
PLACEHOLDER = PURGED_TEXT
#: What replaces a birth date: the day before the oldest one any form or import accepts.
PLACEHOLDER_BIRTH_DATE = OLDEST_BIRTH_DATE - timedelta(days=1)
#: How pages show an erased value (a name, a birth date, an address).
ERASED_LABEL = "保存期間経過により消去済"


@dataclass(frozen=True)
class Period:
    """A period's unit and bounds for one record class."""

    unit: str  # "years" or "days"
    default: int
    minimum: int
    maximum: int


#: Each class's unit, default and bounds; the anchor dates are in docs/record-retention.md.
PERIODS: dict[RecordClass, Period] = {
    # 5 years after the handover, destruction, loss or delivery (issue 16's default).
    RecordClass.ITEMS: Period("years", 5, 1, 30),
    # 5 years after the handover: the receipt (受領書) is kept as long as the card's record.
    RecordClass.HANDOVERS: Period("years", 5, 1, 30),
    # 365 days after the slot's day: a reservation only brings a person to the counter; a
    # year covers the complaints and the yearly figures of the fiscal year it fell in.
    RecordClass.RESERVATIONS: Period("days", 365, 1, 3650),
    # 5 years after the contact, as long as the item it is about.
    RecordClass.CONTACTS: Period("years", 5, 1, 30),
}

UNIT_LABELS = {"years": "年", "days": "日"}


class PeriodError(InputError):
    """A period that cannot be stored; ``field`` names its class."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def checked_period(record_class: RecordClass, value: object) -> int:
    """``value`` as a period of ``record_class``, or :class:`PeriodError` saying what is wrong."""
    period = PERIODS[record_class]
    unit = UNIT_LABELS[period.unit]
    bounds = f"{period.minimum}〜{period.maximum}{unit}"
    if isinstance(value, bool) or not isinstance(value, int):
        text = str(value).strip() if value is not None else ""
        if not text.isascii() or not text.isdigit():
            raise PeriodError(
                f"{record_class.label}の保存期間は{bounds}の整数で指定してください"
                f"（「{text}」は数ではありません）",
                record_class.value,
            )
        value = int(text)
    if not period.minimum <= value <= period.maximum:
        raise PeriodError(
            f"{record_class.label}の保存期間は{bounds}で指定してください（{value}{unit}）",
            record_class.value,
        )
    return value


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February of a year without one
        return date(day.year - years, 3, 1)


def cutoff(record_class: RecordClass, count: int, as_of: date) -> date:
    """The earliest anchor date still kept as of ``as_of``: records anchored before it are due."""
    if PERIODS[record_class].unit == "years":
        return _years_before(as_of, count)
    return as_of - timedelta(days=count)


def kept_until(record_class: RecordClass, count: int, anchor: date) -> date:
    """The last day a record anchored on ``anchor`` keeps its values."""
    if PERIODS[record_class].unit == "days":
        return anchor + timedelta(days=count)
    try:
        return anchor.replace(year=anchor.year + count)
    except ValueError:
        return date(anchor.year + count, 2, 28)
