"""Identity-verified handover: the SPEC §4 table, the ID rule and the policy as data."""

from datetime import date, timedelta
from typing import Any

import pytest

from tracker.domain.errors import InputError
from tracker.domain.identity import (
    AUTHORITY_PROOFS,
    DEFAULT_DOCUMENTS,
    Decision,
    Evidence,
    IdentityPolicy,
    PolicyError,
    RecipientKind,
    decide,
    default_policy,
    letter_valid_until,
    months_before,
)

TODAY = date(2020, 5, 31)  # a month end: the clamping case of the letter's validity
POLICY = IdentityPolicy.from_dict(default_policy(), version=1)

A = "drivers_license"  # 運転免許証
A2 = "passport"  # 旅券
B = "health_insurance_card"  # 健康保険証
B2 = "pension_book"  # 年金手帳・年金証書
B3 = "student_id"  # 学生証


def check(evidence: Evidence, policy: IdentityPolicy = POLICY, today: date = TODAY) -> Decision:
    return decide(evidence, policy, today)


def proxy(**changes: Any) -> Evidence:
    """A complete proxy handover; tests take one piece away at a time."""
    fields: dict[str, Any] = {
        "recipient_kind": RecipientKind.PROXY,
        "recipient_name": "佐藤 花子",
        "documents": (A,),
        "principal_documents": (B, B2),
        "letter_of_attorney_date": date(2020, 5, 1),
    }
    return Evidence(**{**fields, **changes})


def legal_rep(**changes: Any) -> Evidence:
    fields: dict[str, Any] = {
        "recipient_kind": RecipientKind.LEGAL_REP,
        "recipient_name": "山田 一郎",
        "documents": (A,),
        "authority_proof": "family_register",
    }
    return Evidence(**{**fields, **changes})


def household(**changes: Any) -> Evidence:
    fields: dict[str, Any] = {
        "recipient_kind": RecipientKind.HOUSEHOLD,
        "recipient_name": "山田 花子",
        "documents": (B, B2),
    }
    return Evidence(**{**fields, **changes})


def only_reason(decision: Decision) -> str:
    assert not decision.allowed
    assert len(decision.reasons) == 1, decision.reasons
    return decision.reasons[0]


# --- the default catalogue is still what the database is seeded with ---------------------------


def test_default_policy_is_the_spec_catalogue() -> None:
    data = default_policy()
    assert [d["code"] for d in data["documents"]] == [d.code for d in DEFAULT_DOCUMENTS]
    assert sum(d["group"] == "A" for d in data["documents"]) == 10
    assert sum(d["group"] == "B" for d in data["documents"]) == 7
    assert (data["group_a_required"], data["group_b_required"]) == (1, 2)
    assert data["proxy_letter_valid_months"] == 3
    assert POLICY.to_dict() == data
    assert POLICY.version == 1


def test_recipient_kinds_have_japanese_labels() -> None:
    assert [(k.value, k.label_ja) for k in RecipientKind] == [
        ("self", "本人"),
        ("household", "同一世帯員"),
        ("proxy", "任意代理人"),
        ("legal_rep", "法定代理人"),
    ]


# --- every row of the SPEC §4 table: allowed with the right evidence ---------------------------


@pytest.mark.parametrize(
    "evidence",
    [
        Evidence(RecipientKind.SELF, documents=(A,)),
        household(),
        proxy(),
        legal_rep(),
        legal_rep(authority_proof="guardianship_certificate", documents=(B, B3)),
    ],
    ids=["self", "household", "proxy", "legal_rep", "legal_rep-guardian"],
)
def test_each_kind_is_allowed_with_the_right_evidence(evidence: Evidence) -> None:
    decision = check(evidence)
    assert decision.allowed, decision.reasons
    assert decision.reasons == ()
    assert decision.policy_version == 1


# --- ... and refused with each piece missing ----------------------------------------------------


def test_self_without_id_is_refused() -> None:
    reason = only_reason(check(Evidence(RecipientKind.SELF)))
    assert reason == "本人確認書類が不足しています: A群1点、またはB群2点が必要です（提示: なし）"


