"""Japanese dates as clerks and CSV files write them (SPEC §6.1)."""

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from tracker.domain.errors import InputError
from tracker.domain.wareki import (
    DATE_MAX,
    DATE_MIN,
    ERAS,
    DateParseError,
    era_of,
    format_jst,
    format_wareki,
    format_wareki_short,
    format_wareki_with_iso,
    parse_date,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Western
        ("2018-04-01", date(2018, 4, 1)),
        ("2018/4/1", date(2018, 4, 1)),
        ("2018/04/01", date(2018, 4, 1)),
        ("2018.4.1", date(2018, 4, 1)),
        ("2018年4月1日", date(2018, 4, 1)),
        ("2018年04月01日", date(2018, 4, 1)),
        ("20180401", date(2018, 4, 1)),
        # Era, written out
        ("平成30年4月1日", date(2018, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("令和2年3月31日", date(2020, 3, 31)),
        ("昭和59年6月20日", date(1984, 6, 20)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("明治45年7月29日", date(1912, 7, 29)),
        ("平成 30 年 4 月 1 日", date(2018, 4, 1)),
        # Era, abbreviated with a letter
        ("H30.4.1", date(2018, 4, 1)),
        ("S59.06.20", date(1984, 6, 20)),
        ("R2.3.31", date(2020, 3, 31)),
        ("R02.03.31", date(2020, 3, 31)),
        ("H30/4/1", date(2018, 4, 1)),
        ("H30-4-1", date(2018, 4, 1)),
        ("T1.7.30", date(1912, 7, 30)),
        ("M45.7.29", date(1912, 7, 29)),
        ("R1.5.1", date(2019, 5, 1)),
        ("R元.5.1", date(2019, 5, 1)),
        ("h30.4.1", date(2018, 4, 1)),
        ("s59.6.20", date(1984, 6, 20)),
        ("r2.3.31", date(2020, 3, 31)),
        # Era, abbreviated with one kanji as on paper forms
        ("平30.4.1", date(2018, 4, 1)),
        ("昭59年6月20日", date(1984, 6, 20)),
        # Full-width digits, letters and punctuation (NFKC)
        ("２０１８－０４－０１", date(2018, 4, 1)),
        ("２０１８／４／１", date(2018, 4, 1)),
        ("平成３０年４月１日", date(2018, 4, 1)),
        ("Ｈ３０．４．１", date(2018, 4, 1)),
        ("ｈ３０．４．１", date(2018, 4, 1)),
        ("Ｒ０２．０３．３１", date(2020, 3, 31)),
        # Dash look-alikes typed between the numbers
        ("2018ー04ー01", date(2018, 4, 1)),
        ("2018−04−01", date(2018, 4, 1)),
        ("H30‐4‐1", date(2018, 4, 1)),
        # Era ligatures
        ("㋿2年3月31日", date(2020, 3, 31)),
        ("㋿2.3.31", date(2020, 3, 31)),
        ("㋿元年5月1日", date(2019, 5, 1)),
        ("㍻30年4月1日", date(2018, 4, 1)),
        ("㍼59年6月20日", date(1984, 6, 20)),
        ("㍽15年12月24日", date(1926, 12, 24)),
        ("㍾45年7月29日", date(1912, 7, 29)),
        # Surrounding whitespace, including the ideographic space
        ("  2018-04-01\n", date(2018, 4, 1)),
        ("\u3000平成30年4月1日\u3000", date(2018, 4, 1)),
        ("\tH30.4.1 ", date(2018, 4, 1)),
        # What format_wareki_with_iso prints
        ("令和2年3月31日 (2020-03-31)", date(2020, 3, 31)),
        ("令和2年3月31日（2020-03-31）", date(2020, 3, 31)),
    ],
)
def test_parse_date_accepts_every_documented_form(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2018-02-30", "2018年2月30日は存在しない日付です"),
        ("2019-02-29", "2019年2月29日は存在しない日付です"),
        ("2018/13/1", "2018年13月1日は存在しない日付です"),
        ("2018年4月31日", "2018年4月31日は存在しない日付です"),
        ("20180230", "2018年2月30日は存在しない日付です"),
        ("平成30年2月30日", "平成30年2月30日は存在しない日付です"),
        ("H31.2.29", "平成31年2月29日は存在しない日付です"),
        ("R2.0.1", "令和2年0月1日は存在しない日付です"),
        ("平成0年4月1日", "平成0年4月1日は存在しない日付です"),
    ],
)
def test_parse_date_rejects_impossible_days_saying_so(text: str, reason: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date(text)
    assert reason in str(caught.value)


def test_heisei_31_may_is_refused_because_heisei_ended_in_april() -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date("平成31年5月1日")
    message = str(caught.value)
    assert "平成の期間外" in message
    assert "平成は平成31年4月30日（2019-04-30）まで" in message
    assert "令和元年5月1日" in message  # the date the person most likely meant


def test_reiwa_1_april_is_refused_because_reiwa_began_in_may() -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date("令和1年4月30日")
    message = str(caught.value)
    assert "令和の期間外" in message
    assert "令和は令和元年5月1日（2019-05-01）から" in message
    assert "平成31年4月30日" in message


@pytest.mark.parametrize(
    ("text", "era_span"),
    [
        ("H31.5.1", "平成は平成31年4月30日（2019-04-30）まで"),
        ("平成32年1月1日", "平成は平成31年4月30日（2019-04-30）まで"),
        ("昭和64年1月8日", "昭和は昭和64年1月7日（1989-01-07）まで"),
        ("平成元年1月7日", "平成は平成元年1月8日（1989-01-08）から"),
        ("大正15年12月25日", "大正は大正15年12月24日（1926-12-24）まで"),
        ("昭和元年12月24日", "昭和は昭和元年12月25日（1926-12-25）から"),
        ("明治45年7月30日", "明治は明治45年7月29日（1912-07-29）まで"),
        ("大正元年7月29日", "大正は大正元年7月30日（1912-07-30）から"),
        ("明治元年1月1日", "明治は明治元年1月25日（1868-01-25）から"),
    ],
)
def test_parse_date_rejects_dates_outside_their_era(text: str, era_span: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date(text)
    assert era_span in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "2018",
        "18/4/1",
        "2018-4/1",
        "H30",
        "X30.4.1",
        "平成三十年四月一日",
        "明日",
    ],
)
def test_parse_date_rejects_unrecognised_text_with_examples(text: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date(text)
    message = str(caught.value)
    assert "2018-04-01" in message and "平成30年4月1日" in message  # shows what to type
    if text.strip():
        assert "日付として読み取れません" in message
        assert text.strip() in message
    else:
        assert "日付が入力されていません" in message


def test_parse_date_error_does_not_echo_very_long_input_whole() -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date("x" * 500)
    assert len(str(caught.value)) < 200


def test_wareki_and_iso_that_disagree_are_refused() -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date("令和2年3月31日 (2020-03-30)")
    message = str(caught.value)
    assert "一致しません" in message
    assert "2020-03-31" in message and "2020-03-30" in message


def test_disagreeing_dates_before_meiji_still_get_a_clear_message() -> None:
    with pytest.raises(DateParseError, match="一致しません"):
        parse_date("1800-01-01 (1800-01-02)")


def test_date_parse_error_is_a_value_error_and_an_input_error() -> None:
    assert issubclass(DateParseError, InputError)
    assert issubclass(DateParseError, ValueError)


@pytest.mark.parametrize(
    ("day", "long", "short"),
    [
        (date(2020, 3, 31), "令和2年3月31日", "R2.3.31"),
        (date(2019, 5, 1), "令和元年5月1日", "R1.5.1"),
        (date(2019, 4, 30), "平成31年4月30日", "H31.4.30"),
        (date(2018, 4, 1), "平成30年4月1日", "H30.4.1"),
        (date(1989, 1, 8), "平成元年1月8日", "H1.1.8"),
        (date(1989, 1, 7), "昭和64年1月7日", "S64.1.7"),
        (date(1984, 6, 20), "昭和59年6月20日", "S59.6.20"),
        (date(1926, 12, 25), "昭和元年12月25日", "S1.12.25"),
        (date(1926, 12, 24), "大正15年12月24日", "T15.12.24"),
        (date(1912, 7, 30), "大正元年7月30日", "T1.7.30"),
        (date(1912, 7, 29), "明治45年7月29日", "M45.7.29"),
        (date(1868, 10, 23), "明治元年10月23日", "M1.10.23"),
        (date(1868, 1, 25), "明治元年1月25日", "M1.1.25"),
        (date(2035, 12, 31), "令和17年12月31日", "R17.12.31"),
    ],
)
def test_formats(day: date, long: str, short: str) -> None:
    assert format_wareki(day) == long
    assert format_wareki_with_iso(day) == f"{long} ({day.isoformat()})"
    assert format_wareki_short(day) == short


def test_format_before_meiji_is_refused() -> None:
    with pytest.raises(ValueError, match="明治より前"):
        format_wareki(date(1868, 1, 24))


@pytest.mark.parametrize(
    ("day", "era_name"),
    [
        (date(1912, 7, 29), "明治"),
        (date(1912, 7, 30), "大正"),
        (date(1926, 12, 24), "大正"),
        (date(1926, 12, 25), "昭和"),
        (date(1989, 1, 7), "昭和"),
        (date(1989, 1, 8), "平成"),
        (date(2019, 4, 30), "平成"),
        (date(2019, 5, 1), "令和"),
    ],
)
def test_era_boundaries(day: date, era_name: str) -> None:
    assert era_of(day).name == era_name
    for formatted in (format_wareki(day), format_wareki_with_iso(day), format_wareki_short(day)):
        assert parse_date(formatted) == day


def test_era_table_has_no_gaps_or_overlaps() -> None:
    for earlier, later in pairwise(ERAS):
        assert earlier.last_day == later.first_day - timedelta(days=1)
    assert ERAS[-1].last_day is None


@pytest.mark.parametrize("year", range(1989, 2036))
def test_every_day_round_trips_through_all_three_formats(year: int) -> None:
    day = max(date(year, 1, 1), date(1989, 1, 8))
    while day.year == year:
        assert parse_date(format_wareki(day)) == day, format_wareki(day)
        assert parse_date(format_wareki_with_iso(day)) == day, format_wareki_with_iso(day)
        assert parse_date(format_wareki_short(day)) == day, format_wareki_short(day)
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1868-01-25", date(1868, 1, 25)),
        ("明治元年1月25日", date(1868, 1, 25)),
        ("M1.1.25", date(1868, 1, 25)),
        ("2100-12-31", date(2100, 12, 31)),
        ("令和82年12月31日", date(2100, 12, 31)),
    ],
)
def test_the_first_and_last_dates_the_tracker_holds(text: str, expected: date) -> None:
    assert (date(1868, 1, 25), date(2100, 12, 31)) == (DATE_MIN, DATE_MAX)
    assert parse_date(text) == expected
    assert parse_date(format_wareki(expected)) == expected  # every date it holds is writable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("0001-01-01", "0001-01-01"),
        ("9999-12-31", "9999-12-31"),
        ("1868-01-24", "1868-01-24"),
        ("2101-01-01", "2101-01-01"),
        ("18000101", "1800-01-01"),
        ("R99.1.1", "2117-01-01"),
    ],
)
def test_dates_outside_the_range_are_refused_saying_the_range(text: str, shown: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date(text)
    message = str(caught.value)
    assert shown in message and "範囲外" in message
    assert "1868-01-25" in message and "2100-12-31" in message


@pytest.mark.parametrize("text", ["123456789018", "1234-5678-9018", "(123456789018)"])
def test_an_unreadable_date_is_quoted_without_an_individual_number(text: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_date(text)
    assert "123456789018" not in str(caught.value) and "9018" not in str(caught.value)


def test_time_is_converted_to_japan_even_across_midnight() -> None:
    late_utc = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    assert format_jst(late_utc) == "令和8年12月1日 00:30"
    assert format_jst(datetime(2019, 5, 1, 0, 0, tzinfo=timezone(timedelta(hours=9)))) == (
        "令和元年5月1日 00:00"
    )
