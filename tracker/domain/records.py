"""Field rules for returned envelopes and their items, shared by the intake form and the bulk
import so that both accept and refuse exactly the same values (SPEC §2, §6).

Each ``check_*`` function takes the text as typed and returns the stored value or raises
:class:`FieldError` with a Japanese message saying why. Nothing here touches the database:
resolving a location name to a row is the caller's job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from tracker.domain.codes import RETURN_REASON_LABELS, ItemKind, ReturnReason
from tracker.domain.errors import InputError
from tracker.domain.kana import is_kana, private_use_warning, search_key, to_katakana
from tracker.domain.mynumber import (
    INDIVIDUAL_NUMBER_MESSAGE,
    contains_individual_number,
    mask_individual_numbers,
)
from tracker.domain.tracking import parse_tracking_no
from tracker.domain.wareki import format_wareki_with_iso, parse_date

#: Notification cards were first mailed in October 2015; nothing can have come back earlier.
FIRST_MAILING = date(2015, 10, 1)
#: SPEC §2: the notification card was abolished on 2020-05-25; notices were mailed from then.
NOTICE_START = date(2020, 5, 25)
OLDEST_BIRTH_DATE = date(1900, 1, 1)
#: What ``tracker purge`` writes over a name, an address or free text past its retention
#: (issue 16, :mod:`tracker.domain.record_retention`); no form or import accepts it, so a
#: record holding it was purged.
PURGED_TEXT = "（保存期間経過により消去済）"
_PURGED_WORDS = {"保存期間経過により消去済", "保存期間経過により消去"}

LIMITS = {
    "addressee": 200,
    "address": 400,
    "household_code": 20,
    "name": 100,
    "name_kana": 200,
    "alias": 100,
    "relationship": 50,
    "slot": 50,
    "reason": 500,
    "label": 100,
    "note": 200,
    "place": 200,
    "person": 100,
    "contractor": 200,
    "document_name": 100,
    "display_name": 100,
}

ITEM_KIND_LABELS: dict[ItemKind, str] = {
    ItemKind.NOTIFICATION_CARD: "通知カード",
    ItemKind.NUMBER_NOTICE: "個人番号通知書",
    ItemKind.MYNUMBER_CARD: "未受領のマイナンバーカード",
}

T = TypeVar("T")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BLANK = " \t\u3000"


class FieldError(InputError):
    """A value that cannot be stored as it stands."""


def clean_text(value: str | None) -> str:
    """Trim surrounding blanks (incl. U+3000); everything inside is kept exactly."""
    return (value or "").strip(_BLANK + "\r\n")


def quoted(value: str | None) -> str:
    """A typed value as a refusal may quote it: trimmed, individual numbers masked (SPEC §2)."""
    return mask_individual_numbers(clean_text(value))


def check_free_text(value: str | None, name: str, *, required: bool, label: str) -> str:
    """Required-ness, length, control characters and the individual-number guard (SPEC §2)."""
    text = clean_text(value)
    if not text:
        if required:
            raise FieldError(f"{label}を入力してください")
        return ""
    if _CONTROL.search(text):
        raise FieldError(f"{label}に制御文字が含まれています")
    limit = LIMITS[name]
    if len(text) > limit:
        raise FieldError(f"{label}は{limit}文字以内で入力してください（{len(text)}文字）")
    if contains_individual_number(text):
        raise FieldError(INDIVIDUAL_NUMBER_MESSAGE)
    if text.strip("（）() 　") in _PURGED_WORDS:
        raise FieldError(f"{label}に「{PURGED_TEXT}」は入力できません（消去済の記録の印です）")
    return text


def check_return_date(value: str | None, today: date) -> date:
    text = clean_text(value)
    if not text:
        raise FieldError("返戻日を入力してください")
    returned = parse_date(text)
    if returned > today:
        raise FieldError(f"返戻日 {format_wareki_with_iso(returned)} は未来の日付です")
    if returned < FIRST_MAILING:
        raise FieldError(
            f"返戻日 {format_wareki_with_iso(returned)} は通知カードの発送開始"
            "（平成27年10月）より前です"
        )
    return returned


def check_birth_date(value: str | None, today: date) -> date:
    text = clean_text(value)
    if not text:
        raise FieldError("生年月日を入力してください")
    born = parse_date(text)
    if born > today:
        raise FieldError(f"生年月日 {format_wareki_with_iso(born)} は未来の日付です")
    if born < OLDEST_BIRTH_DATE:
        raise FieldError(f"生年月日 {format_wareki_with_iso(born)} は古すぎます")
    return born


_REASON_BY_TEXT: dict[str, ReturnReason] = {
    **{reason.value: reason for reason in ReturnReason},
    **{
        unicodedata.normalize("NFKC", label): reason
        for reason, label in RETURN_REASON_LABELS.items()
    },
}


def check_return_reason(value: str | None) -> ReturnReason:
    text = unicodedata.normalize("NFKC", clean_text(value)).replace(" ", "")
    if not text:
        raise FieldError("還付事由を入力してください")
    reason = _REASON_BY_TEXT.get(text) or _REASON_BY_TEXT.get(text.upper())
    if reason is None:
        choices = "、".join(f"{r.value}（{label}）" for r, label in RETURN_REASON_LABELS.items())
        raise FieldError(f"還付事由「{quoted(value)}」は使えません。次のいずれか: {choices}")
    return reason


_KIND_BY_TEXT: dict[str, ItemKind] = {
    **{kind.value: kind for kind in ItemKind},
    **{label: kind for kind, label in ITEM_KIND_LABELS.items()},
}


def check_item_kind(value: str | None, returned_on: date | None) -> ItemKind:
    text = unicodedata.normalize("NFKC", clean_text(value))
    kind = ItemKind.NOTIFICATION_CARD if not text else _KIND_BY_TEXT.get(text.lower())
    if kind is None:
        kind = _KIND_BY_TEXT.get(text)
    if kind is None:
        raise FieldError(
            f"種別「{quoted(value)}」は使えません。notification_card（通知カード）、"
            "number_notice（個人番号通知書）または mynumber_card（未受領のマイナンバーカード）"
        )
    if kind is ItemKind.MYNUMBER_CARD and returned_on is not None and returned_on < FIRST_CARD:
        raise FieldError(
            "マイナンバーカードは平成28年1月（2016-01）から交付されたため、"
            f"返戻日 {format_wareki_with_iso(returned_on)} の未受領カードはありえません"
        )
    if kind is ItemKind.NUMBER_NOTICE and returned_on is not None and returned_on < NOTICE_START:
        raise FieldError(
            "個人番号通知書は令和2年5月25日（2020-05-25）から送付されたため、"
            f"返戻日 {format_wareki_with_iso(returned_on)} の返戻はありえません"
        )
    return kind


def check_household_code(value: str | None) -> str | None:
    """Digits only, stored without separators. An individual number is refused here too
    (issue 10): the code is the column a clerk is most likely to type a card's number into,
    whether as printed (``1234-5678-9018``) or as the 12 digits it would be stored as."""
    text = unicodedata.normalize("NFKC", clean_text(value)).replace("-", "").replace(" ", "")
    if not text:
        return None
    if contains_individual_number(clean_text(value)) or contains_individual_number(text):
        raise FieldError(INDIVIDUAL_NUMBER_MESSAGE)
    if not text.isascii() or not text.isdigit():
        raise FieldError(f"世帯番号「{quoted(value)}」は数字で入力してください")
    if len(text) > LIMITS["household_code"]:
        raise FieldError(f"世帯番号は{LIMITS['household_code']}桁以内で入力してください")
    return text


def check_name_kana(value: str | None) -> str:
    """The フリガナ as stored: full-width katakana, whatever was typed (issue 12).

    Hiragana and half-width kana are accepted (SPEC §6.4) and converted here, so that the
    counter and the import store ``ﾔﾏﾀﾞ ﾊﾅｺ`` and ``やまだ はなこ`` alike as ``ヤマダ ハナコ``;
    blanks are kept as typed. Names themselves are never converted (SPEC §6.2).

    Optional (issue 14): the 住民票 need not carry one, and names in Latin letters often have
    none. An empty フリガナ is stored as ``""`` (the column stays NOT NULL).
    """
    text = check_free_text(value, "name_kana", required=False, label="フリガナ")
    if not text:
        return ""
    if not is_kana(text):
        raise FieldError(f"フリガナ「{text}」はカタカナまたはひらがなで入力してください")
    return to_katakana(text)


#: The event dates of an unclaimed My Number card (SPEC §6.4): field name → label.
CARD_DATE_LABELS: dict[str, str] = {
    "first_notice_on": "交付通知書送付日",
    "renotice_on": "再通知日",
    "card_expires_on": "有効期限",
}
#: No My Number card was issued before January 2016.
FIRST_CARD = date(2016, 1, 1)


_EARLIEST = {
    FIRST_CARD: "マイナンバーカードの交付開始（平成28年1月）",
    FIRST_MAILING: "通知カードの発送開始（平成27年10月）",
}


def check_event_date(
    value: str | None, label: str, today: date, *, earliest: date = FIRST_CARD
) -> date | None:
    """An optional event date (SPEC §6.1 shapes, 和暦 too) that has already happened, not
    before ``earliest`` (FIRST_CARD for a card's notices, FIRST_MAILING for お知らせ)."""
    text = clean_text(value)
    if not text:
        return None
    day = parse_date(text)
    if day > today:
        raise FieldError(f"{label} {format_wareki_with_iso(day)} は未来の日付です")
    if day < earliest:
        raise FieldError(f"{label} {format_wareki_with_iso(day)} は{_EARLIEST[earliest]}より前です")
    return day


def check_card_expiry(value: str | None) -> date | None:
    """The card's expiry date as printed on it: may be past or future, not before 2016."""
    text = clean_text(value)
    if not text:
        return None
    day = parse_date(text)
    if day < FIRST_CARD:
        raise FieldError(
            f"有効期限 {format_wareki_with_iso(day)} はマイナンバーカードの交付開始"
            "（平成28年1月）より前です"
        )
    return day


def _check_card_dates(
    raw: dict[str, str], today: date, kind: ItemKind | None, checked: Checked
) -> tuple[date | None, date | None, date | None]:
    """The three card dates; refused on any other kind, and a 再通知 before the first notice."""
    first = _run(
        checked,
        "first_notice_on",
        lambda: check_event_date(raw.get("first_notice_on"), "交付通知書送付日", today),
    )
    renotice = _run(
        checked,
        "renotice_on",
        lambda: check_event_date(raw.get("renotice_on"), "再通知日", today),
    )
    expires = _run(
        checked, "card_expires_on", lambda: check_card_expiry(raw.get("card_expires_on"))
    )
    if kind is not None and kind is not ItemKind.MYNUMBER_CARD:
        for name, label in CARD_DATE_LABELS.items():
            if clean_text(raw.get(name)) and name not in checked.errors:
                checked.errors[name] = (
                    f"{label}は種別が未受領のマイナンバーカード（mynumber_card）のときだけ"
                    "入力できます"
                )
    if first is not None and renotice is not None and renotice < first:
        checked.errors["renotice_on"] = (
            f"再通知日 {format_wareki_with_iso(renotice)} が交付通知書送付日 "
            f"{format_wareki_with_iso(first)} より前です"
        )
    return first, renotice, expires


@dataclass(frozen=True)
class EnvelopeFields:
    tracking_no: str
    returned_on: date
    return_reason: ReturnReason
    addressee: str
    address: str
    household_code: str | None
    #: As typed (a location name or code); the caller resolves it. Empty = default location.
    location: str
    slot: str | None


@dataclass(frozen=True)
class ItemFields:
    name: str
    name_kana: str
    name_key: str
    kana_key: str
    birth_date: date
    relationship: str | None
    kind: ItemKind
    #: 通称 (issue 14): None when there is none; ``alias_key`` is its search key.
    alias: str | None = None
    alias_key: str | None = None
    #: Unclaimed My Number cards only (issue 14): 交付通知書送付日, 再通知日, 有効期限.
    first_notice_on: date | None = None
    renotice_on: date | None = None
    card_expires_on: date | None = None


@dataclass
class Checked:
    """Per-field problems and warnings of one record, keyed by field name."""

    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)


