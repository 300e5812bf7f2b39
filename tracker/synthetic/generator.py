"""The generator: one household's rows at a time from one seeded random stream."""

from __future__ import annotations

from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random
from typing import Literal

import jaconv

from tracker.domain.codes import RETURN_REASON_LABELS, ItemKind
from tracker.domain.records import FIRST_MAILING, NOTICE_START
from tracker.domain.wareki import era_of, format_wareki, format_wareki_short
from tracker.synthetic.numbers import MAX_ROWS, household_code, tracking_number
from tracker.synthetic.tables import (
    BUILDING_STEMS,
    BUILDING_WORDS,
    COHORT_STARTS,
    DATE_STYLES,
    FAMILY_NAMES,
    FOREIGN_NAMES,
    FOREIGN_SHARE,
    FULL_WIDTH,
    GIVEN_NAMES,
    HOUSEHOLD_SIZES,
    KANA_STYLES,
    KANJI_DIGITS,
    NAME_SEPARATORS,
    REASONS,
    VARIANT_SHARE,
    WARDS,
    DateStyle,
    KanaStyle,
)


def format_date(d: date, style: DateStyle) -> str:
    """`d` written the way `style` says; every style is one SPEC §6.1 accepts."""
    if style == "iso":
        return d.isoformat()
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "wareki":
        return format_wareki(d)
    if style == "short":
        return format_wareki_short(d)
    if style == "short0":
        era = era_of(d)
        return f"{era.letter}{era.year_of(d):02}.{d.month:02}.{d.day:02}"
    return format_wareki(d).translate(FULL_WIDTH)


def _cp932_ok(text: str) -> bool:
    """Whether CP932 can hold `text` (𠮷 and IVS it cannot)."""
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def _kana(text: str, style: KanaStyle) -> str:
    if style == "hiragana":
        return str(jaconv.kata2hira(text))
    if style == "half":
        return str(jaconv.z2h(text.replace("\u3000", " "), kana=True, ascii=False, digit=False))
    return text


def _business_day(d: date, start: date, end: date) -> date:
    """The next weekday outside 年末年始 (12/29–1/3) within [start, end], else the previous."""

    def closed(day: date) -> bool:
        return (
            day.weekday() >= 5 or (day.month, day.day) >= (12, 29) or (day.month, day.day) <= (1, 3)
        )

    forward = d
    while closed(forward) and forward < end:
        forward += timedelta(days=1)
    if not closed(forward):
        return forward
    backward = d
    while closed(backward) and backward > start:
        backward -= timedelta(days=1)
    return backward if not closed(backward) else d


@dataclass(frozen=True)
class _Person:
    relationship: str
    gender: Literal["M", "F"]
    age: int


