"""Directory login (issue 17): which role the directory's groups give a person.

The admin keeps a table *role → directory groups* (group DNs, in the settings). A person's role
comes from the groups the directory says they are in:

* **no mapped group**: refused. Being in the directory does not make someone staff of this
  office; the login page answers exactly as for a wrong password.
* **groups of one role** (one or several groups): that role.
* **groups of two or more roles**: refused as ambiguous, never "the highest". Roles are
  exclusive (SPEC §1: one person, one role) and separate duties (an auditor must not also be
  the records officer whose work they check); no order between them is "higher" in a way that
  would be safe to guess. The directory's groups must be put right instead.

Group names are compared as DNs: case does not matter, nor spaces around ``,`` and ``=``.
A group may be listed under one role only.

Active Directory marks a disabled account with the ``ACCOUNTDISABLE`` bit (2) of
``userAccountControl`` (:func:`ad_account_disabled`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from tracker.domain.codes import Role
from tracker.domain.errors import InputError

#: role → the group DNs that give it
GroupRoles = Mapping[Role, tuple[str, ...]]

#: userAccountControl's "account disabled" bit (Microsoft: ADS_UF_ACCOUNTDISABLE).
ACCOUNTDISABLE = 0x0002

#: The longest group DN the table accepts, and the most groups per role.
MAX_DN_LENGTH = 500
MAX_GROUPS_PER_ROLE = 50


class AmbiguousRole(Exception):
    """The person's groups map to more than one role."""

    def __init__(self, roles: Iterable[Role]) -> None:
        self.roles = tuple(sorted(roles))
        super().__init__(", ".join(role.value for role in self.roles))


_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def normalise_dn(dn: str) -> str:
    """A DN in one spelling for comparison: lower case, no spaces around ``,`` and ``=``."""
    parts = []
    for rdn in _UNESCAPED_COMMA.split(dn.strip()):
        attribute, _, value = rdn.partition("=")
        parts.append(f"{attribute.strip()}={value.strip()}")
    return ",".join(parts).lower()


def role_for_groups(groups: Iterable[str], table: GroupRoles) -> Role | None:
    """The role the groups give (``None``: no mapped group); :class:`AmbiguousRole` if they
    give several roles."""
    member_of = {normalise_dn(group) for group in groups}
    roles = {
        role
        for role, role_groups in table.items()
        if any(normalise_dn(group) in member_of for group in role_groups)
    }
    if len(roles) > 1:
        raise AmbiguousRole(roles)
    return next(iter(roles), None)


def parse_group_lines(text: str, label: str) -> tuple[str, ...]:
    """The group DNs typed one per line for the role called ``label`` (blank lines skipped).

    Refuses, naming the line, what cannot be a DN: no ``=``, control characters, too long.
    """
    groups: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        dn = line.strip()
        if not dn:
            continue
        where = f"{label}の{number}行目"
        if any(ord(character) < 32 or ord(character) == 127 for character in dn):
            raise InputError(f"{where}: 制御文字は使えません")
        if len(dn) > MAX_DN_LENGTH:
            raise InputError(f"{where}: {MAX_DN_LENGTH}文字以内にしてください")
        if "=" not in dn:
            raise InputError(
                f"{where}: グループはDN（例: cn=tracker-clerks,ou=groups,dc=example,dc=org）"
                "で入力してください"
            )
        if normalise_dn(dn) in {normalise_dn(seen) for seen in groups}:
            continue
        groups.append(dn)
    if len(groups) > MAX_GROUPS_PER_ROLE:
        raise InputError(f"{label}: グループは{MAX_GROUPS_PER_ROLE}件までにしてください")
    return tuple(groups)


def check_table(table: GroupRoles) -> None:
    """Refuse a group listed under two roles (its members would always be ambiguous)."""
    seen: dict[str, Role] = {}
    for role, groups in table.items():
        for group in groups:
            other = seen.setdefault(normalise_dn(group), role)
            if other is not role:
                raise InputError(
                    f"グループ「{group}」が「{other.label_ja}」と「{role.label_ja}」の両方に"
                    "あります。一つの役割にだけ指定してください"
                )


def ad_account_disabled(user_account_control: object) -> bool:
    """Whether AD's ``userAccountControl`` value has the ACCOUNTDISABLE bit."""
    if isinstance(user_account_control, list | tuple):
        user_account_control = user_account_control[0] if user_account_control else None
    try:
        value = int(str(user_account_control))
    except ValueError:
        return False
    return bool(value & ACCOUNTDISABLE)