class Memo:
    """Remembered results of the pure field rules, for one bulk import (issue 18).

    A million-row file repeats the same names, フリガナ, birth dates, kinds and relationships
    row after row; each rule runs once per distinct value. Only accepted values are remembered:
    a refused one is checked again, so its message is built exactly as without a memo. Bounded
    (each rule's table starts over past ``limit`` values), and scoped to one import so that no
    name outlives it in a long-running process.
    """

    def __init__(self, limit: int = 32_768) -> None:
        self.limit = limit
        #: One table per rule, so that a rule with many distinct values (birth dates) does not
        #: push out the names of another.
        self._tables: dict[Callable[..., Any], dict[tuple[Any, ...], Any]] = {}

    def __call__(self, rule: Callable[..., T], *args: Any) -> T:
        table = self._tables.get(rule)
        if table is None:
            table = self._tables[rule] = {}
        try:
            result: T = table[args]
        except KeyError:
            result = rule(*args)  # a refusal raises: never remembered
            if len(table) >= self.limit:
                table.clear()
            table[args] = result
        return result


def _direct(rule: Callable[..., T], *args: Any) -> T:
    """The rule run as it stands (the intake form: one record, nothing worth remembering)."""
    return rule(*args)


def _free_text(value: str | None, name: str, required: bool, label: str) -> str:
    return check_free_text(value, name, required=required, label=label)


