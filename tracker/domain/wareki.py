"""Japanese dates: read what clerks and CSV files write, show 和暦 with ISO beside it.

SPEC §6.1. Birth dates reach back to 大正 (and a few to 明治), return dates are 平成/令和, and
people write them in many shapes: ``2018-04-01``, ``平成30年4月1日``, ``H30.4.1``, ``R02.03.31``,
``㋿2.3.31``, full-width ``Ｈ３０．４．１``. Everything is NFKC-normalised first, so full-width
digits, letters and punctuation and the era ligatures (㋿ ㍻ ㍼ ㍽ ㍾) need no special case.

Era starts (the first Gregorian day of each era; the last day is the day before the next):

* 明治 1868-01-25. The era name was proclaimed on 1868-10-23 (慶応4年9月8日 in the old
  calendar) and made retroactive to the start of that lunisolar year, 慶応4年1月1日 =
  1868-01-25, so the whole of that year is 明治元年. Japan only adopted the Gregorian calendar
  on 1873-01-01 (明治6年1月1日), so no printed 明治 date before 1873 is a Gregorian date
  anyway: we map 明治 N年 M月 D日 to the Gregorian date (1867 + N, M, D), as other software
  does. This only matters for birth dates before 1873, which this tracker will not meet; the
  start was the proclamation day until issue 10 made 1868-01-25 the first date the tracker
  holds at all, and a date it holds must be one it can write in 和暦.
* 大正 1912-07-30, 昭和 1926-12-25, 平成 1989-01-08, 令和 2019-05-01.

Every date this tracker reads, from a form, a query argument, an import file or the command
line, goes through :func:`parse_date` and so lies in :data:`DATE_MIN` … :data:`DATE_MAX`
(issue 10). The lower bound is where 和暦 begins: nothing earlier can be shown the way this
office writes dates. The upper bound is far beyond any retention period or disposal date, and
keeps ``day + 1`` and the databases' date types safely in range (PostgreSQL and Python would
otherwise fail at year 9999, and a page about 9999-12-31 would answer with a 500). Import
birth and return dates get the same bound, as they should: a date before 明治 is not a date
this system can hold, and their own tighter limits (born 1900 or later, returned no earlier
than the first mailing) are checked after it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tracker.domain.errors import DateParseError
from tracker.domain.mynumber import mask_individual_numbers

__all__ = [
    "DATE_MAX",
    "DATE_MIN",
    "ERAS",
    "JST",
    "DateParseError",
    "Era",
    "era_of",
    "format_jst",
    "format_wareki",
    "format_wareki_short",
    "format_wareki_with_iso",
    "parse_date",
]


@dataclass(frozen=True)
class Era:
    """One Japanese era (元号): its name, one-letter code and Gregorian span."""

    name: str  #: 平成
    letter: str  #: H, as in H30.4.1
    first_day: date
    last_day: date | None  #: None while the era lasts

    def year_of(self, d: date) -> int:
        """The era year (1 = 元年) of a day that lies in this era."""
        return d.year - self.first_day.year + 1

    def gregorian_year(self, era_year: int) -> int:
        """The Gregorian year in which this era's `era_year` falls."""
        return self.first_day.year + era_year - 1

    def contains(self, d: date) -> bool:
        return self.first_day <= d and (self.last_day is None or d <= self.last_day)


def _eras(starts: list[tuple[str, str, date]]) -> tuple[Era, ...]:
    """Build the table so that each era ends the day before the next one begins."""
    eras: list[Era] = []
    for index, (name, letter, first_day) in enumerate(starts):
        following = starts[index + 1][2] if index + 1 < len(starts) else None
        last_day = following - timedelta(days=1) if following is not None else None
        eras.append(Era(name, letter, first_day, last_day))
    return tuple(eras)