def test_self_needs_no_recipient_name() -> None:
    assert check(Evidence(RecipientKind.SELF, recipient_name="", documents=(A,))).allowed


@pytest.mark.parametrize(
    ("evidence", "reason"),
    [
        (household(recipient_name=""), "来庁した世帯員の氏名を入力してください"),
        (household(recipient_name=" \u3000"), "来庁した世帯員の氏名を入力してください"),
        (proxy(recipient_name=""), "代理人の氏名を入力してください"),
        (legal_rep(recipient_name=""), "法定代理人の氏名を入力してください"),
    ],
)
def test_recipient_name_is_required_unless_self(evidence: Evidence, reason: str) -> None:
    assert only_reason(check(evidence)) == reason


@pytest.mark.parametrize(
    ("evidence", "subject"),
    [
        (household(documents=()), "世帯員の本人確認書類"),
        (proxy(documents=()), "代理人の本人確認書類"),
        (legal_rep(documents=()), "法定代理人の本人確認書類"),
        (proxy(principal_documents=()), "委任者（本人）の本人確認書類"),
    ],
)
def test_each_person_must_show_id(evidence: Evidence, subject: str) -> None:
    reason = only_reason(check(evidence))
    assert reason.startswith(f"{subject}が不足しています: A群1点、またはB群2点が必要です")


def test_proxy_without_letter_of_attorney_is_refused() -> None:
    assert only_reason(check(proxy(letter_of_attorney_date=None))) == (
        "委任状の作成日を入力してください"
    )


def test_proxy_principal_id_is_checked_separately_from_the_proxys() -> None:
    # The proxy's licence does not stand in for the principal's ID.
    decision = check(proxy(documents=(A,), principal_documents=(B,)))
    assert only_reason(decision) == (
        "委任者（本人）の本人確認書類が不足しています: A群1点、またはB群2点が必要です"
        "（提示: B群1点 健康保険証）"
    )


def test_legal_rep_without_proof_of_authority_is_refused() -> None:
    for missing in (None, "", "  "):
        assert only_reason(check(legal_rep(authority_proof=missing))) == (
            "法定代理人の資格を証する書類を選んでください"
        )


def test_legal_rep_with_unknown_proof_is_refused() -> None:
    assert only_reason(check(legal_rep(authority_proof="drivers_license"))) == (
        "不明な資格証明書類コード: drivers_license"
    )


def test_authority_proofs_cover_parents_and_guardians() -> None:
    names = {p.code: p.name for p in AUTHORITY_PROOFS}
    assert names["family_register"] == "戸籍謄本・抄本"
    assert names["guardianship_certificate"] == "成年後見登記事項証明書"
    assert "other" in names
    assert check(legal_rep(authority_proof="other")).allowed


def test_all_reasons_are_collected_not_just_the_first() -> None:
    decision = check(
        Evidence(RecipientKind.PROXY, documents=(B,), principal_documents=(B, B, "nope"))
    )
    assert decision.reasons == (
        "代理人の氏名を入力してください",
        "委任状の作成日を入力してください",
        "代理人の本人確認書類が不足しています: A群1点、またはB群2点が必要です"
        "（提示: B群1点 健康保険証）",
        "不明な書類コード: nope（委任者（本人）の本人確認書類）",
        "委任者（本人）の本人確認書類で同じ書類が2回選ばれています: 健康保険証",
        "委任者（本人）の本人確認書類が不足しています: A群1点、またはB群2点が必要です"
        "（提示: B群1点 健康保険証）",
    )


def test_fields_of_another_kind_are_ignored() -> None:
    # A 委任状 date left in the form after the clerk switched to 本人 does not refuse it.
    evidence = Evidence(
        RecipientKind.SELF,
        documents=(A,),
        letter_of_attorney_date=date(2000, 1, 1),
        authority_proof="nonsense",
        principal_documents=("nonsense",),
    )
    assert check(evidence).allowed


def test_recipient_kind_may_be_given_as_its_code() -> None:
    assert check(Evidence("self", documents=(A,))).allowed  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        check(Evidence("stranger", documents=(A,)))  # type: ignore[arg-type]


