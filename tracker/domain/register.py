"""Resident-register results (住基照合, SPEC §2, §7.1): what a row or a form may say.

Decided here, shared by the item-page form and ``tracker register-check``:

- The outcome (異動区分) is written as its Japanese label (現住, 市内転居 …, as the resident
  records section writes it); the stored code (``resident`` …) is accepted too, in any width.
- The event date (異動日) is required for every outcome but 現住 (still living there: there is
  no event), follows SPEC §6.1 (和暦 or ISO) and is not after the day of the check, which in
  turn is not after today (a check cannot be recorded ahead of time).
- The note (備考) is free text checked like any other (no individual numbers, SPEC §2).

A result is *unchanged* when outcome, event date and note are the same as the stored one: a
re-check that found the same thing rewrites nothing (re-importing a file changes nothing).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final

from tracker.domain.codes import REGISTER_OUTCOME_LABELS, RegisterOutcome
from tracker.domain.records import FieldError, check_free_text, clean_text
from tracker.domain.wareki import format_wareki_with_iso, parse_date


@dataclass(frozen=True)
class RegisterColumn:
    #: The English header (SPEC §7.1).
    name: str
    #: The Japanese header.
    japanese: str


#: SPEC §7.1 columns, in the order the upload page lists them. A row names its item by
#: 管理番号, or by お問い合わせ番号 + 氏名 + 生年月日; 異動区分 is always required.
COLUMNS: Final[tuple[RegisterColumn, ...]] = (
    RegisterColumn("control_no", "管理番号"),
    RegisterColumn("tracking_no", "お問い合わせ番号"),
    RegisterColumn("name", "氏名"),
    RegisterColumn("birth_date", "生年月日"),
    RegisterColumn("register_outcome", "異動区分"),
    RegisterColumn("register_event_on", "異動日"),
    RegisterColumn("note", "備考"),
)
JAPANESE_HEADERS: Final[dict[str, str]] = {c.name: c.japanese for c in COLUMNS}
#: The columns that name an item without a control number.
PERSON_COLUMNS: Final[tuple[str, ...]] = ("tracking_no", "name", "birth_date")

_OUTCOME_BY_TEXT: dict[str, RegisterOutcome] = {
    **{outcome.value: outcome for outcome in RegisterOutcome},
    **{
        unicodedata.normalize("NFKC", label): outcome
        for outcome, label in REGISTER_OUTCOME_LABELS.items()
    },
}


@dataclass(frozen=True)
class RegisterEntry:
    """One checked result, ready to be stored."""

    outcome: RegisterOutcome
    event_on: date | None
    note: str | None

    def same_as(self, outcome: str, event_on: date | None, note: str | None) -> bool:
        """Whether a stored result says the same (then nothing is rewritten)."""
        return (self.outcome.value, self.event_on, self.note) == (outcome, event_on, note or None)


def check_outcome(value: str | None) -> RegisterOutcome:
    text = unicodedata.normalize("NFKC", clean_text(value)).replace(" ", "")
    if not text:
        raise FieldError("異動区分を入力してください")
    outcome = _OUTCOME_BY_TEXT.get(text) or _OUTCOME_BY_TEXT.get(text.lower())
    if outcome is None:
        choices = "・".join(REGISTER_OUTCOME_LABELS.values())
        raise FieldError(f"異動区分は {choices} のいずれかを入力してください")
    return outcome


def check_event_on(value: str | None, outcome: RegisterOutcome, checked_on: date) -> date | None:
    """異動日: required except for 現住; not after the day of the check (SPEC §7.1)."""
    text = clean_text(value)
    if not text:
        if outcome is RegisterOutcome.RESIDENT:
            return None
        raise FieldError(f"異動区分が「{outcome.label_ja}」のときは異動日を入力してください")
    event_on = parse_date(text)
    if event_on > checked_on:
        raise FieldError(
            f"異動日 {format_wareki_with_iso(event_on)} が照合日"
            f" {format_wareki_with_iso(checked_on)} より後です"
        )
    return event_on


def check_checked_on(value: str | None, today: date) -> date:
    """照合日: empty means today; never in the future."""
    text = clean_text(value)
    checked_on = parse_date(text) if text else today
    if checked_on > today:
        raise FieldError(f"照合日 {format_wareki_with_iso(checked_on)} は未来の日付です")
    return checked_on


def check_note(value: str | None) -> str | None:
    return check_free_text(value, "note", required=False, label="備考") or None


def check_entry(
    outcome: str | None, event_on: str | None, note: str | None, checked_on: date
) -> RegisterEntry:
    """All three fields at once (the form shows the first refusal beside its field)."""
    checked_outcome = check_outcome(outcome)
    return RegisterEntry(
        checked_outcome, check_event_on(event_on, checked_outcome, checked_on), check_note(note)
    )
