"""The identity-document catalogue and combination rule of SPEC §4, as data.

Municipalities differ, so the catalogue is stored in the database (versioned); this module holds
the default that every new database is seeded with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DocumentType:
    code: str
    name: str
    #: ``A``: one is enough; ``B``: two are needed (SPEC §4).
    group: str


DEFAULT_DOCUMENTS: tuple[DocumentType, ...] = (
    DocumentType("mynumber_card", "マイナンバーカード", "A"),
    DocumentType("drivers_license", "運転免許証", "A"),
    DocumentType("driving_record_certificate", "運転経歴証明書", "A"),
    DocumentType("passport", "旅券", "A"),
    DocumentType("residence_card", "在留カード", "A"),
    DocumentType("special_permanent_resident_certificate", "特別永住者証明書", "A"),
    DocumentType("physical_disability_certificate", "身体障害者手帳", "A"),
    DocumentType("mental_disability_certificate", "精神障害者保健福祉手帳", "A"),
    DocumentType("rehabilitation_certificate", "療育手帳", "A"),
    DocumentType("juki_card_with_photo", "写真付き住基カード", "A"),
    DocumentType("health_insurance_card", "健康保険証", "B"),
    DocumentType("long_term_care_insurance_card", "介護保険証", "B"),
    DocumentType("pension_book", "年金手帳・年金証書", "B"),
    DocumentType("medical_benefit_certificate", "医療受給者証", "B"),
    DocumentType("employee_id", "社員証", "B"),
    DocumentType("student_id", "学生証", "B"),
    DocumentType("bankbook", "預金通帳", "B"),
)


def default_policy() -> dict[str, Any]:
    """Version 1 of the identity policy: one group-A document or two group-B documents."""
    return {
        "documents": [
            {"code": d.code, "name": d.name, "group": d.group} for d in DEFAULT_DOCUMENTS
        ],
        "group_a_required": 1,
        "group_b_required": 2,
        "proxy_letter_valid_months": 3,
    }