# --- the ID rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("documents", "allowed"),
    [
        ((A,), True),  # A alone
        ((B, B2), True),  # B + B
        ((A, B), True),  # one A is enough; the B does no harm
        ((B, A), True),
        ((A, A2), True),
        ((B, B2, B3), True),
        ((B,), False),  # B alone
        ((B, B), False),  # the same B twice is one document
        ((), False),
    ],
)
def test_id_rule(documents: tuple[str, ...], allowed: bool) -> None:
    assert check(Evidence(RecipientKind.SELF, documents=documents)).allowed is allowed


def test_b_alone_says_what_is_missing_and_what_was_shown() -> None:
    assert only_reason(check(Evidence(RecipientKind.SELF, documents=(B,)))) == (
        "本人確認書類が不足しています: A群1点、またはB群2点が必要です（提示: B群1点 健康保険証）"
    )


def test_same_b_twice_is_refused_as_a_duplicate_and_as_too_few() -> None:
    decision = check(Evidence(RecipientKind.SELF, documents=(B, B)))
    assert decision.reasons == (
        "本人確認書類で同じ書類が2回選ばれています: 健康保険証",
        "本人確認書類が不足しています: A群1点、またはB群2点が必要です（提示: B群1点 健康保険証）",
    )


def test_same_a_twice_is_refused_as_a_slip_of_the_clerk() -> None:
    reason = only_reason(check(Evidence(RecipientKind.SELF, documents=(A, A))))
    assert reason == "本人確認書類で同じ書類が2回選ばれています: 運転免許証"


def test_unknown_document_code_is_named_and_does_not_count() -> None:
    decision = check(Evidence(RecipientKind.SELF, documents=("library_card", B)))
    assert decision.reasons == (
        "不明な書類コード: library_card（本人確認書類）",
        "本人確認書類が不足しています: A群1点、またはB群2点が必要です（提示: B群1点 健康保険証）",
    )


def test_presented_documents_are_listed_by_group() -> None:
    policy = IdentityPolicy.from_dict({**default_policy(), "group_a_required": 2}, version=2)
    reason = only_reason(check(Evidence(RecipientKind.SELF, documents=(B, A)), policy))
    assert reason == (
        "本人確認書類が不足しています: A群2点、またはB群2点が必要です"
        "（提示: A群1点 運転免許証、B群1点 健康保険証）"
    )


def test_a_custom_policy_changes_the_outcome() -> None:
    stricter = IdentityPolicy.from_dict({**default_policy(), "group_b_required": 3}, version=7)
    two_b = Evidence(RecipientKind.SELF, documents=(B, B2))
    assert check(two_b).allowed
    decision = check(two_b, stricter)
    assert decision.policy_version == 7
    assert only_reason(decision) == (
        "本人確認書類が不足しています: A群1点、またはB群3点が必要です"
        "（提示: B群2点 健康保険証・年金手帳・年金証書）"
    )
    assert check(Evidence(RecipientKind.SELF, documents=(B, B2, B3)), stricter).allowed


def test_a_catalogue_without_group_a_asks_only_for_b() -> None:
    data = {
        "documents": [
            {"code": "health_insurance_card", "name": "健康保険証", "group": "B"},
            {"code": "pension_book", "name": "年金手帳", "group": "B"},
        ],
        "group_a_required": 1,
        "group_b_required": 2,
        "proxy_letter_valid_months": 3,
    }
    policy = IdentityPolicy.from_dict(data, version=3)
    reason = only_reason(check(Evidence(RecipientKind.SELF, documents=(B,)), policy))
    assert reason.startswith("本人確認書類が不足しています: B群2点が必要です")
    # A document another municipality accepts is unknown here.
    assert not check(Evidence(RecipientKind.SELF, documents=(A,)), policy).allowed


# --- the letter of attorney's validity (calendar months, SPEC §4) ------------------------------


