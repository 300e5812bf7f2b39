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
    #: ``A``: one is enough; ``B``: two are needed (SPEC §4). Format 2: any named group.
    group: str
    #: Format 2: the document carries the holder's photo.
    photo: bool = False
    #: Format 2: counts only if issued on or after this day (the clerk enters the issue date).
    issued_on_or_after: date | None = None
    #: Format 2: the whole document type is refused after this day.
    valid_until: date | None = None
    #: Format 2: the clerk enters the expiry date printed on it; refused when past.
    expiry_required: bool = False
    #: Format 2: its number may be the individual number: no last 4 characters are recorded.
    never_record_number: bool = False

    def attributes(self) -> dict[str, Any]:
        """The format-2 JSON entry: only the conditions that are set."""
        entry: dict[str, Any] = {"code": self.code, "name": self.name, "group": self.group}
        if self.photo:
            entry["photo"] = True
        if self.issued_on_or_after is not None:
            entry["issued_on_or_after"] = self.issued_on_or_after.isoformat()
        if self.valid_until is not None:
            entry["valid_until"] = self.valid_until.isoformat()
        if self.expiry_required:
            entry["expiry_required"] = True
        if self.never_record_number:
            entry["never_record_number"] = True
        return entry


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


def _doc(code: str, name: str, group: str, **conditions: Any) -> dict[str, Any]:
    return {"code": code, "name": name, "group": group, **conditions}


#: Version 2 (issue 14): the catalogue brought up to date. Sources, entry by entry, are also
#: listed in docs/identity-policy.md.
SEED_V2_DOCUMENTS: tuple[dict[str, Any], ...] = (
    # 番号法施行規則第1条第1号 (個人番号カード). Its card number may be the individual number
    # itself, so no part of it is recorded; the expiry date is printed on the front.
    _doc(
        "mynumber_card",
        "マイナンバーカード",
        "A",
        photo=True,
        expiry_required=True,
        never_record_number=True,
    ),
    # 番号法施行規則第1条第1号 (運転免許証).
    _doc("drivers_license", "運転免許証", "A", photo=True),
    # 番号法施行規則第1条第1号: 運転経歴証明書 only if issued on or after 2012-04-01 (平成24年
    # 4月1日, when the certificate became a photo ID usable as identification).
    _doc(
        "driving_record_certificate",
        "運転経歴証明書",
        "A",
        photo=True,
        issued_on_or_after="2012-04-01",
    ),
    # 番号法施行規則第1条第1号 (旅券).
    _doc("passport", "旅券", "A", photo=True),
    # 番号法施行規則第1条第1号 (在留カード); the period of stay is printed and often lapses.
    _doc("residence_card", "在留カード", "A", photo=True, expiry_required=True),
    # 番号法施行規則第1条第1号 (特別永住者証明書).
    _doc("special_permanent_resident_certificate", "特別永住者証明書", "A", photo=True),
    # 番号法施行規則第1条第1号 (身体障害者手帳・精神障害者保健福祉手帳・療育手帳).
    _doc("physical_disability_certificate", "身体障害者手帳", "A", photo=True),
    _doc("mental_disability_certificate", "精神障害者保健福祉手帳", "A", photo=True),
    _doc("rehabilitation_certificate", "療育手帳", "A", photo=True),
    # 一時庇護許可書・仮滞在許可書: 番号法施行規則第1条第1号 and 熊本市「本人確認書類」一覧
    # (group A);
    # both are short-lived permits, so the expiry printed on them is entered.
    _doc("temporary_refuge_permit", "一時庇護許可書", "A", photo=True, expiry_required=True),
    _doc("provisional_stay_permit", "仮滞在許可書", "A", photo=True, expiry_required=True),
    # 写真付き住基カード: last issued in December 2015 (住基カードの交付は平成27年12月28日まで),
    # valid 10 years, so every one has expired by 2025-12-31. Kept with valid_until rather than
    # removed: a resident who brings one is told why it is refused instead of not finding it.
    _doc("juki_card_with_photo", "写真付き住基カード", "A", photo=True, valid_until="2025-12-31"),
    # 健康保険証: not issued since 2024-12-02 (令和5年改正健康保険法); existing ones valid at most
    # until 2025-12-01 (経過措置). Kept so the refusal names it.
    _doc("health_insurance_card", "健康保険証", "B", valid_until="2025-12-01"),
    # 資格確認書: issued instead of the 健康保険証 from 2024-12-02 (厚生労働省); its validity is
    # printed on it.
    _doc("eligibility_certificate", "資格確認書", "B", expiry_required=True),
    # The rest of group B as in version 1 (SPEC §4, 2018). 社員証・学生証 count as photo IDs
    # (offices list 「写真付きの社員証・学生証」).
    _doc("long_term_care_insurance_card", "介護保険証", "B"),
    _doc("pension_book", "年金手帳・年金証書", "B"),
    _doc("medical_benefit_certificate", "医療受給者証", "B"),
    _doc("employee_id", "社員証", "B", photo=True),
    _doc("student_id", "学生証", "B", photo=True),
    _doc("bankbook", "預金通帳", "B"),
)