def _run(checked: Checked, name: str, check: Callable[[], T]) -> T | None:
    try:
        return check()
    except InputError as error:
        checked.errors[name] = str(error)
        return None


def check_envelope(raw: dict[str, str], today: date, checked: Checked) -> EnvelopeFields | None:
    """All envelope columns of one record; problems go to ``checked``."""
    tracking = _run(checked, "tracking_no", lambda: parse_tracking_no(raw.get("tracking_no", "")))
    if tracking is not None and tracking.warning:
        checked.warnings["tracking_no"] = tracking.warning
    returned_on = _run(
        checked, "return_date", lambda: check_return_date(raw.get("return_date"), today)
    )
    reason = _run(checked, "return_reason", lambda: check_return_reason(raw.get("return_reason")))
    addressee = _run(
        checked,
        "addressee",
        lambda: check_free_text(raw.get("addressee"), "addressee", required=True, label="宛名"),
    )
    address = _run(
        checked,
        "address",
        lambda: check_free_text(raw.get("address"), "address", required=True, label="住所"),
    )
    household = _run(
        checked, "household_code", lambda: check_household_code(raw.get("household_code"))
    )
    slot = _run(
        checked,
        "slot",
        lambda: check_free_text(raw.get("slot"), "slot", required=False, label="保管位置"),
    )
    for name, value in (("addressee", addressee), ("address", address)):
        warning = private_use_warning(value or "")
        if warning:
            checked.warnings[name] = warning
    if (
        checked.errors
        or tracking is None
        or returned_on is None
        or reason is None
        or addressee is None
        or address is None
    ):
        return None
    return EnvelopeFields(
        tracking_no=tracking.digits,
        returned_on=returned_on,
        return_reason=reason,
        addressee=addressee,
        address=address,
        household_code=household,
        location=clean_text(raw.get("location")),
        slot=slot or None,
    )


