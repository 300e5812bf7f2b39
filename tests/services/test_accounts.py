"""Account service details that a user would notice only under attack or load."""

from __future__ import annotations

import threading
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select

from tracker.clock import now_utc
from tracker.config import PasswordHashing
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.models import AuditEvent, User
from tracker.services import accounts, audit

CHEAP = PasswordHashing.cheap_for_tests()
POLICY = accounts.LoginPolicy(5, timedelta(minutes=15), timedelta(minutes=15))


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(
            time_cost=CHEAP.time_cost, memory_cost=CHEAP.memory_cost, parallelism=CHEAP.parallelism
        )
        self.verifications = 0

    def verify(self, hash, password) -> bool:  # type: ignore[no-untyped-def,override]
        self.verifications += 1
        return super().verify(hash, password)


def test_every_login_attempt_costs_exactly_one_password_check(database: Database) -> None:
    """Unknown, locked and password-less accounts must not answer faster than the rest."""
    hasher = CountingHasher()
    with database.session_scope() as session:
        accounts.create_user(
            session,
            hasher,
            actor="t",
            username="known",
            role=Role.CLERK,
            password="a long password here",
        )
        user = session.scalar(select(User).where(User.username == "known"))
        assert user is not None
        user.locked_until = now_utc() + timedelta(minutes=5)
    for name in ("nobody", "known"):
        with database.session_scope() as session:
            credentials = accounts.lookup_credentials(session, name)
        before = hasher.verifications
        accounts.check_password(hasher, credentials, "a long password here")
        assert hasher.verifications == before + 1, name


def test_a_taken_username_is_a_clear_refusal_not_an_error(database: Database) -> None:
    hasher = CountingHasher()
    first = database.new_session()
    second = database.new_session()
    try:
        accounts.create_user(
            first,
            hasher,
            actor="t",
            username="dup",
            role=Role.CLERK,
            password="a long password here",
        )
        first.commit()
        try:
            accounts.create_user(
                second,
                hasher,
                actor="t",
                username="dup",
                role=Role.CLERK,
                password="another long password",
            )
        except accounts.AccountError as refusal:
            assert "既に使われています" in str(refusal)
        else:
            raise AssertionError("duplicate username accepted")
    finally:
        first.close()
        second.close()


def test_parallel_wrong_passwords_on_postgres_lock_exactly_once(postgres_url: str) -> None:
    database = Database(postgres_url, pool_size=15)
    hasher = CountingHasher()
    with database.session_scope() as session:
        accounts.create_user(
            session,
            hasher,
            actor="t",
            username="target",
            role=Role.CLERK,
            password="a long password here",
        )
        credentials = accounts.lookup_credentials(session, "target")
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait(timeout=30)
        with database.session_scope() as session:
            result = accounts.record_login_attempt(
                session,
                hasher,
                POLICY,
                credentials=credentials,
                password="wrong",
                password_ok=False,
                now=now_utc(),
            )
            outcomes.append(result.outcome.value)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with database.session_scope() as session:
        lockouts = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.lockout")
        )
        chain_ok = audit.verify_chain(session).ok
    database.dispose()
    assert len(outcomes) == 12
    assert lockouts == 1
    assert outcomes.count("locked") == 12 - 5  # the five failures before the lock, then refusals
    assert chain_ok


def test_every_password_change_follows_the_password_rule(database: Database) -> None:
    hasher = CountingHasher()
    with database.session_scope() as session:
        user = accounts.create_user(
            session,
            hasher,
            actor="t",
            username="kimura",
            role=Role.CLERK,
            password="a long password here",
            display_name="木村 花子",
        )
        for weak, reason in [
            ("aaaaaaaaaaaa", "繰り返し"),
            ("password1234", "よく使われている"),
            ("kimura-is-my-name", "ユーザー名"),
        ]:
            try:
                accounts.set_password(
                    session, hasher, actor="t", user=user, password=weak, now=now_utc()
                )
            except accounts.AccountError as refusal:
                assert reason in str(refusal) and refusal.field == "password"
                assert weak not in str(refusal)
            else:
                raise AssertionError(f"{weak!r} accepted")
        accounts.set_password(
            session,
            hasher,
            actor="t",
            user=user,
            password="木村さんの新しい長めの合言葉",
            now=now_utc(),
        )


def test_generated_passwords_pass_the_rule() -> None:
    from tracker.domain.passwords import password_problems

    for _ in range(50):
        password = accounts.generate_password("abc", "abc")
        assert password_problems(password, username="abc", display_name="abc") == ()