_ONE_A_OR_TWO_B: list[dict[str, Any]] = [{"groups": {"A": 1}}, {"groups": {"B": 2}}]
#: 東郷町・掛川市 (card pickup by someone else): A×2, A+B or B×3, at least one with a photo.
_CARD_BY_OTHERS: list[dict[str, Any]] = [
    {"groups": {"A": 2}, "min_photo": 1},
    {"groups": {"A": 1, "B": 1}, "min_photo": 1},
    {"groups": {"B": 3}, "min_photo": 1},
]


def policy_v2() -> dict[str, Any]:
    """Version 2 of the identity policy (issue 14), seeded by ``tracker init-db``."""
    recipients = ("self", "household", "proxy", "legal_rep")
    simple = {r: list(_ONE_A_OR_TWO_B) for r in recipients}
    return {
        "format": 2,
        "groups": [{"code": "A", "name": "A群"}, {"code": "B", "name": "B群"}],
        "documents": [dict(d) for d in SEED_V2_DOCUMENTS],
        "rules": {
            "notification_card": simple,
            "number_notice": {r: list(_ONE_A_OR_TWO_B) for r in recipients},
            "mynumber_card": {
                "self": list(_ONE_A_OR_TWO_B),
                "household": list(_CARD_BY_OTHERS),
                "proxy": list(_CARD_BY_OTHERS),
                "legal_rep": list(_CARD_BY_OTHERS),
            },
        },
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

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        #: Every problem, one by one (the message joins them).
        self.problems = problems or (message,)

    @classmethod
    def of(cls, problems: list[str]) -> PolicyError:
        return cls("本人確認ポリシーが正しくありません: " + " / ".join(problems), tuple(problems))


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
    #: 1: the 2018 rule (A×a or B×b); 2: groups, conditions and alternatives per kind.
    format: int = 1
    #: Format 2: group code → its name as shown (``A群``, ``ア``), in order.
    group_names: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: Format 2: item kind → recipient kind → the alternatives, any one of which is enough.
    rules: Mapping[str, Mapping[str, tuple[Alternative, ...]]] = field(
        default_factory=dict, hash=False
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, version: int) -> IdentityPolicy:
        """Check a policy dict (records officers edit it) and build the policy.

        Raises :class:`PolicyError` (a ``ValueError``) naming every problem at once: unknown
        keys, a missing or non-positive count, a document without code or name, a group other
        than A/B, a code or name listed twice, or a rule no set of documents can satisfy.
        A dict with ``"format": 2`` is read by :func:`_from_dict_v2`.
        """
        problems: list[str] = []
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            problems.append(f"版数は1以上の整数にしてください: {version!r}")
        if not isinstance(data, Mapping):
            raise PolicyError(f"本人確認ポリシーは辞書で指定してください: {type(data).__name__}")
        if "format" in data:
            if data["format"] != 2 or isinstance(data["format"], bool):
                problems.append(f"形式（format）は 2 にしてください: {data['format']!r}")
                raise PolicyError.of(problems)
            return _from_dict_v2(data, version=version, problems=problems)
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
            raise PolicyError.of(problems)
        return cls(
            version=version,
            documents=MappingProxyType(documents),
            group_a_required=counts["group_a_required"],
            group_b_required=counts["group_b_required"],
            proxy_letter_valid_months=counts["proxy_letter_valid_months"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape :meth:`from_dict` reads (without the version, which is the row key)."""
        if self.format == 2:
            return {
                "format": 2,
                "groups": [{"code": c, "name": n} for c, n in self.group_names.items()],
                "documents": [d.attributes() for d in self.documents.values()],
                "rules": {
                    item_kind: {
                        recipient: [a.to_dict() for a in alternatives]
                        for recipient, alternatives in by_recipient.items()
                    }
                    for item_kind, by_recipient in self.rules.items()
                },
                "proxy_letter_valid_months": self.proxy_letter_valid_months,
            }
        return {
            "documents": [
                {"code": d.code, "name": d.name, "group": d.group} for d in self.documents.values()
            ],
            "group_a_required": self.group_a_required,
            "group_b_required": self.group_b_required,
            "proxy_letter_valid_months": self.proxy_letter_valid_months,
        }

    def group_label(self, group: str) -> str:
        return self.group_names.get(group, f"{group}群")

    def alternatives(self, item_kind: str, recipient_kind: str) -> tuple[Alternative, ...]:
        """Format 2: the alternatives for this item kind and recipient kind."""
        return self.rules.get(item_kind, {}).get(recipient_kind, ())

    def rule_text(self, alternatives: Iterable[Alternative]) -> str:
        """``A群2点、A群1点＋B群1点、またはB群3点（うち写真付き1点以上）``."""
        parts = [a.describe(self) for a in alternatives]
        if len(parts) <= 1:
            return "".join(parts)
        return "、".join(parts[:-1]) + "、または" + parts[-1]

    def requirement(self, item_kind: str | None = None, recipient_kind: str = "self") -> str:
        """The rule in words: ``A群1点、またはB群2点``."""
        if self.format == 2:
            kinds = [item_kind] if item_kind else list(self.rules)
            texts = list(
                dict.fromkeys(self.rule_text(self.alternatives(k, recipient_kind)) for k in kinds)
            )
            return " / ".join(texts)
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


# --- format 2: named groups, conditions, alternatives per item kind and recipient kind --------

#: Item kinds and recipient kinds a format-2 rule must cover (codes of tracker.domain.codes).
ITEM_KINDS = ("notification_card", "number_notice", "mynumber_card")
RECIPIENT_KINDS = tuple(kind.value for kind in RecipientKind)
_GROUP_CODE = re.compile(r"\S{1,10}")
_DOCUMENT_KEYS = {
    "code",
    "name",
    "group",
    "photo",
    "issued_on_or_after",
    "valid_until",
    "expiry_required",
    "never_record_number",
}


@dataclass(frozen=True)
class Alternative:
    """One way to satisfy a format-2 rule: at least so many *different* documents of each
    group, and at least ``min_photo`` of those counted carrying a photo."""

    #: (group code, count) pairs, in the order written.
    counts: tuple[tuple[str, int], ...]
    min_photo: int = 0

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"groups": dict(self.counts)}
        if self.min_photo:
            entry["min_photo"] = self.min_photo
        return entry

    def describe(self, policy: IdentityPolicy) -> str:
        text = "＋".join(f"{policy.group_label(g)}{n}点" for g, n in self.counts)
        if self.min_photo:
            text += f"（うち写真付き{self.min_photo}点以上）"
        return text

    def shortfall(self, valid: list[DocumentType]) -> tuple[dict[str, int], int]:
        """What is missing: group → how many more, and how many more with a photo."""
        missing: dict[str, int] = {}
        photos = 0
        for group, need in self.counts:
            have = [d for d in valid if d.group == group]
            if len(have) < need:
                missing[group] = need - len(have)
            photos += min(need, sum(1 for d in have if d.photo))
        return missing, max(0, self.min_photo - photos)


def _date_value(raw: object, where: str, problems: list[str]) -> date | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    problems.append(f"{where} は YYYY-MM-DD の日付にしてください: {raw!r}")
    return None


def _flag(entry: Mapping[str, Any], key: str, where: str, problems: list[str]) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        problems.append(f"{where}の {key} は true か false にしてください: {value!r}")
        return False
    return value


def _read_groups(raw: object, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, list) or not raw:
        problems.append("群の一覧（groups）を1件以上のリストで指定してください")
        return {}
    groups: dict[str, str] = {}
    for number, entry in enumerate(raw, start=1):
        where = f"群{number}件目"
        if not isinstance(entry, Mapping) or set(entry) != {"code", "name"}:
            problems.append(f"{where}は code と name だけの辞書にしてください")
            continue
        code, name = entry["code"], entry["name"]
        if not isinstance(code, str) or not _GROUP_CODE.fullmatch(code):
            problems.append(f"{where}のコードは空白なしの10文字以内にしてください: {code!r}")
        elif not isinstance(name, str) or not name.strip():
            problems.append(f"{where}（{code}）の名称を入力してください")
        elif code in groups:
            problems.append(f"群コードが重複しています: {code}")
        else:
            groups[code] = name.strip()
    return groups


def _read_documents_v2(
    raw: object, groups: Mapping[str, str], problems: list[str]
) -> dict[str, DocumentType]:
    if not isinstance(raw, list) or not raw:
        problems.append("書類の一覧（documents）を1件以上のリストで指定してください")
        return {}
    documents: dict[str, DocumentType] = {}
    names: set[str] = set()
    for number, entry in enumerate(raw, start=1):
        where = f"書類{number}件目"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}は辞書にしてください")
            continue
        code, name, group = entry.get("code"), entry.get("name"), entry.get("group")
        extra = sorted(set(entry) - _DOCUMENT_KEYS)
        if extra:
            problems.append(f"{where}に不明な項目があります: {', '.join(map(str, extra))}")
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            problems.append(
                f"{where}のコードは英小文字・数字・_ で50文字以内にしてください: {code!r}"
            )
            continue
        where = f"{where}（{code}）"
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}の名称を入力してください")
            continue
        if group not in groups:
            problems.append(f"{where}の群が groups にありません: {group!r}")
            continue
        if code in documents:
            problems.append(f"書類コードが重複しています: {code}")
            continue
        if name.strip() in names:
            problems.append(f"書類の名称が重複しています: {name.strip()}")
            continue
        names.add(name.strip())
        documents[code] = DocumentType(
            code,
            name.strip(),
            str(group),
            photo=_flag(entry, "photo", where, problems),
            issued_on_or_after=_date_value(
                entry.get("issued_on_or_after"), f"{where}の issued_on_or_after", problems
            ),
            valid_until=_date_value(entry.get("valid_until"), f"{where}の valid_until", problems),
            expiry_required=_flag(entry, "expiry_required", where, problems),
            never_record_number=_flag(entry, "never_record_number", where, problems),
        )
    return documents


def _read_alternative(
    raw: object, where: str, groups: Mapping[str, str], problems: list[str]
) -> Alternative | None:
    if not isinstance(raw, Mapping) or "groups" not in raw or set(raw) - {"groups", "min_photo"}:
        problems.append(f"{where}は groups（と min_photo）の辞書にしてください")
        return None
    counts_raw, min_photo = raw["groups"], raw.get("min_photo", 0)
    if not isinstance(counts_raw, Mapping) or not counts_raw:
        problems.append(f"{where}の groups は群コードと点数の辞書にしてください")
        return None
    counts: list[tuple[str, int]] = []
    for group, count in counts_raw.items():
        if group not in groups:
            problems.append(f"{where}の群 {group!r} が groups にありません")
        elif not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 9:
            problems.append(f"{where}の {group} の点数は1〜9の整数にしてください: {count!r}")
        else:
            counts.append((group, count))
    total = sum(n for _, n in counts)
    if not isinstance(min_photo, int) or isinstance(min_photo, bool) or min_photo < 0:
        problems.append(f"{where}の min_photo は0以上の整数にしてください: {min_photo!r}")
        return None
    if min_photo > total:
        problems.append(
            f"{where}の写真付きの点数（{min_photo}）が書類の点数（{total}）を超えています"
        )
        return None
    if len(counts) != len(counts_raw):
        return None
    return Alternative(tuple(counts), min_photo)


def _read_rules(
    raw: object,
    groups: Mapping[str, str],
    documents: Mapping[str, DocumentType],
    problems: list[str],
) -> dict[str, dict[str, tuple[Alternative, ...]]]:
    if not isinstance(raw, Mapping):
        problems.append("組合せの規則（rules）を通知物の種類ごとの辞書で指定してください")
        return {}
    unknown = sorted(set(map(str, raw)) - set(ITEM_KINDS))
    if unknown:
        problems.append(f"rules に不明な通知物の種類があります: {', '.join(unknown)}")
    rules: dict[str, dict[str, tuple[Alternative, ...]]] = {}
    for item_kind in ITEM_KINDS:
        by_recipient = raw.get(item_kind)
        if not isinstance(by_recipient, Mapping):
            problems.append(f"rules.{item_kind} がありません（受け取る人の種類ごとの辞書）")
            continue
        extra = sorted(set(map(str, by_recipient)) - set(RECIPIENT_KINDS))
        if extra:
            problems.append(f"rules.{item_kind} に不明な受取人の種類があります: {', '.join(extra)}")
        rules[item_kind] = {}
        for recipient in RECIPIENT_KINDS:
            where = f"rules.{item_kind}.{recipient}"
            alternatives = by_recipient.get(recipient)
            if not isinstance(alternatives, list) or not alternatives:
                problems.append(f"{where} に組合せを1件以上のリストで指定してください")
                continue
            read = [
                _read_alternative(a, f"{where} の{n}件目", groups, problems)
                for n, a in enumerate(alternatives, start=1)
            ]
            found = tuple(a for a in read if a is not None)
            rules[item_kind][recipient] = found
            if (
                len(found) == len(read)
                and documents
                and not any(_can_satisfy(a, documents) for a in found)
            ):
                problems.append(f"{where} はどの書類の組合せでも満たせません")
    return rules


def _can_satisfy(alternative: Alternative, documents: Mapping[str, DocumentType]) -> bool:
    missing, photos = alternative.shortfall(list(documents.values()))
    return not missing and not photos


def _from_dict_v2(data: Mapping[str, Any], *, version: int, problems: list[str]) -> IdentityPolicy:
    unknown = sorted(
        set(map(str, data))
        - {"format", "groups", "documents", "rules", "proxy_letter_valid_months"}
    )
    if unknown:
        problems.append(f"不明な項目があります: {', '.join(unknown)}")
    months = data.get("proxy_letter_valid_months")
    if not isinstance(months, int) or isinstance(months, bool) or months < 1:
        problems.append(
            "委任状の有効期間（か月）（proxy_letter_valid_months）は1以上の整数に"
            f"してください: {months!r}"
        )
    groups = _read_groups(data.get("groups"), problems)
    documents = _read_documents_v2(data.get("documents"), groups, problems)
    rules = _read_rules(data.get("rules"), groups, documents, problems)
    if problems:
        raise PolicyError.of(problems)
    assert isinstance(months, int)
    return IdentityPolicy(
        version=version,
        documents=MappingProxyType(documents),
        proxy_letter_valid_months=months,
        format=2,
        group_names=MappingProxyType(groups),
        rules=MappingProxyType({k: MappingProxyType(v) for k, v in rules.items()}),
    )


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
    #: Format 2: the issue date entered, keyed by a code in ``documents`` (運転経歴証明書).
    issued_on: Mapping[str, date] = field(default_factory=dict, hash=False)
    #: Format 2: the expiry date printed on it, keyed by a code in ``documents``.
    expires_on: Mapping[str, date] = field(default_factory=dict, hash=False)
    #: Format 2, proxy only: the same for the principal's documents.
    principal_issued_on: Mapping[str, date] = field(default_factory=dict, hash=False)
    principal_expires_on: Mapping[str, date] = field(default_factory=dict, hash=False)

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


def decide(
    evidence: Evidence,
    policy: IdentityPolicy,
    today: date,
    item_kinds: Iterable[str] = ("notification_card",),
) -> Decision:
    """May the items be handed over on this evidence? SPEC §4, every row of its table.

    Returns every reason to refuse, not just the first, each in Japanese and naming what is
    missing, so the clerk can fix the whole form at once. A format-2 policy checks the rule of
    every kind in ``item_kinds`` (the kinds of the items handed over together); format 1 has
    one rule for all kinds.
    """
    if policy.format == 2:
        return _decide_v2(evidence, policy, today, tuple(dict.fromkeys(item_kinds)))
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


def _decide_v2(
    evidence: Evidence, policy: IdentityPolicy, today: date, item_kinds: tuple[str, ...]
) -> Decision:
    kind = RecipientKind(evidence.recipient_kind)
    reasons: list[str] = []
    if kind is not RecipientKind.SELF and not evidence.recipient_name.strip(" \t\u3000"):
        reasons.append(_NAME_PROMPT[kind])
    if kind is RecipientKind.PROXY:
        reasons += _check_letter(evidence.letter_of_attorney_date, policy, today)
    if kind is RecipientKind.LEGAL_REP:
        reasons += _check_authority(evidence.authority_proof)
    unknown_kinds = [k for k in item_kinds if k not in policy.rules]
    if unknown_kinds or not item_kinds:
        reasons.append(
            f"この通知物の種類には本人確認の規則がありません: {', '.join(unknown_kinds)}"
        )
    kinds = [k for k in item_kinds if k in policy.rules]
    reasons += _check_ids_v2(
        evidence.documents,
        evidence.issued_on,
        evidence.expires_on,
        policy,
        [policy.alternatives(k, kind.value) for k in kinds],
        _ID_SUBJECT[kind],
        today,
    )
    if kind is RecipientKind.PROXY:
        reasons += _check_ids_v2(
            evidence.principal_documents,
            evidence.principal_issued_on,
            evidence.principal_expires_on,
            policy,
            [policy.alternatives(k, kind.value) for k in kinds],
            _PRINCIPAL_SUBJECT,
            today,
        )
    for code in evidence.document_last4:
        document = policy.documents.get(code)
        if document is not None and document.never_record_number:
            reasons.append(f"{document.name}の番号は記録しません")
    stray = [c for c in evidence.document_last4 if c not in evidence.documents]
    if stray:
        names = "、".join(_name(c, policy) for c in stray)
        reasons.append(f"番号の下4桁が入力された書類が提示書類に選ばれていません: {names}")
    return Decision(reasons=tuple(dict.fromkeys(reasons)), policy_version=policy.version)


def validity_problems(
    document: DocumentType, issued: date | None, expires: date | None, today: date
) -> list[str]:
    """Why this document does not count today (format 2), in the clerk's words."""
    problems: list[str] = []
    if document.valid_until is not None and today > document.valid_until:
        problems.append(f"{document.name}は{_show(document.valid_until)}で使えなくなりました")
    if document.issued_on_or_after is not None:
        if issued is None:
            problems.append(f"{document.name}の交付日を入力してください")
        elif issued < document.issued_on_or_after:
            problems.append(
                f"{document.name}は{_show(document.issued_on_or_after)}以降に"
                f"交付されたものに限ります（交付日 {_show(issued)}）"
            )
        elif issued > today:
            problems.append(f"{document.name}の交付日が未来の日付です（{_show(issued)}）")
    if document.expiry_required:
        if expires is None:
            problems.append(f"{document.name}の有効期限を入力してください")
        elif expires < today:
            problems.append(f"{document.name}は有効期限（{_show(expires)}）が過ぎています")
    return problems


def _check_ids_v2(
    codes: tuple[str, ...],
    issued_on: Mapping[str, date],
    expires_on: Mapping[str, date],
    policy: IdentityPolicy,
    rule_sets: list[tuple[Alternative, ...]],
    subject: str,
    today: date,
) -> list[str]:
    reasons: list[str] = []
    unknown = [c for c in dict.fromkeys(codes) if c not in policy.documents]
    if unknown:
        reasons.append(f"不明な書類コード: {', '.join(unknown)}（{subject}）")
    for code, times in Counter(codes).items():
        if times > 1 and code in policy.documents:
            reasons.append(
                f"{subject}で同じ書類が{times}回選ばれています: {policy.documents[code].name}"
            )
    valid: list[DocumentType] = []
    for code in dict.fromkeys(codes):
        document = policy.documents.get(code)
        if document is None:
            continue
        problems = validity_problems(document, issued_on.get(code), expires_on.get(code), today)
        reasons += problems
        if not problems:
            valid.append(document)
    for alternatives in rule_sets:
        if any(_can_satisfy_with(a, valid) for a in alternatives):
            continue
        reasons.append(_missing_piece(alternatives, valid, policy, subject))
    return reasons


def _can_satisfy_with(alternative: Alternative, valid: list[DocumentType]) -> bool:
    missing, photos = alternative.shortfall(valid)
    return not missing and not photos


def _missing_piece(
    alternatives: tuple[Alternative, ...],
    valid: list[DocumentType],
    policy: IdentityPolicy,
    subject: str,
) -> str:
    """The nearest alternative, and what it still needs, in words."""
    if not alternatives:
        return f"{subject}の規則がありません"

    def distance(alternative: Alternative) -> tuple[int, int]:
        missing, photos = alternative.shortfall(valid)
        matched = sum(min(n, sum(1 for d in valid if d.group == g)) for g, n in alternative.counts)
        return max(sum(missing.values()), photos), -matched

    nearest = min(alternatives, key=distance)
    missing, photos = nearest.shortfall(valid)
    rule = policy.rule_text(alternatives)
    shown = "・".join(d.name for d in valid) or "なし"
    if not missing:
        return f"写真付きの{subject}がもう{photos}点必要です（基準: {rule}、有効な提示: {shown}）"
    needed = "、".join(f"{policy.group_label(g)}があと{n}点" for g, n in missing.items())
    if photos:
        needed += f"（うち写真付き{photos}点）"
    return f"{subject}が不足しています: {needed}必要です（基準: {rule}、有効な提示: {shown}）"


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