#: Oldest first. SPEC §6.1: "every modern era"; see the module docstring for 明治.
ERAS: tuple[Era, ...] = _eras(
    [
        ("明治", "M", date(1868, 1, 25)),
        ("大正", "T", date(1912, 7, 30)),
        ("昭和", "S", date(1926, 12, 25)),
        ("平成", "H", date(1989, 1, 8)),
        ("令和", "R", date(2019, 5, 1)),
    ]
)

#: The first and last dates the tracker holds (issue 10; see the module docstring).
DATE_MIN: date = ERAS[0].first_day
DATE_MAX: date = date(2100, 12, 31)

# Every way an era is written after NFKC and upper-casing: 平成, H, and the one-kanji
# abbreviation 平 seen on forms (平30.4.1). The ligatures ㋿ ㍻ … have become 令和 平成 … by then.
_ERA_BY_TOKEN: dict[str, Era] = {}
for _era in ERAS:
    _ERA_BY_TOKEN[_era.name] = _era
    _ERA_BY_TOKEN[_era.letter] = _era
    _ERA_BY_TOKEN[_era.name[0]] = _era
_ERA_TOKENS = "|".join(sorted(map(re.escape, _ERA_BY_TOKEN), key=len, reverse=True))

# Hyphen look-alikes that NFKC leaves alone but people (and IMEs) type between numbers.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−ー", "-"))

_N = r"([0-9]{1,2})"
_WESTERN_SEPARATED = re.compile(rf"([0-9]{{4}})\s*([-/.])\s*{_N}\s*\2\s*{_N}")
_WESTERN_KANJI = re.compile(rf"([0-9]{{4}})\s*年\s*{_N}\s*月\s*{_N}\s*日")
_WESTERN_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_ERA_KANJI = re.compile(rf"({_ERA_TOKENS})\s*(元|[0-9]{{1,2}})\s*年\s*{_N}\s*月\s*{_N}\s*日")
_ERA_SEPARATED = re.compile(rf"({_ERA_TOKENS})\s*(元|[0-9]{{1,2}})\s*([-/.])\s*{_N}\s*\3\s*{_N}")
# What format_wareki_with_iso prints, read back: 令和2年3月31日 (2020-03-31).
_WITH_ISO = re.compile(r"(.+?)\s*\(\s*([^()]+?)\s*\)")

_EXAMPLES = "2018-04-01、2018/4/1、平成30年4月1日、H30.4.1 のように入力してください"


@functools.lru_cache(maxsize=8192)  # imports repeat the same dates many times over
def parse_date(text: str) -> date:
    """Read a date written in any of the SPEC §6.1 forms.

    Raises DateParseError with a Japanese message saying why: no recognisable date, a day
    that does not exist (2018-02-30), or an era date outside its era (平成31年5月1日).
    """
    normalised = unicodedata.normalize("NFKC", text).translate(_DASHES).strip().upper()
    if not normalised:
        raise DateParseError("日付が入力されていません。" + _EXAMPLES)
    both = _WITH_ISO.fullmatch(normalised)
    if both is None:
        return _in_range(_parse_one(normalised, text))
    first, second = _parse_one(both[1], text), _parse_one(both[2], text)
    if first != second:
        raise DateParseError(
            f"「{_shorten(text)}」の和暦と西暦が一致しません"
            f"（{_describe(first)} は {first.isoformat()}、"
            f"{second.isoformat()} は {_describe(second)} です）"
        )
    return _in_range(first)


def _in_range(d: date) -> date:
    if DATE_MIN <= d <= DATE_MAX:
        return d
    raise DateParseError(
        f"{d.isoformat()} は扱える日付の範囲外です。{format_wareki(DATE_MIN)}"
        f"（{DATE_MIN.isoformat()}）から{DATE_MAX.year}年{DATE_MAX.month}月{DATE_MAX.day}日"
        f"（{DATE_MAX.isoformat()}）までの日付を入力してください"
    )