class _Households:
    """Makes one household's rows at a time from one seeded random stream."""

    def __init__(self, seed: int, start: date, end: date, cp932_safe: bool) -> None:
        self.seed = seed
        self.rng = Random(seed)  # noqa: S311 - test data, not secrets
        self.start = start
        self.span = (end - start).days + 1
        self.end = end
        self.cp932_safe = cp932_safe

    def rows(self, index: int, size: int) -> list[dict[str, str]]:
        """The rows of household `index` (at most six: memory stays flat)."""
        rng = self.rng
        returned = _business_day(
            self.start + timedelta(days=rng.randrange(self.span)), self.start, self.end
        )
        kind = ItemKind.NUMBER_NOTICE if returned >= NOTICE_START else ItemKind.NOTIFICATION_CARD
        ward = WARDS.pick(rng)
        envelope = {
            "tracking_no": self._tracking_no(index),
            "return_date": format_date(returned, DATE_STYLES.pick(rng)),
            "return_reason": self._reason(),
            "address": self._address(ward.name, ward.towns),
            "household_code": household_code(self.seed, index) if rng.random() < 0.7 else "",
            "location": self._location(ward.location_code, ward.location_name),
            "slot": self._slot(returned) if rng.random() < 0.85 else "",
            # Issue 14's optional columns, left empty: no draw, so seeds give the same people.
            **dict.fromkeys(("alias", "first_notice_on", "renotice_on", "card_expires_on"), ""),
        }
        item_kind = self._item_kind(kind)
        birth_style = DATE_STYLES.pick(rng)
        kana_style = KANA_STYLES.pick(rng)
        separator = NAME_SEPARATORS.pick(rng)
        if kana_style == "half":
            kana_separator = " "
        elif separator:
            kana_separator = separator
        else:
            kana_separator = "\u3000" if rng.random() < 0.6 else ""

        if size == 1 and rng.random() < FOREIGN_SHARE:
            family, given, family_kana, given_kana = rng.choice(FOREIGN_NAMES)
            name = f"{family} {given}" if family.isascii() else f"{family}{separator}{given}"
            kana = f"{family_kana}{kana_separator}{given_kana}"
            # Foreign names are read in katakana (never hiragana); half-width where the file is.
            if kana_style == "half":
                kana = _kana(kana, "half")
            born = returned - timedelta(days=rng.randrange(19 * 365, 40 * 365))
            envelope["addressee"] = name
            return [
                envelope
                | {
                    "name": name,
                    "name_kana": kana,
                    "birth_date": format_date(born, birth_style),
                    "relationship": "世帯主",
                    "item_kind": item_kind,
                }
            ]

        family_name = FAMILY_NAMES.pick(rng)
        family = family_name.kanji
        if family_name.variants and rng.random() < VARIANT_SHARE:
            variant = rng.choice(family_name.variants)
            # Draw first, substitute after: the CP932 file holds the same people as the UTF-8 one.
            if not (self.cp932_safe and not _cp932_ok(variant)):
                family = variant

        rows: list[dict[str, str]] = []
        used: set[str] = set()
        for person in self._members(size):
            born = self._birth_date(returned, person.age)
            given, given_kana = self._given_name(born.year, person.gender, used)
            rows.append(
                {
                    "name": f"{family}{separator}{given}",
                    "name_kana": _kana(
                        f"{family_name.kana}{kana_separator}{given_kana}", kana_style
                    ),
                    "birth_date": format_date(born, birth_style),
                    "relationship": person.relationship,
                    "item_kind": item_kind,
                }
            )
        envelope["addressee"] = rows[0]["name"]
        return [envelope | row for row in rows]

    def _tracking_no(self, index: int) -> str:
        rng = self.rng
        corrupt = rng.randint(1, 9) if rng.random() < 0.005 else 0
        digits = tracking_number(self.seed, index, corrupt=corrupt)
        style = rng.random()
        if style < 0.15:  # as printed on the label
            return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"
        if style < 0.17:  # typed with a Japanese IME in full-width mode
            return digits.translate(FULL_WIDTH)
        return digits

    def _reason(self) -> str:
        reason = REASONS.pick(self.rng)
        return reason.value if self.rng.random() < 0.6 else RETURN_REASON_LABELS[reason]

    def _item_kind(self, kind: ItemKind) -> str:
        roll = self.rng.random()
        if kind is ItemKind.NOTIFICATION_CARD:
            return "" if roll < 0.2 else ("通知カード" if roll < 0.4 else kind.value)
        return "個人番号通知書" if roll < 0.3 else kind.value

    def _location(self, code: str, name: str) -> str:
        roll = self.rng.random()
        if roll < 0.75:
            return ""  # the default location
        return code if roll < 0.87 else name

    def _slot(self, returned: date) -> str:
        era = era_of(returned)
        box = self.rng.randint(1, 60)
        return f"{era.letter}{era.year_of(returned):02}-{returned.month:02}-B{box:03}"

    def _address(self, ward: str, towns: tuple[tuple[str, int], ...]) -> str:
        rng = self.rng
        town, chome_count = rng.choice(towns)
        prefix = "熊本県熊本市" if rng.random() < 0.3 else "熊本市"
        if chome_count:
            chome = rng.randint(1, chome_count)
            ban, go = rng.randint(1, 40), rng.randint(1, 30)
            style = rng.random()
            if style < 0.6:
                street = f"{chome}丁目{ban}-{go}"
            elif style < 0.8:
                street = f"{KANJI_DIGITS[chome] if chome < 10 else chome}丁目{ban}番{go}号"
            else:
                street = f"{chome}-{ban}-{go}"
        else:
            banchi = rng.randint(1, 3999)
            street = f"{banchi}-{rng.randint(1, 12)}" if rng.random() < 0.4 else f"{banchi}"
        address = f"{prefix}{ward}{town}{street}"
        if rng.random() < 0.3:
            # Buildings are often named after their area (コーポ健軍), else after something nice.
            area = town if len(town) <= 3 and rng.random() < 0.6 else rng.choice(BUILDING_WORDS)
            building = rng.choice(BUILDING_STEMS) + area
            if rng.random() < 0.3:
                building += f"{'ABC'[rng.randrange(3)]}棟"
            room = f"{rng.randint(1, 12)}{rng.randint(1, 12):02}"
            address += (
                rng.choice(("\u3000", " ", ""))
                + building
                + rng.choice(("\u3000", " "))
                + room
                + ("号室" if rng.random() < 0.5 else "")
            )
        if rng.random() < 0.15:
            address = address.translate(FULL_WIDTH)
        return address

    def _members(self, size: int) -> list[_Person]:
        """Who lives in the household: the head first, then spouse, parents, children."""
        rng = self.rng
        if size == 1:
            head_male = rng.random() < 0.55
            head_age = int(rng.triangular(18, 96, 24))
        else:
            head_male = rng.random() < 0.8
            head_age = int(rng.triangular(24, 92, 44))
        head: Literal["M", "F"] = "M" if head_male else "F"
        other: Literal["M", "F"] = "F" if head_male else "M"
        people = [_Person("世帯主", head, head_age)]
        rest = size - 1
        # Children's ages follow from the mother's where there is one, else the head's.
        mother_age = head_age
        if rest and rng.random() < 0.85:
            spouse_age = min(100, max(18, head_age + rng.randint(-6, 3 if head_male else 8)))
            people.append(_Person("妻" if head_male else "夫", other, spouse_age))
            mother_age = spouse_age if head_male else head_age
            rest -= 1
        if rest and head_age <= 62 and rng.random() < (0.12 if rest == 1 else 0.3):
            grandmother_age = head_age + rng.randint(22, 36)
            people.append(_Person("母", "F", grandmother_age))
            rest -= 1
            if rest and rng.random() < 0.4:
                people.append(_Person("父", "M", min(100, grandmother_age + rng.randint(0, 5))))
                rest -= 1
        if rest >= 2 and mother_age >= 56 and rng.random() < 0.5:
            # Three generations: an adult son, his wife and their children.
            son_age = mother_age - rng.randint(22, 34)
            people.append(_Person("子", "M", son_age))
            people.append(_Person("子の妻", "F", max(18, son_age + rng.randint(-4, 3))))
            rest -= 2
            for _ in range(rest):
                gap = rng.randint(22, 40)
                age = son_age - gap if son_age - gap >= 0 else rng.randint(0, max(0, son_age - 22))
                people.append(_Person("孫", "M" if rng.random() < 0.5 else "F", age))
            return people
        for _ in range(rest):
            gap = rng.randint(20, 40)
            age = mother_age - gap if mother_age >= gap else rng.randint(0, max(0, mother_age - 20))
            people.append(_Person("子", "M" if rng.random() < 0.5 else "F", age))
        return people

    def _birth_date(self, returned: date, age: int) -> date:
        """A birthday that makes the person `age` on the return date (a newborn: weeks old)."""
        if age <= 0:
            return returned - timedelta(days=self.rng.randint(21, 364))
        return returned - timedelta(days=age * 365 + age // 4 + self.rng.randint(0, 364))

    def _given_name(
        self, birth_year: int, gender: Literal["M", "F"], used: set[str]
    ) -> tuple[str, str]:
        names = GIVEN_NAMES[bisect(COHORT_STARTS, birth_year) - 1][gender]
        for _ in range(20):
            given, kana = self.rng.choice(names)
            if given not in used:
                break
        # Two members with one given name would read as one person twice (the import refuses
        # that); 20 draws from 15 names practically always find a free one.
        used.add(given)
        return given, kana


def generate_rows(
    n_rows: int,
    seed: int,
    *,
    start: date = date(2016, 1, 1),
    end: date = date(2021, 12, 31),
    cp932_safe: bool = False,
) -> Iterator[dict[str, str]]:
    """Exactly `n_rows` SPEC §6.4 rows (English keys, :data:`COLUMNS`), lazily.

    A household's rows are consecutive and share the envelope columns; the last household is
    cut short if needed to hit `n_rows`. Return dates lie in [`start`, `end`] on weekdays.
    `cp932_safe` replaces the few spellings CP932 cannot hold (𠮷, IVS) by their plain forms;
    everything else is identical, so the same seed gives the same people in both encodings.
    """
    if n_rows < 0:
        raise ValueError("n_rows must not be negative")
    if n_rows > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS:,} rows per seed (tracking numbers would repeat)")
    if start > end:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")
    if start < FIRST_MAILING:
        raise ValueError(
            f"start {start.isoformat()} is before the first mailing ({FIRST_MAILING.isoformat()})"
        )
    # Checked above, eagerly; the rows themselves come lazily from the generator below.
    return _generate(n_rows, _Households(seed, start, end, cp932_safe))


def _generate(n_rows: int, households: _Households) -> Iterator[dict[str, str]]:
    remaining = n_rows
    index = 0
    while remaining > 0:
        size = min(HOUSEHOLD_SIZES.pick(households.rng), remaining)
        rows = households.rows(index, size)
        yield from rows
        remaining -= len(rows)
        index += 1