def check_item(
    raw: dict[str, str],
    today: date,
    returned_on: date | None,
    checked: Checked,
    memo: Memo | None = None,
) -> ItemFields | None:
    """All item columns of one record; problems go to ``checked``. A bulk import passes its
    :class:`Memo` so that each distinct value is checked once."""
    run = memo or _direct
    name = _run(checked, "name", lambda: run(_free_text, raw.get("name"), "name", True, "氏名"))
    kana = _run(checked, "name_kana", lambda: run(check_name_kana, raw.get("name_kana")))
    born = _run(checked, "birth_date", lambda: run(check_birth_date, raw.get("birth_date"), today))
    relationship = _run(
        checked,
        "relationship",
        lambda: run(_free_text, raw.get("relationship"), "relationship", False, "続柄"),
    )
    kind = _run(
        checked, "item_kind", lambda: run(check_item_kind, raw.get("item_kind"), returned_on)
    )
    alias = _run(
        checked, "alias", lambda: run(_free_text, raw.get("alias"), "alias", False, "通称")
    )
    if raw.get("first_notice_on") or raw.get("renotice_on") or raw.get("card_expires_on"):
        first_notice, renotice, expires = _check_card_dates(raw, today, kind, checked)
    else:  # all three empty, as on nearly every row: nothing to check
        first_notice = renotice = expires = None
    if born is not None and returned_on is not None and born > returned_on:
        checked.errors["birth_date"] = "生年月日が返戻日より後です"
    for field_name, value in (("name", name), ("alias", alias)):
        warning = private_use_warning(value or "")
        if warning:
            checked.warnings[field_name] = warning
    item_fields = (
        "name",
        "name_kana",
        "birth_date",
        "relationship",
        "item_kind",
        "alias",
        *CARD_DATE_LABELS,
    )
    if (
        any(key in checked.errors for key in item_fields)
        or name is None
        or kana is None
        or born is None
        or kind is None
    ):
        return None
    return ItemFields(
        name=name,
        name_kana=kana,
        name_key=run(search_key, name),
        kana_key=run(search_key, kana),
        birth_date=born,
        relationship=relationship or None,
        kind=kind,
        alias=alias or None,
        alias_key=run(search_key, alias) if alias else None,
        first_notice_on=first_notice,
        renotice_on=renotice,
        card_expires_on=expires,
    )