@pytest.mark.parametrize(
    ("today", "written", "allowed"),
    [
        (date(2020, 5, 15), date(2020, 2, 15), True),  # exactly 3 months
        (date(2020, 5, 15), date(2020, 2, 14), False),  # 3 months + 1 day
        (date(2020, 5, 15), date(2020, 5, 15), True),  # written today
        (date(2020, 5, 15), date(2020, 5, 16), False),  # dated in the future
        (date(2020, 5, 31), date(2020, 2, 29), True),  # clamped: May 31 − 3 months = Feb 29
        (date(2020, 5, 31), date(2020, 2, 28), False),
        (date(2021, 5, 31), date(2021, 2, 28), True),  # not a leap year
        (date(2021, 5, 31), date(2021, 2, 27), False),
        (date(2020, 2, 15), date(2019, 11, 15), True),  # across the year
        (date(2020, 2, 15), date(2019, 11, 14), False),
    ],
)
def test_letter_of_attorney_boundaries(today: date, written: date, allowed: bool) -> None:
    decision = check(proxy(letter_of_attorney_date=written), today=today)
    assert decision.allowed is allowed, decision.reasons


def test_expired_letter_says_when_it_was_written_and_when_it_expired() -> None:
    reason = only_reason(
        check(proxy(letter_of_attorney_date=date(2020, 2, 14)), today=date(2020, 5, 15))
    )
    assert reason == (
        "委任状の作成日が3か月より前です（作成日 令和2年2月14日、有効期限 令和2年5月14日）"
    )


def test_future_letter_is_refused() -> None:
    reason = only_reason(check(proxy(letter_of_attorney_date=date(2020, 6, 1))))
    assert reason == "委任状の作成日が未来の日付です（作成日 令和2年6月1日、本日 令和2年5月31日）"


def test_letter_with_a_year_before_any_era_is_shown_in_iso() -> None:
    reason = only_reason(check(proxy(letter_of_attorney_date=date(202, 5, 1))))
    assert "作成日 0202-05-01" in reason


def test_validity_months_come_from_the_policy() -> None:
    one_month = IdentityPolicy.from_dict(
        {**default_policy(), "proxy_letter_valid_months": 1}, version=4
    )
    evidence = proxy(letter_of_attorney_date=date(2020, 4, 1))
    assert check(evidence).allowed
    assert only_reason(check(evidence, one_month)).startswith("委任状の作成日が1か月より前です")


def test_months_before_clamps_to_the_month_end() -> None:
    assert months_before(date(2020, 5, 31), 3) == date(2020, 2, 29)
    assert months_before(date(2021, 5, 31), 3) == date(2021, 2, 28)
    assert months_before(date(2020, 3, 31), 1) == date(2020, 2, 29)
    assert months_before(date(2020, 1, 15), 3) == date(2019, 10, 15)


@pytest.mark.parametrize("months", [1, 3, 6])
def test_the_expiry_shown_is_exactly_the_last_valid_day(months: int) -> None:
    # For every letter date over two years: valid on the expiry, invalid the day after.
    written = date(2019, 1, 1)
    while written < date(2021, 1, 1):
        until = letter_valid_until(written, months)
        assert months_before(until, months) <= written
        assert months_before(until + timedelta(days=1), months) > written
        written += timedelta(days=1)
    assert letter_valid_until(date(2020, 2, 29), 3) == date(2020, 5, 31)
    assert letter_valid_until(date(2020, 11, 30), 3) == date(2021, 2, 28)


# --- last 4 characters of a document number, never more ----------------------------------------


def test_last4_is_kept_with_the_evidence() -> None:
    evidence = Evidence(RecipientKind.SELF, documents=(A,), document_last4={A: "1234"})
    assert check(evidence).allowed
    assert evidence.document_last4 == {A: "1234"}
    assert check(Evidence(RecipientKind.SELF, documents=(A2,), document_last4={A2: "K9"})).allowed


@pytest.mark.parametrize("value", ["12345", "123456789012", "TK1234567"])
def test_last4_longer_than_four_characters_is_refused(value: str) -> None:
    with pytest.raises(InputError) as refused:
        Evidence(RecipientKind.SELF, documents=(A,), document_last4={A: value})
    message = str(refused.value)
    assert "下4桁のみ記録できます" in message
    assert value not in message  # the number is never echoed


