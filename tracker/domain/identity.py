"""The identity-document catalogue and combination rule of SPEC §4, as data, and the decision.

Municipalities differ, so the catalogue is stored in the database (versioned); this module holds
the default that every new database is seeded with, reads a stored version into an
:class:`IdentityPolicy`, and decides whether the evidence a clerk recorded at the counter allows
a handover (:func:`decide`). Pure: no Flask, no database, no clock (``today`` is passed in).

Glossary: 本人 self · 同一世帯員 household member · 任意代理人 proxy · 法定代理人 legal
representative · 委任状 letter of attorney · 委任者 principal (the person named on the card).
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from tracker.domain.codes import RecipientKind as RecipientKind  # re-exported: who came (SPEC §4)
from tracker.domain.errors import InputError
from tracker.domain.wareki import format_wareki


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


# --- the policy, read from its stored JSON ----------------------------------------------------

GROUPS = ("A", "B")
_COUNT_KEYS = {
    "group_a_required": "A群の必要点数",
    "group_b_required": "B群の必要点数",
    "proxy_letter_valid_months": "委任状の有効期間（か月）",
}
_CODE = re.compile(r"[a-z][a-z0-9_]{0,49}")


class PolicyError(InputError):
    """A stored or edited identity policy that cannot be used; the message lists every problem."""


@dataclass(frozen=True)
class IdentityPolicy:
    """One version of the ID catalogue and combination rule (SPEC §4: "configurable as data").

    Build it with :meth:`from_dict` from the JSON kept in ``identity_policies.policy_json``.
    """

    version: int
    #: code → document type, in catalogue order.
    documents: Mapping[str, DocumentType] = field(hash=False)
    group_a_required: int = 1
    group_b_required: int = 2
    #: A 委任状 dated exactly this many calendar months before today is still valid.
    proxy_letter_valid_months: int = 3

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, version: int) -> IdentityPolicy:
        """Check a policy dict (records officers edit it) and build the policy.

        Raises :class:`PolicyError` (a ``ValueError``) naming every problem at once: unknown
        keys, a missing or non-positive count, a document without code or name, a group other
        than A/B, a code or name listed twice, or a rule no set of documents can satisfy.
        """
        problems: list[str] = []
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            problems.append(f"版数は1以上の整数にしてください: {version!r}")
        if not isinstance(data, Mapping):
            raise PolicyError(f"本人確認ポリシーは辞書で指定してください: {type(data).__name__}")
        unknown = sorted(set(data) - {"documents", *_COUNT_KEYS})
        if unknown:
            problems.append(f"不明な項目があります: {', '.join(map(str, unknown))}")
        counts: dict[str, int] = {}
        for key, label in _COUNT_KEYS.items():
            value = data.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{label}（{key}）は1以上の整数にしてください: {value!r}")
            else:
                counts[key] = value
        documents = _read_documents(data.get("documents"), problems)
        if not problems:
            in_a = sum(1 for d in documents.values() if d.group == "A")
            in_b = len(documents) - in_a
            if in_a < counts["group_a_required"] and in_b < counts["group_b_required"]:
                problems.append(
                    f"どの書類の組合せでも条件を満たせません（A群{in_a}種類で"
                    f"{counts['group_a_required']}点、B群{in_b}種類で"
                    f"{counts['group_b_required']}点が必要）"
                )
        if problems:
            raise PolicyError("本人確認ポリシーが正しくありません: " + " / ".join(problems))
        return cls(version=version, documents=MappingProxyType(documents), **counts)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape :meth:`from_dict` reads (without the version, which is the row key)."""
        return {
            "documents": [
                {"code": d.code, "name": d.name, "group": d.group} for d in self.documents.values()
            ],
            "group_a_required": self.group_a_required,
            "group_b_required": self.group_b_required,
            "proxy_letter_valid_months": self.proxy_letter_valid_months,
        }

    def requirement(self) -> str:
        """The rule in words: ``A群1点、またはB群2点``."""
        groups = {d.group for d in self.documents.values()}
        parts = [
            f"{group}群{required}点"
            for group, required in (("A", self.group_a_required), ("B", self.group_b_required))
            if group in groups
        ]
        return "、または".join(parts)

    def is_satisfied_by(self, codes: Iterable[str]) -> bool:
        """SPEC §4: enough distinct group-A documents, or enough distinct group-B ones.

        The groups are alternatives, not added up: with the default rule one A is enough,
        so A+B passes through the A branch; a B never stands in for a missing A or vice versa.
        """
        known = {self.documents[c] for c in codes if c in self.documents}
        in_a = sum(1 for d in known if d.group == "A")
        return in_a >= self.group_a_required or len(known) - in_a >= self.group_b_required


