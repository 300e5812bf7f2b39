"""The password rule (NIST SP 800-63B style, issue 10): length, common list, names, repeats."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD
from tracker.domain import passwords
from tracker.domain.passwords import password_problems


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("aaaaaaaaaaaa", passwords.REPEATED),
        ("ああああああああああああ", passwords.REPEATED),
        ("password1234", passwords.COMMON),
        ("PassWord1234", passwords.COMMON),  # the list is compared case-insensitively
        ("ＰＡＳＳＷＯＲＤ１２３４", passwords.COMMON),  # and width-insensitively
        ("qwerty123456", passwords.COMMON),
        ("my yamada.taro secret", passwords.HAS_USERNAME),
        ("MY-YAMADA.TARO-KEY", passwords.HAS_USERNAME),  # case-insensitive
        ("ichiro goes fishing", passwords.HAS_DISPLAY_NAME),  # a word of the display name
        ("suzukiichiro-2026", passwords.HAS_DISPLAY_NAME),  # the display name, spaces removed
        ("short", passwords.TOO_SHORT),
        ("はるはあけぼのやうやう", passwords.TOO_SHORT),  # 11 characters (33 bytes in UTF-8)
        ("x" * 100 + "y" * 157, passwords.TOO_LONG),
    ],
)
def test_passwords_the_issue_names_are_refused_with_the_rule_that_failed(
    password: str, expected: str
) -> None:
    problems = password_problems(password, username="yamada.taro", display_name="Suzuki Ichiro")
    assert expected in problems


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,  # the test suite's own
        "はるはあけぼのやうやう白く",  # 12 code points of Japanese
        "𠮷野家で牛丼を食べた日のこと",  # a character outside the BMP counts once
        "a-long-password-1",
        "ab" * 6,
        "yamada goes fishing",  # a part of the user name is not the user name
    ],
)
def test_good_passwords_pass(password: str) -> None:
    assert password_problems(password, username="yamada.taro", display_name="山田 太郎") == ()


def test_names_shorter_than_three_characters_are_not_looked_for() -> None:
    assert (
        password_problems("山田の畑で大根を育てている", username="ab", display_name="山田 太郎")
        == ()
    )
    assert passwords.HAS_DISPLAY_NAME in password_problems(
        "山田太郎の大根畑はとても広い", username="ab", display_name="山田 太郎"
    )


def test_every_failed_rule_is_named_and_the_password_is_never_repeated() -> None:
    problems = password_problems("tanaka" * 2, username="tanaka", common={"tanakatanaka"})
    assert set(problems) == {passwords.COMMON, passwords.HAS_USERNAME}
    assert all("tanaka" not in problem for problem in problems)


def test_the_shipped_list_holds_ten_thousand_lowercase_entries() -> None:
    common = passwords.common_passwords()
    assert len(common) == 10_000
    assert "password1234" in common and "123456" in common
    assert all(entry == entry.casefold() for entry in common)
