"""Identity policy format 2 (issue 14): the seeded version 2 decided per item kind and recipient
kind, the document conditions, and the format itself. Pure: no database, no clock."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import TODAY
from tracker.domain.identity import (
    Evidence,
    IdentityPolicy,
    PolicyError,
    RecipientKind,
    decide,
    default_policy,
    policy_v2,
)

V1 = IdentityPolicy.from_dict(default_policy(), version=1)
V2 = IdentityPolicy.from_dict(policy_v2(), version=2)
#: Far enough ahead for any document whose expiry date must be entered.
LATER = date(2030, 1, 1)
PRINCIPAL_OK = ("passport", "drivers_license")


def evidence(kind: RecipientKind, documents: tuple[str, ...], **extra: object) -> Evidence:
    """Everything but the documents in order for ``kind``, so only the ID rule decides."""
    filled: dict[str, object] = {}
    if kind is not RecipientKind.SELF:
        filled["recipient_name"] = "代理 春子"
    if kind is RecipientKind.PROXY:
        filled["letter_of_attorney_date"] = date(2026, 11, 1)
        filled["principal_documents"] = PRINCIPAL_OK
    if kind is RecipientKind.LEGAL_REP:
        filled["authority_proof"] = "family_register"
    filled.update(extra)
    expires = {c: LATER for c in documents if V2.documents[c].expiry_required}
    issued = {c: date(2015, 6, 1) for c in documents if V2.documents[c].issued_on_or_after}
    return Evidence(
        recipient_kind=kind,
        documents=documents,
        expires_on=expires,
        issued_on=issued,
        **filled,  # type: ignore[arg-type]
    )


A1 = ("drivers_license",)
A2 = ("drivers_license", "passport")
AB = ("drivers_license", "pension_book")
B2 = ("pension_book", "bankbook")
B3_PLAIN = ("pension_book", "bankbook", "long_term_care_insurance_card")
B3_PHOTO = ("pension_book", "bankbook", "student_id")
B1 = ("pension_book",)
NONE: tuple[str, ...] = ()

SIMPLE = "A群1点、またはB群2点"
CARD = (
    "A群2点（うち写真付き1点以上）、A群1点＋B群1点（うち写真付き1点以上）、"
    "またはB群3点（うち写真付き1点以上）"
)

#: item kind, recipient kind, documents → allowed (True) or a piece of the reason.
TABLE: list[tuple[str, RecipientKind, tuple[str, ...], bool | str]] = []
for _item in ("notification_card", "number_notice"):
    for _kind in RecipientKind:
        TABLE += [
            (_item, _kind, A1, True),
            (_item, _kind, B2, True),
            (_item, _kind, AB, True),
            (_item, _kind, B1, "B群があと1点必要です"),
            (_item, _kind, NONE, f"基準: {SIMPLE}"),
        ]
TABLE += [
    ("mynumber_card", RecipientKind.SELF, A1, True),
    ("mynumber_card", RecipientKind.SELF, B2, True),
    ("mynumber_card", RecipientKind.SELF, B1, "B群があと1点必要です"),
]
for _kind in (RecipientKind.HOUSEHOLD, RecipientKind.PROXY, RecipientKind.LEGAL_REP):
    TABLE += [
        ("mynumber_card", _kind, A2, True),
        ("mynumber_card", _kind, AB, True),
        ("mynumber_card", _kind, B3_PHOTO, True),
        ("mynumber_card", _kind, A1, f"基準: {CARD}"),
        ("mynumber_card", _kind, B2, "B群があと1点"),
        ("mynumber_card", _kind, B3_PLAIN, "写真付きの"),
    ]


@pytest.mark.parametrize(("item_kind", "kind", "documents", "expected"), TABLE)
def test_decision_table(
    item_kind: str, kind: RecipientKind, documents: tuple[str, ...], expected: bool | str
) -> None:
    decision = decide(evidence(kind, documents), V2, TODAY, item_kinds=[item_kind])
    assert decision.policy_version == 2
    if expected is True:
        assert decision.allowed, decision.reasons
    else:
        assert not decision.allowed
        assert any(str(expected) in reason for reason in decision.reasons), decision.reasons


def test_three_plain_b_documents_need_a_photo_in_words() -> None:
    household = evidence(RecipientKind.HOUSEHOLD, B3_PLAIN)
    reasons = decide(household, V2, TODAY, item_kinds=["mynumber_card"]).reasons
    assert len(reasons) == 1
    assert reasons[0].startswith("写真付きの世帯員の本人確認書類がもう1点必要です")
    alone = decide(evidence(RecipientKind.SELF, B3_PLAIN), V2, TODAY, ["mynumber_card"])
    assert alone.allowed  # the person herself: B×2 is enough


def test_items_of_two_kinds_need_both_rules() -> None:
    household = evidence(RecipientKind.HOUSEHOLD, A1)
    assert decide(household, V2, TODAY, item_kinds=["notification_card"]).allowed
    both = decide(household, V2, TODAY, item_kinds=["notification_card", "mynumber_card"])
    assert not both.allowed and "A群があと1点" in both.reasons[0]


def test_the_proxy_rule_checks_the_principal_too() -> None:
    proxy = evidence(RecipientKind.PROXY, A2, principal_documents=("drivers_license",))
    reasons = decide(proxy, V2, TODAY, item_kinds=["mynumber_card"]).reasons
    assert reasons == (
        "委任者（本人）の本人確認書類が不足しています: A群があと1点必要です"
        f"（基準: {CARD}、有効な提示: 運転免許証）",
    )


def test_the_extra_proofs_of_proxies_and_legal_representatives_still_count() -> None:
    old_letter = evidence(RecipientKind.PROXY, A1, letter_of_attorney_date=date(2026, 8, 26))
    assert decide(old_letter, V2, TODAY).reasons[0].startswith("委任状の作成日が3か月より前です")
    no_proof = evidence(RecipientKind.LEGAL_REP, A1, authority_proof=None)
    assert decide(no_proof, V2, TODAY).reasons == ("法定代理人の資格を証する書類を選んでください",)
    nameless = evidence(RecipientKind.HOUSEHOLD, A1, recipient_name="")
    assert decide(nameless, V2, TODAY).reasons == ("来庁した世帯員の氏名を入力してください",)


# --- the conditions on documents ---------------------------------------------------------------


def test_the_health_insurance_card_is_refused_after_2025_12_01() -> None:
    card = Evidence(RecipientKind.SELF, documents=("health_insurance_card", "pension_book"))
    assert decide(card, V2, date(2025, 12, 1)).allowed  # the last day of the transition
    reasons = decide(card, V2, date(2025, 12, 2)).reasons
    assert reasons[0] == "健康保険証は令和7年12月1日で使えなくなりました"
    assert "B群があと1点必要です" in reasons[1]
    assert decide(card, V1, TODAY).allowed  # version 1 knew nothing of it


def test_a_driving_record_certificate_issued_before_2012_04_01_is_refused() -> None:
    def shown(issued: date | None) -> tuple[str, ...]:
        dates = {"driving_record_certificate": issued} if issued else {}
        documents = ("driving_record_certificate",)
        return decide(
            Evidence(RecipientKind.SELF, documents=documents, issued_on=dates), V2, TODAY
        ).reasons

    assert shown(date(2012, 4, 1)) == ()
    refused = shown(date(2012, 3, 31))
    assert refused[0] == (
        "運転経歴証明書は平成24年4月1日以降に交付されたものに限ります（交付日 平成24年3月31日）"
    )
    assert shown(None)[0] == "運転経歴証明書の交付日を入力してください"


def test_an_expired_document_is_refused_with_its_date() -> None:
    def shown(expires: date | None) -> tuple[str, ...]:
        dates = {"mynumber_card": expires} if expires else {}
        card = Evidence(RecipientKind.SELF, documents=("mynumber_card",), expires_on=dates)
        return decide(card, V2, TODAY).reasons

    assert shown(TODAY) == ()  # valid through the day printed on it
    assert (
        shown(date(2026, 11, 26))[0]
        == "マイナンバーカードは有効期限（令和8年11月26日）が過ぎています"
    )
    assert shown(None)[0] == "マイナンバーカードの有効期限を入力してください"


def test_the_photo_juki_card_has_lapsed() -> None:
    juki = Evidence(RecipientKind.SELF, documents=("juki_card_with_photo",))
    assert decide(juki, V2, date(2025, 12, 31)).allowed
    assert decide(juki, V2, TODAY).reasons[0] == (
        "写真付き住基カードは令和7年12月31日で使えなくなりました"
    )


def test_no_number_is_recorded_for_a_my_number_card() -> None:
    card = Evidence(
        RecipientKind.SELF,
        documents=("mynumber_card",),
        expires_on={"mynumber_card": LATER},
        document_last4={"mynumber_card": "1234"},
    )
    assert decide(card, V2, TODAY).reasons == ("マイナンバーカードの番号は記録しません",)
    licence = Evidence(RecipientKind.SELF, documents=A1, document_last4={"drivers_license": "12"})
    assert decide(licence, V2, TODAY).allowed


def test_the_new_documents_are_in_version_2() -> None:
    assert V2.documents["eligibility_certificate"].group == "B"
    assert V2.documents["temporary_refuge_permit"].group == "A"
    assert V2.documents["provisional_stay_permit"].group == "A"
    refuge = Evidence(
        RecipientKind.SELF,
        documents=("temporary_refuge_permit",),
        expires_on={"temporary_refuge_permit": LATER},
    )
    assert decide(refuge, V2, TODAY).allowed


# --- the format ---------------------------------------------------------------------------------


def test_named_groups_and_never_two_of_the_weaker_group() -> None:
    """「ア＋ア または ア＋イ、イ＋イは不可」 as a format-2 policy."""
    both = [{"groups": {"ア": 2}}, {"groups": {"ア": 1, "イ": 1}}]
    data = {
        "format": 2,
        "groups": [{"code": "ア", "name": "ア群"}, {"code": "イ", "name": "イ群"}],
        "documents": [
            {"code": "passport", "name": "旅券", "group": "ア", "photo": True},
            {"code": "drivers_license", "name": "運転免許証", "group": "ア", "photo": True},
            {"code": "pension_book", "name": "年金手帳", "group": "イ"},
            {"code": "bankbook", "name": "預金通帳", "group": "イ"},
        ],
        "rules": {k: {r.value: both for r in RecipientKind} for k in V2.rules},
        "proxy_letter_valid_months": 3,
    }
    policy = IdentityPolicy.from_dict(data, version=5)
    assert policy.to_dict() == data
    assert policy.requirement("notification_card") == "ア群2点、またはア群1点＋イ群1点"

    def allowed(*codes: str) -> bool:
        return decide(Evidence(RecipientKind.SELF, documents=codes), policy, TODAY).allowed

    assert allowed("passport", "drivers_license") and allowed("passport", "bankbook")
    assert not allowed("pension_book", "bankbook") and not allowed("passport")


def test_a_policy_that_cannot_be_met_lists_every_problem() -> None:
    data = policy_v2()
    data["documents"] = [d for d in data["documents"] if d["group"] == "B" and not d.get("photo")]
    data["documents"].append({"code": "x", "name": "X", "group": "Z", "expiry_required": 1})
    with pytest.raises(PolicyError) as raised:
        IdentityPolicy.from_dict(data, version=3)
    problems = raised.value.problems
    assert "書類7件目（x）の群が groups にありません: 'Z'" in problems
    assert "rules.notification_card.self はどの書類の組合せでも満たせません" not in problems
    assert "rules.mynumber_card.household はどの書類の組合せでも満たせません" in problems
    assert "rules.mynumber_card.proxy はどの書類の組合せでも満たせません" in problems


def test_version_1_still_decides_as_before() -> None:
    assert V1.format == 1 and V1.requirement() == SIMPLE
    card = Evidence(
        RecipientKind.SELF, documents=("mynumber_card",), document_last4={"mynumber_card": "1234"}
    )
    assert decide(card, V1, TODAY, item_kinds=["mynumber_card"]).allowed