def _read_documents(raw: object, problems: list[str]) -> dict[str, DocumentType]:
    if not isinstance(raw, list) or not raw:
        problems.append("書類の一覧（documents）を1件以上のリストで指定してください")
        return {}
    documents: dict[str, DocumentType] = {}
    names: set[str] = set()
    for number, entry in enumerate(raw, start=1):
        where = f"書類{number}件目"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}は code, name, group の辞書にしてください")
            continue
        code, name, group = entry.get("code"), entry.get("name"), entry.get("group")
        extra = sorted(set(entry) - {"code", "name", "group"})
        if extra:
            problems.append(f"{where}に不明な項目があります: {', '.join(map(str, extra))}")
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            problems.append(
                f"{where}のコードは英小文字・数字・_ で50文字以内にしてください: {code!r}"
            )
            continue
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}（{code}）の名称を入力してください")
            continue
        if group not in GROUPS:
            problems.append(f"{where}（{name}）の群は A または B にしてください: {group!r}")
            continue
        if code in documents:
            problems.append(f"書類コードが重複しています: {code}")
            continue
        if name.strip() in names:
            problems.append(f"書類の名称が重複しています: {name.strip()}")
            continue
        names.add(name.strip())
        documents[code] = DocumentType(code, name.strip(), group)
    return documents


# --- who came, and with what --------------------------------------------------------------------


# RecipientKind (who came) is a code list: tracker.domain.codes, imported above.


@dataclass(frozen=True)
class AuthorityProof:
    """A kind of document proving a legal representative's authority (SPEC §4)."""

    code: str
    name: str


AUTHORITY_PROOFS: tuple[AuthorityProof, ...] = (
    AuthorityProof("family_register", "戸籍謄本・抄本"),
    AuthorityProof("guardianship_certificate", "成年後見登記事項証明書"),
    AuthorityProof("other", "その他（資格を証する書類）"),
)
_AUTHORITY_CODES = frozenset(p.code for p in AUTHORITY_PROOFS)

#: SPEC §4: only the last 4 characters of a document number may be kept, never the number.
LAST4_LENGTH = 4


