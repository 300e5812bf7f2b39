"""Code lists of the SPEC, shared by models, forms and import (no Flask, no database).

Glossary: 窓口担当 clerk · 記録管理担当 records officer · 監査担当 auditor · システム管理者 admin ·
保管中 in custody · 交付済 handed over · 廃棄済 destroyed · 通知カード notification card ·
個人番号通知書 individual-number notice · 還付事由 return reason.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """SPEC §1."""

    CLERK = "clerk"
    RECORDS_OFFICER = "records_officer"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @property
    def label_ja(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.CLERK: "窓口担当",
    Role.RECORDS_OFFICER: "記録管理担当",
    Role.AUDITOR: "監査担当",
    Role.ADMIN: "システム管理者",
}


class ItemStatus(StrEnum):
    """SPEC §2: in_custody → handed_over | destroyed, and no other transition."""

    IN_CUSTODY = "in_custody"
    HANDED_OVER = "handed_over"
    DESTROYED = "destroyed"


class ItemKind(StrEnum):
    """SPEC §2: the notification card was replaced by the notice on 2020-05-25."""

    NOTIFICATION_CARD = "notification_card"
    NUMBER_NOTICE = "number_notice"


class ReturnReason(StrEnum):
    """SPEC §6.4 return reasons (還付事由)."""

    ATESHO_NASHI = "ATESHO_NASHI"
    ATENA_FUKANZEN = "ATENA_FUKANZEN"
    TENKYO_FUMEI = "TENKYO_FUMEI"
    HOKAN_KEIKA = "HOKAN_KEIKA"
    UKETORI_KYOZETSU = "UKETORI_KYOZETSU"
    OTHER = "OTHER"


RETURN_REASON_LABELS: dict[ReturnReason, str] = {
    ReturnReason.ATESHO_NASHI: "あて所に尋ねあたりません",
    ReturnReason.ATENA_FUKANZEN: "あて名不完全",
    ReturnReason.TENKYO_FUMEI: "転居先不明",
    ReturnReason.HOKAN_KEIKA: "保管期間経過",
    ReturnReason.UKETORI_KYOZETSU: "受取拒絶",
    ReturnReason.OTHER: "その他",
}


class RuleKind(StrEnum):
    """SPEC §3 retention rule kinds."""

    FIXED = "fixed"
    FISCAL_YEAR = "fiscal_year"
    MONTHS_AFTER = "months_after"


def sql_in(values: type[StrEnum]) -> str:
    """``'a', 'b'`` for a CHECK constraint listing an enum's values."""
    return ", ".join(f"'{v.value}'" for v in values)