def _parse_one(s: str, original: str) -> date:
    if match := _WESTERN_SEPARATED.fullmatch(s):
        return _western(int(match[1]), int(match[3]), int(match[4]))
    if match := _WESTERN_KANJI.fullmatch(s) or _WESTERN_COMPACT.fullmatch(s):
        return _western(int(match[1]), int(match[2]), int(match[3]))
    if match := _ERA_KANJI.fullmatch(s):
        return _from_era(_ERA_BY_TOKEN[match[1]], match[2], int(match[3]), int(match[4]))
    if match := _ERA_SEPARATED.fullmatch(s):
        return _from_era(_ERA_BY_TOKEN[match[1]], match[2], int(match[4]), int(match[5]))
    raise DateParseError(f"「{_shorten(original)}」は日付として読み取れません。" + _EXAMPLES)


def _western(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateParseError(f"{year}年{month}月{day}日は存在しない日付です") from None


def _from_era(era: Era, year_text: str, month: int, day: int) -> date:
    era_year = 1 if year_text == "元" else int(year_text)
    written = f"{era.name}{_year_label(era_year)}年{month}月{day}日"
    if era_year < 1:
        raise DateParseError(f"{written}は存在しない日付です（和暦の年は元年＝1年から数えます）")
    try:
        d = date(era.gregorian_year(era_year), month, day)
    except ValueError:
        raise DateParseError(f"{written}は存在しない日付です") from None
    if d < era.first_day:
        raise DateParseError(
            f"{written}（{d.isoformat()}）は{era.name}の期間外です。"
            f"{era.name}は{format_wareki(era.first_day)}（{era.first_day.isoformat()}）からです"
            + _actually(d)
        )
    if era.last_day is not None and d > era.last_day:
        raise DateParseError(
            f"{written}（{d.isoformat()}）は{era.name}の期間外です。"
            f"{era.name}は{format_wareki(era.last_day)}（{era.last_day.isoformat()}）までです"
            + _actually(d)
        )
    return d


def _actually(d: date) -> str:
    """A hint naming the era date the person probably meant, when there is one."""
    return f"。{d.isoformat()}は{format_wareki(d)}です" if d >= ERAS[0].first_day else ""


def _describe(d: date) -> str:
    return format_wareki(d) if d >= ERAS[0].first_day else f"{d.year}年{d.month}月{d.day}日"


def _shorten(text: str, limit: int = 40) -> str:
    """What was typed, as a message may quote it: individual numbers masked (SPEC §2), cut."""
    text = mask_individual_numbers(text.strip())
    return text if len(text) <= limit else text[:limit] + "…"


def _year_label(era_year: int) -> str:
    return "元" if era_year == 1 else str(era_year)


def era_of(d: date) -> Era:
    """The era a day belongs to; ValueError before 明治 (no era date to show)."""
    for era in reversed(ERAS):
        if d >= era.first_day:
            return era
    raise ValueError(f"{d.isoformat()}は明治より前の日付のため和暦で表せません")


def format_wareki(d: date) -> str:
    """``令和2年3月31日``; the first year of an era is 元年 (``令和元年5月1日``)."""
    era = era_of(d)
    return f"{era.name}{_year_label(era.year_of(d))}年{d.month}月{d.day}日"


def format_wareki_with_iso(d: date) -> str:
    """``令和2年3月31日 (2020-03-31)``: SPEC §6.1, the ISO date beside it where space allows."""
    return f"{format_wareki(d)} ({d.isoformat()})"


def format_wareki_short(d: date) -> str:
    """``R2.3.31``, for labels and narrow columns; year 1 is written 1 (``R1.5.1``)."""
    era = era_of(d)
    return f"{era.letter}{era.year_of(d)}.{d.month}.{d.day}"


#: Printed times are Japan time, whatever zone the server runs in (SPEC §3).
JST = ZoneInfo("Asia/Tokyo")


def format_jst(moment: datetime) -> str:
    """``令和8年11月27日 14:05``: a timezone-aware moment in Japan time, 和暦 date and 24-hour
    clock, as receipts and certificates print their time of issue."""
    local = moment.astimezone(JST)
    return f"{format_wareki(local.date())} {local:%H:%M}"