@dataclass(frozen=True)
class Evidence:
    """What the clerk checked at the counter (SPEC §4). Only document *types* are recorded.

    Fields that do not belong to ``recipient_kind`` (a 委任状 date for a self handover, say,
    left in a form after the clerk changed the kind) are ignored by :func:`decide`; the caller
    stores only the fields of the chosen kind.
    """

    recipient_kind: RecipientKind
    #: Required unless ``self``: the household member, proxy or legal representative.
    recipient_name: str = ""
    #: Codes of the ID documents of the person at the counter.
    documents: tuple[str, ...] = ()
    #: Proxy only: codes of the principal's ID documents (the person named on the card).
    principal_documents: tuple[str, ...] = ()
    #: Proxy only: the day the 委任状 was written.
    letter_of_attorney_date: date | None = None
    #: Legal representative only: a code from :data:`AUTHORITY_PROOFS`.
    authority_proof: str | None = None
    #: Optional last 4 characters of a document number, keyed by a code in ``documents``.
    document_last4: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Refused at construction, not as a reason: a full document number must never reach
        # anything that could store it. The message does not repeat what was typed.
        for code, value in self.document_last4.items():
            if not isinstance(value, str):
                raise InputError(f"書類番号の下{LAST4_LENGTH}桁は文字列で渡してください（{code}）")
            if len(value) > LAST4_LENGTH:
                raise InputError(
                    f"書類番号は下{LAST4_LENGTH}桁のみ記録できます"
                    f"（{code}: {len(value)}文字が入力されました）"
                )
            if not value.isalnum():
                raise InputError(
                    f"書類番号の下{LAST4_LENGTH}桁は英数字で入力してください（{code}）"
                )


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`decide`: allowed when there is no reason to refuse."""

    reasons: tuple[str, ...]
    #: The policy version the evidence was checked against, stored with the handover.
    policy_version: int

    @property
    def allowed(self) -> bool:
        return not self.reasons


# --- the decision -------------------------------------------------------------------------------

#: Whose documents a message is about.
_ID_SUBJECT = {
    RecipientKind.SELF: "本人確認書類",
    RecipientKind.HOUSEHOLD: "世帯員の本人確認書類",
    RecipientKind.PROXY: "代理人の本人確認書類",
    RecipientKind.LEGAL_REP: "法定代理人の本人確認書類",
}
_PRINCIPAL_SUBJECT = "委任者（本人）の本人確認書類"
_NAME_PROMPT = {
    RecipientKind.HOUSEHOLD: "来庁した世帯員の氏名を入力してください",
    RecipientKind.PROXY: "代理人の氏名を入力してください",
    RecipientKind.LEGAL_REP: "法定代理人の氏名を入力してください",
}


def decide(evidence: Evidence, policy: IdentityPolicy, today: date) -> Decision:
    """May the item be handed over on this evidence? SPEC §4, every row of its table.

    Returns every reason to refuse, not just the first, each in Japanese and naming what is
    missing, so the clerk can fix the whole form at once.
    """
    kind = RecipientKind(evidence.recipient_kind)
    reasons: list[str] = []
    if kind is not RecipientKind.SELF and not evidence.recipient_name.strip(" \t\u3000"):
        reasons.append(_NAME_PROMPT[kind])
    if kind is RecipientKind.PROXY:
        reasons += _check_letter(evidence.letter_of_attorney_date, policy, today)
    if kind is RecipientKind.LEGAL_REP:
        reasons += _check_authority(evidence.authority_proof)
    reasons += _check_ids(evidence.documents, policy, _ID_SUBJECT[kind])
    if kind is RecipientKind.PROXY:
        reasons += _check_ids(evidence.principal_documents, policy, _PRINCIPAL_SUBJECT)
    stray = [c for c in evidence.document_last4 if c not in evidence.documents]
    if stray:
        names = "、".join(_name(c, policy) for c in stray)
        reasons.append(f"番号の下4桁が入力された書類が提示書類に選ばれていません: {names}")
    return Decision(reasons=tuple(reasons), policy_version=policy.version)


def _check_ids(codes: tuple[str, ...], policy: IdentityPolicy, subject: str) -> list[str]:
    reasons: list[str] = []
    unknown = [c for c in dict.fromkeys(codes) if c not in policy.documents]
    if unknown:
        reasons.append(f"不明な書類コード: {', '.join(unknown)}（{subject}）")
    for code, times in Counter(codes).items():
        if times > 1 and code in policy.documents:
            reasons.append(
                f"{subject}で同じ書類が{times}回選ばれています: {policy.documents[code].name}"
            )
    if not policy.is_satisfied_by(codes):
        reasons.append(
            f"{subject}が不足しています: {policy.requirement()}が必要です"
            f"（提示: {_presented(codes, policy)}）"
        )
    return reasons


def _presented(codes: tuple[str, ...], policy: IdentityPolicy) -> str:
    """``B群1点 健康保険証``; the same document chosen twice counts once."""
    known = [policy.documents[c] for c in dict.fromkeys(codes) if c in policy.documents]
    parts = []
    for group in GROUPS:
        names = [d.name for d in known if d.group == group]
        if names:
            parts.append(f"{group}群{len(names)}点 {'・'.join(names)}")
    return "、".join(parts) or "なし"


def _check_letter(written: date | None, policy: IdentityPolicy, today: date) -> list[str]:
    """SPEC §4: a proxy's 委任状 is dated, not in the future and not older than the validity."""
    months = policy.proxy_letter_valid_months
    if written is None:
        return ["委任状の作成日を入力してください"]
    if written > today:
        return [f"委任状の作成日が未来の日付です（作成日 {_show(written)}、本日 {_show(today)}）"]
    if written < months_before(today, months):
        return [
            f"委任状の作成日が{months}か月より前です"
            f"（作成日 {_show(written)}、有効期限 {_show(letter_valid_until(written, months))}）"
        ]
    return []


def _check_authority(proof: str | None) -> list[str]:
    if proof is None or not proof.strip():
        return ["法定代理人の資格を証する書類を選んでください"]
    if proof not in _AUTHORITY_CODES:
        return [f"不明な資格証明書類コード: {proof}"]
    return []


def _name(code: str, policy: IdentityPolicy) -> str:
    document = policy.documents.get(code)
    return document.name if document is not None else code


def _show(d: date) -> str:
    """和暦 for messages; a typo such as year 0202 has no era, so show it as typed (ISO)."""
    try:
        return format_wareki(d)
    except ValueError:
        return d.isoformat()


# --- calendar months ----------------------------------------------------------------------------


def _shift_months(d: date, months: int) -> date:
    """``d`` moved by whole calendar months, the day clamped to the month's end."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def months_before(d: date, months: int) -> date:
    """The oldest 委任状 date still valid on ``d``: 2020-05-31 minus 3 months is 2020-02-29."""
    return _shift_months(d, -months)


def letter_valid_until(written: date, months: int) -> date:
    """The last day a 委任状 written on ``written`` is valid: the inverse of :func:`months_before`.

    Usually the same day ``months`` later (clamped); a letter written on the last day of a
    month stays valid to the end of the month ``months`` later, because every day of that month
    reaches back, clamped, to the last day of the letter's month (2020-02-29 → 2020-05-31).
    """
    until = _shift_months(written, months)
    if written.day == calendar.monthrange(written.year, written.month)[1]:
        until = until.replace(day=calendar.monthrange(until.year, until.month)[1])
    return until