@pytest.mark.parametrize("value", ["", "12 4", "12-4"])
def test_last4_must_be_letters_or_digits(value: str) -> None:
    with pytest.raises(InputError, match="英数字"):
        Evidence(RecipientKind.SELF, documents=(A,), document_last4={A: value})


def test_last4_for_a_document_not_shown_is_refused() -> None:
    evidence = Evidence(RecipientKind.SELF, documents=(A,), document_last4={A2: "1234"})
    assert only_reason(check(evidence)) == (
        "番号の下4桁が入力された書類が提示書類に選ばれていません: 旅券"
    )


# --- the policy as data: what records officers may not save -------------------------------------


def test_from_dict_reads_the_catalogue() -> None:
    assert POLICY.documents[A].name == "運転免許証"
    assert POLICY.documents[B].group == "B"
    assert list(POLICY.documents) == [d.code for d in DEFAULT_DOCUMENTS]
    with pytest.raises(TypeError):
        POLICY.documents["x"] = POLICY.documents[A]  # type: ignore[index]


def _with_documents(*documents: dict[str, Any]) -> dict[str, Any]:
    return {**default_policy(), "documents": [*default_policy()["documents"], *documents]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _with_documents({"code": "library_card", "name": "図書館カード", "group": "C"}),
            "図書館カード）の群は A または B にしてください: 'C'",
        ),
        (
            _with_documents({"code": "passport", "name": "旅券（再）", "group": "A"}),
            "書類コードが重複しています: passport",
        ),
        (
            _with_documents({"code": "passport2", "name": "旅券", "group": "A"}),
            "書類の名称が重複しています: 旅券",
        ),
        (
            _with_documents({"code": "Passport No", "name": "x", "group": "A"}),
            "コードは英小文字・数字・_ で50文字以内にしてください",
        ),
        (
            _with_documents({"code": "blank", "name": " ", "group": "A"}),
            "（blank）の名称を入力してください",
        ),
        (
            _with_documents({"code": "x", "name": "x", "group": "A", "colour": "red"}),
            "不明な項目があります: colour",
        ),
        ({**default_policy(), "group_a_required": 0}, "A群の必要点数（group_a_required）"),
        ({**default_policy(), "group_b_required": -2}, "B群の必要点数（group_b_required）"),
        ({**default_policy(), "group_b_required": "2"}, "B群の必要点数"),
        ({**default_policy(), "group_b_required": True}, "B群の必要点数"),
        ({**default_policy(), "proxy_letter_valid_months": 0}, "委任状の有効期間"),
        ({k: v for k, v in default_policy().items() if k != "group_a_required"}, "A群"),
        ({**default_policy(), "group_b_requird": 3}, "不明な項目があります: group_b_requird"),
        ({**default_policy(), "documents": []}, "書類の一覧（documents）"),
        ({**default_policy(), "documents": ["passport"]}, "code, name, group の辞書"),
        (
            {
                **default_policy(),
                "documents": [{"code": "bankbook", "name": "預金通帳", "group": "B"}],
            },
            "どの書類の組合せでも条件を満たせません",
        ),
    ],
)
def test_from_dict_refuses_a_bad_policy(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="本人確認ポリシーが正しくありません") as refused:
        IdentityPolicy.from_dict(data, version=2)
    assert message in str(refused.value)


def test_from_dict_lists_every_problem_at_once() -> None:
    data = {**default_policy(), "group_a_required": 0, "group_b_required": 0}
    with pytest.raises(PolicyError) as refused:
        IdentityPolicy.from_dict(data, version=0)
    message = str(refused.value)
    assert "版数は1以上の整数にしてください" in message
    assert "A群の必要点数" in message
    assert "B群の必要点数" in message


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)
    with pytest.raises(ValueError, match="辞書"):
        IdentityPolicy.from_dict(["not", "a", "dict"], version=1)  # type: ignore[arg-type]


def test_from_dict_round_trips() -> None:
    data = _with_documents({"code": "library_card", "name": "図書館カード", "group": "B"})
    policy = IdentityPolicy.from_dict(data, version=5)
    assert IdentityPolicy.from_dict(policy.to_dict(), version=5) == policy
    assert check(Evidence(RecipientKind.SELF, documents=(B, "library_card")), policy).allowed
