"""Which passwords staff may choose (NIST SP 800-63B, memorized secrets; issue 10).

The rule follows NIST rather than the old composition habits: length is what makes a password
hard to guess, so there is a minimum length and no "one digit, one symbol" rule, and a
password is refused only for what makes it easy to guess:

* fewer than 12 characters, counted in code points: a Japanese passphrase such as
  「はるはあけぼのやうやう」 is 11 characters, not 33 UTF-8 bytes. Any Unicode is allowed;
  the form and the command line refuse control characters before this rule is asked;
* more than 256 characters (a bound on what is hashed, not a rule about guessing);
* on the list of common passwords shipped in ``tracker/data`` (the 10,000 most common, from
  Django; see the NOTICE file there);
* containing the user name, the display name, or a word of the display name (``Suzuki`` of
  ``Suzuki Ichiro``), of at least 3 characters: shorter names such as 山田 would refuse too
  much by accident. User names are looked for whole: their parts are often words such as
  ``new`` in ``clerk-new``;
* one character repeated (``aaaaaaaaaaaa``, ``ああああああああああああ``).

Comparisons are case-insensitive and width-insensitive (NFKC, then ``casefold``), so
``ＰＡＳＳＷＯＲＤ１２３４`` is as common as ``password1234``. Only the checks normalise:
the password itself is hashed exactly as typed.

Messages are Japanese and name the rule that failed; they never repeat the password.
"""

from __future__ import annotations

import functools
import gzip
import re
import unicodedata
from collections.abc import Collection
from importlib import resources

MIN_LENGTH = 12
MAX_LENGTH = 256
#: Names shorter than this are not looked for inside a password.
MIN_NAME_LENGTH = 3

TOO_SHORT = f"パスワードは{MIN_LENGTH}文字以上にしてください"
TOO_LONG = f"パスワードは{MAX_LENGTH}文字以内にしてください"
COMMON = "よく使われているパスワードの一覧に載っているため使えません"
HAS_USERNAME = "パスワードにユーザー名を含めることはできません"
HAS_DISPLAY_NAME = "パスワードに表示名（氏名）を含めることはできません"
REPEATED = "同じ文字を繰り返しただけのパスワードは使えません"


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased (read once per process; about 10,000 entries)."""
    data = resources.files("tracker").joinpath("data", "common-passwords.txt.gz").read_bytes()
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return frozenset(_key(line.strip()) for line in lines if line.strip())


#: Where a display name splits into words: spaces (U+3000 too, after NFKC), . _ - and 「・」.
_WORD_BREAK = re.compile(r"[\s._\-・]+")


def _name_parts(name: str | None, *, words: bool) -> set[str]:
    """The whole name, and with ``words`` the name without separators and each word."""
    if not name:
        return set()
    key = _key(name)
    parts = {key}
    if words:
        split = [word for word in _WORD_BREAK.split(key) if word]
        parts |= {"".join(split), *split}
    return {part for part in parts if len(part) >= MIN_NAME_LENGTH}


def password_problems(
    password: str,
    *,
    username: str | None = None,
    display_name: str | None = None,
    common: Collection[str] | None = None,
) -> tuple[str, ...]:
    """Every reason to refuse ``password`` (empty when it may be used).

    ``common`` defaults to the shipped list; tests may pass their own.
    """
    if len(password) < MIN_LENGTH:
        return (TOO_SHORT,)  # the other rules add nothing a person could act on yet
    if len(password) > MAX_LENGTH:
        return (TOO_LONG,)
    key = _key(password)
    problems: list[str] = []
    if len(set(key)) == 1:
        problems.append(REPEATED)
    if key in (common_passwords() if common is None else common):
        problems.append(COMMON)
    if any(part in key for part in _name_parts(username, words=False)):
        problems.append(HAS_USERNAME)
    if any(part in key for part in _name_parts(display_name, words=True)):
        problems.append(HAS_DISPLAY_NAME)
    return tuple(problems)
