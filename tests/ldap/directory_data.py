"""The test directory's content: an OU of people, one group per role, a disabled user.

Written for OpenLDAP; ``userAccountControl`` (Active Directory's attribute, its real OID) is
added by a two-line schema so that AD's "account disabled" bit can be tested on slapd.
"""

from __future__ import annotations

import base64

BASE = "dc=example,dc=org"
PEOPLE = f"ou=people,{BASE}"
GROUPS_OU = f"ou=groups,{BASE}"
ROOT_DN = f"cn=admin,{BASE}"
POLICY_DN = f"cn=default-policy,{BASE}"
ROOT_PASSWORD = "directory-admin-secret"  # the test directory's own

#: group name → the role the tests map it to
GROUPS = {
    "tracker-clerks": "clerk",
    "tracker-records": "records_officer",
    "tracker-auditors": "auditor",
    "tracker-admins": "admin",
}

#: AD's userAccountControl: 512 a normal account, +2 ACCOUNTDISABLE
NORMAL, DISABLED = 512, 514


#: uid → (display name, password, groups, userAccountControl)
USERS: dict[str, tuple[str, str, set[str], int]] = {
    "suzuki": ("鈴木 花子", "suzuki-dir-pass-1", {"tracker-clerks"}, NORMAL),
    "sato": ("佐藤 次郎", "sato-dir-pass-1", {"tracker-records"}, NORMAL),
    "kato": ("加藤 三郎", "kato-dir-pass-1", {"tracker-auditors"}, NORMAL),
    "yamada": ("山田 四郎", "yamada-dir-pass-1", {"tracker-admins"}, NORMAL),
    "ito": ("伊藤 五郎", "ito-dir-pass-1", {"tracker-clerks"}, DISABLED),
    "watanabe": ("渡辺 六子", "watanabe-dir-pass-1", set(), NORMAL),
    "kobayashi": (
        "小林 七子",
        "kobayashi-dir-pass-1",
        {"tracker-clerks", "tracker-auditors"},
        NORMAL,
    ),
    "mover": ("中村 八郎", "mover-dir-pass-1", {"tracker-clerks"}, NORMAL),
    "locky": ("松本 九子", "locky-dir-pass-1", {"tracker-clerks"}, NORMAL),
    # locked by the directory's admin with the password policy (OpenLDAP's way to disable)
    "kimura": ("木村 十一", "kimura-dir-pass-1", {"tracker-clerks"}, NORMAL),
    # the same name as the local break-glass admin of the tests, another person's password
    "breakglass": ("別人 十郎", "someone-elses-pass-1", {"tracker-admins"}, NORMAL),
}

#: locked for good by the directory's admin (ppolicy's pwdAccountLockedTime 000001010000Z)
LOCKED_BY_POLICY = {"kimura"}

EXTRA_SCHEMA = """\
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.17.1 NAME 'trackerTestAccount' AUXILIARY
    MAY userAccountControl )
"""


def user_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group_dn(name: str) -> str:
    return f"cn={name},{GROUPS_OU}"


def password(uid: str) -> str:
    return USERS[uid][1]


def _utf8(name: str, value: str) -> str:
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


def ldif() -> str:
    entries = [
        [
            f"dn: {BASE}",
            "objectClass: dcObject",
            "objectClass: organization",
            "o: Example",
            "dc: example",
        ],
        [f"dn: {PEOPLE}", "objectClass: organizationalUnit", "ou: people"],
        [f"dn: {GROUPS_OU}", "objectClass: organizationalUnit", "ou: groups"],
        [
            f"dn: {POLICY_DN}",
            "objectClass: device",
            "objectClass: pwdPolicy",
            "cn: default-policy",
            "pwdAttribute: userPassword",
            "pwdLockout: TRUE",  # honour pwdAccountLockedTime (no failure count: pwdMaxFailure 0)
        ],
    ]
    for uid, (display_name, secret, _groups, control) in USERS.items():
        entries.append(
            [
                f"dn: {user_dn(uid)}",
                "objectClass: inetOrgPerson",
                "objectClass: trackerTestAccount",
                f"uid: {uid}",
                f"cn: {uid}",
                f"sn: {uid}",
                _utf8("displayName", display_name),
                f"userPassword: {secret}",
                f"userAccountControl: {control}",
                *(["pwdAccountLockedTime: 000001010000Z"] if uid in LOCKED_BY_POLICY else []),
            ]
        )
    for group in GROUPS:
        # groupOfNames needs a member: the directory's administrator holds each group open
        members = [ROOT_DN] + [user_dn(uid) for uid, user in USERS.items() if group in user[2]]
        entries.append(
            [f"dn: {group_dn(group)}", "objectClass: groupOfNames", f"cn: {group}"]
            + [f"member: {member}" for member in members]
        )
    return "\n\n".join("\n".join(entry) for entry in entries) + "\n"
