"""Synthetic demo data (``tracker demo-data``). Nothing here is real personal data."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from tracker.domain.codes import Role
from tracker.services import accounts

DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("clerk", "窓口 花子", Role.CLERK),
    ("officer", "記録 太郎", Role.RECORDS_OFFICER),
    ("officer2", "記録 次郎", Role.RECORDS_OFFICER),
    ("auditor", "監査 一郎", Role.AUDITOR),
    ("admin", "管理 三郎", Role.ADMIN),
)


def create_demo_users(
    session: Session, hasher: PasswordHasher, *, actor: str
) -> list[tuple[str, str, str]]:
    """One user per role (two officers, for four-eyes approval); returns name, role, password."""
    credentials = []
    for username, display_name, role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        accounts.create_user(
            session,
            hasher,
            actor=actor,
            username=username,
            role=role,
            password=password,
            display_name=display_name,
        )
        credentials.append((username, role.value, password))
    return credentials
