"""Which role the directory's groups give (issue 17): one role, none, or ambiguous."""

from __future__ import annotations

import pytest

from tracker.domain.codes import Role
from tracker.domain.directory import (
    AmbiguousRole,
    ad_account_disabled,
    check_table,
    normalise_dn,
    parse_group_lines,
    role_for_groups,
)
from tracker.domain.errors import InputError

CLERKS = "cn=tracker-clerks,ou=groups,dc=example,dc=org"
STAFF = "cn=counter-staff,ou=groups,dc=example,dc=org"
AUDITORS = "cn=tracker-auditors,ou=groups,dc=example,dc=org"
TABLE = {Role.CLERK: (CLERKS, STAFF), Role.AUDITOR: (AUDITORS,), Role.ADMIN: ()}


def test_dns_compare_without_case_or_spaces() -> None:
    assert normalise_dn("CN=Tracker-Clerks, OU=Groups , DC=Example,DC=org") == CLERKS
    assert normalise_dn(r"cn=Sato\, Jiro,ou=people") == r"cn=sato\, jiro,ou=people"


def test_groups_of_one_role_give_it() -> None:
    assert role_for_groups(["CN=Tracker-Clerks,OU=Groups,DC=example,DC=org"], TABLE) is Role.CLERK
    assert role_for_groups([CLERKS, STAFF, "cn=unrelated,dc=org"], TABLE) is Role.CLERK


def test_no_mapped_group_gives_no_role() -> None:
    assert role_for_groups([], TABLE) is None
    assert role_for_groups(["cn=everyone,dc=example,dc=org"], TABLE) is None


def test_groups_of_two_roles_are_ambiguous_never_the_highest() -> None:
    with pytest.raises(AmbiguousRole) as refused:
        role_for_groups([STAFF, AUDITORS], TABLE)
    assert set(refused.value.roles) == {Role.CLERK, Role.AUDITOR}


def test_lines_are_read_and_bad_ones_named() -> None:
    assert parse_group_lines(f" {CLERKS} \n\n{CLERKS.upper()}\n{STAFF}", "窓口担当") == (
        CLERKS,
        STAFF,
    )
    with pytest.raises(InputError, match=r"窓口担当の2行目.*DN"):
        parse_group_lines(f"{CLERKS}\ntracker-clerks", "窓口担当")
    with pytest.raises(InputError, match="1行目: 制御文字"):
        parse_group_lines("cn=a\tb,dc=org", "窓口担当")


def test_a_group_may_give_one_role_only() -> None:
    with pytest.raises(InputError, match=r"窓口担当.*監査担当"):
        check_table({Role.CLERK: (CLERKS,), Role.AUDITOR: (CLERKS.upper(),)})
    check_table(TABLE)


@pytest.mark.parametrize(
    ("value", "disabled"),
    [(512, False), (514, True), ("66050", True), (["2"], True), (None, False), ("x", False)],
)
def test_the_ad_disabled_bit(value: object, disabled: bool) -> None:
    assert ad_account_disabled(value) is disabled
