"""Account service details that a user would notice only under attack or load."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from tests import factories
from tests.helpers import PASSWORD
from tracker.clock import now_utc
from tracker.config import PasswordHashing
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.models import AuditEvent, LoginFailure, LoginLock, User
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
    factories.user(
        database, Role.CLERK, "known", password="a long password here", hasher=hasher, actor="t"
    )
    with database.session_scope() as session:
        user = session.scalar(select(User).where(User.username == "known"))
        assert user is not None
        session.add(
            LoginLock(
                user_id=user.id,
                client="192.0.2.1",
                locked_at=now_utc(),
                locked_until=now_utc() + timedelta(minutes=5),
            )
        )
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
    factories.user(
        database, Role.CLERK, "target", password="a long password here", hasher=hasher, actor="t"
    )
    with database.session_scope() as session:
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
                client="203.0.113.9",  # one attacker's address, twelve threads
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
        # the lock holds for the attacker's address only: the owner still gets in elsewhere
        elsewhere = accounts.record_login_attempt(
            session,
            hasher,
            POLICY,
            credentials=credentials,
            password="a long password here",
            password_ok=True,
            client="10.0.0.8",
            now=now_utc(),
        )
    database.dispose()
    assert len(outcomes) == 12
    assert lockouts == 1
    assert outcomes.count("locked") == 12 - 5  # the five failures before the lock, then refusals
    assert chain_ok
    assert elsewhere.outcome is accounts.LoginOutcome.OK


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


def _failures(database: Database, user_id: int, count: int, *, clients: int) -> None:
    with database.session_scope() as session:
        for number in range(count):
            session.add(
                LoginFailure(
                    user_id=user_id, client=f"198.51.100.{number % clients}", failed_at=now_utc()
                )
            )


def test_the_slow_down_waits_with_no_transaction_open(database: Database) -> None:
    hasher = CountingHasher()
    policy = accounts.LoginPolicy(5, timedelta(minutes=15), timedelta(minutes=15))
    assert (policy.slowdown_after, policy.slowdown) == (20, timedelta(seconds=2))
    with database.session_scope() as session:
        user = accounts.create_user(
            session, hasher, actor="t", username="busy", role=Role.CLERK, password=PASSWORD
        )
        user_id = user.id
    waits: list[tuple[float, bool]] = []
    session = database.new_session()

    def sleep(seconds: float) -> None:
        waits.append((seconds, session.in_transaction()))

    def attempt(password: str) -> accounts.LoginResult:
        try:
            return accounts.authenticate(
                database.read_session,
                session,
                hasher,
                policy,
                username="busy",
                password=password,
                client="10.0.0.1",
                now=now_utc(),
                sleep=sleep,
            )
        finally:
            session.commit()

    try:
        _failures(database, user_id, 19, clients=19)  # nineteen addresses, one guess each
        assert attempt("wrong guess here").outcome is accounts.LoginOutcome.BAD_CREDENTIALS
        assert waits == []
        result = attempt(PASSWORD)  # the twentieth failure was the one just made
        assert result.ok and result.delayed == 2.0
        assert waits == [(2.0, False)]
    finally:
        session.close()


def test_a_password_is_never_checked_inside_a_transaction(database: Database) -> None:
    hasher = CountingHasher()
    session = database.new_session()
    try:
        session.execute(select(1))  # a transaction is now open
        with pytest.raises(RuntimeError, match="transaction"):
            accounts.authenticate(
                database.read_session,
                session,
                hasher,
                POLICY,
                username="anyone",
                password="whatever",
                client="10.0.0.1",
                now=now_utc(),
            )
        assert hasher.verifications == 0
    finally:
        session.close()


@pytest.mark.parametrize("username", ["123456789018", "x123456789018y"])
def test_an_individual_number_is_no_username_and_is_never_echoed(
    database: Database, username: str
) -> None:
    with database.session_scope() as session, pytest.raises(accounts.AccountError) as refusal:
        accounts.create_user(
            session,
            accounts.make_hasher(1, 8, 1),
            actor="cli:test",
            username=username,
            role=Role.CLERK,
            password="a long enough passphrase 7",
        )
    assert "個人番号" in str(refusal.value)
    assert "123456789018" not in str(refusal.value)
