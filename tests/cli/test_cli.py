"""The ``tracker`` command line contract (SPEC §7): output, exit codes, --actor."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from tracker.cli import main
from tracker.db import Database
from tracker.models import AuditEvent, IdentityPolicy, Location, RetentionRule, User


def invoke(database_url: str, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        main,
        list(args),
        input=stdin,
        env={"TRACKER_DATABASE_URL": database_url, "USER": "operator"},
    )


def test_init_db_on_an_empty_database_seeds_the_spec_defaults(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    result = invoke(url, "init-db")
    assert result.exit_code == 0, result.output
    database = Database(url)
    with database.session_scope() as session:
        locations = session.scalars(select(Location).order_by(Location.sort_order)).all()
        assert [loc.name for loc in locations] == [
            "中央区役所1階 熊本市マイナンバーセンター",
            "東区役所",
            "西区役所",
            "南区役所",
            "北区役所",
        ]
        assert [loc.is_default for loc in locations] == [True, False, False, False, False]
        rule = session.scalar(select(RetentionRule))
        assert rule is not None and rule.label == "平成30年度返戻分"
        assert (str(rule.returned_from), str(rule.returned_to), str(rule.retain_until)) == (
            "2018-04-01",
            "2019-03-31",
            "2020-03-31",
        )
        policy = session.scalar(select(IdentityPolicy))
        assert policy is not None and "運転免許証" in policy.policy_json
        assert "預金通帳" in policy.policy_json
    # running it again changes nothing
    assert invoke(url, "init-db").exit_code == 0
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Location)) == 5
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1
    database.dispose()


def test_create_user_reads_the_password_from_stdin(database_url: str, database: Database) -> None:
    result = invoke(
        database_url,
        "create-user",
        "tanaka",
        "--role",
        "clerk",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough password" not in result.output
    with database.session_scope() as session:
        user = session.scalar(select(User).where(User.username == "tanaka"))
        assert user is not None and user.role == "clerk"
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
        assert event is not None and event.actor == "cli:operator"


def test_create_user_without_stdin_prints_a_generated_password(database_url: str) -> None:
    result = invoke(database_url, "create-user", "suzuki", "--role", "auditor")
    assert result.exit_code == 0
    assert "初期パスワード:" in result.stdout


def test_refusals_exit_1_with_a_message_saying_what(database_url: str) -> None:
    invoke(database_url, "create-user", "sato", "--role", "clerk")
    taken = invoke(database_url, "create-user", "sato", "--role", "clerk")
    assert taken.exit_code == 1 and "既に使われています" in taken.stderr
    weak = invoke(
        database_url, "create-user", "kato", "--role", "clerk", "--password-stdin", stdin="short\n"
    )
    assert weak.exit_code == 1 and "12文字以上" in weak.stderr


def test_create_user_refuses_passwords_the_rule_refuses(
    database_url: str, database: Database
) -> None:
    for password, reason in [
        ("aaaaaaaaaaaa", "同じ文字を繰り返しただけ"),
        ("password1234", "よく使われている"),
        ("x-kobayashi-2026", "ユーザー名を含めることはできません"),
    ]:
        result = invoke(
            database_url,
            "create-user",
            "kobayashi",
            "--role",
            "clerk",
            "--password-stdin",
            stdin=password + "\n",
        )
        assert result.exit_code == 1 and reason in result.stderr, password
        assert password not in result.stderr and password not in result.stdout
    with database.session_scope() as session:
        assert session.scalar(select(User).where(User.username == "kobayashi")) is None


def test_actor_must_be_an_admin_for_user_changes(database_url: str, database: Database) -> None:
    invoke(database_url, "create-user", "chief", "--role", "admin")
    invoke(database_url, "create-user", "desk", "--role", "clerk")
    refused = invoke(database_url, "create-user", "x1", "--role", "clerk", "--actor", "desk")
    assert refused.exit_code == 1 and "desk" in refused.stderr
    unknown = invoke(database_url, "create-user", "x2", "--role", "clerk", "--actor", "ghost")
    assert unknown.exit_code == 1 and "ghost" in unknown.stderr
    ok = invoke(database_url, "create-user", "x3", "--role", "clerk", "--actor", "chief")
    assert ok.exit_code == 0
    with database.session_scope() as session:
        actors = session.scalars(
            select(AuditEvent.actor).where(AuditEvent.action == "user.create")
        ).all()
        assert actors[-1] == "chief"
        assert session.scalar(select(User).where(User.username == "x1")) is None


def test_usage_errors_exit_2(database_url: str) -> None:
    assert invoke(database_url, "create-user", "y", "--role", "boss").exit_code == 2
    assert invoke(database_url, "create-user").exit_code == 2
    assert invoke(database_url, "no-such-command").exit_code == 2


def test_the_installed_console_script_runs(database_url: str) -> None:
    """The real ``tracker`` entry point, in a child process, with real exit codes."""
    script = Path(sys.executable).parent / "tracker"
    env = {**os.environ, "TRACKER_DATABASE_URL": database_url}
    ok = subprocess.run(
        [script, "audit-verify"], env=env, capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    usage = subprocess.run(
        [script, "create-user"], env=env, capture_output=True, text=True, check=False
    )
    assert usage.returncode == 2


def test_demo_data_fills_an_empty_database_once(database_url: str, database: Database) -> None:
    from collections import Counter

    from tracker.models import Envelope, Item, RegisterResult

    result = invoke(database_url, "demo-data")
    assert result.exit_code == 0, result.output
    assert "パスワード:" in result.output
    with database.session_scope() as session:
        envelopes = session.scalar(select(func.count()).select_from(Envelope)) or 0
        reasons = set(session.scalars(select(Envelope.return_reason).distinct()))
        sizes = (
            session.execute(select(func.count()).select_from(Item).group_by(Item.envelope_id))
            .scalars()
            .all()
        )
        years = {d.year for d in session.scalars(select(Envelope.returned_on))}
        users = session.scalars(select(User.role)).all()
        outcomes = Counter(session.scalars(select(RegisterResult.outcome)))
        checkers = set(session.scalars(select(RegisterResult.checked_by)))
    assert envelopes >= 300
    assert len(reasons) == 6 and years == set(range(2016, 2022))
    assert min(sizes) == 1 and max(sizes) >= 5
    assert sorted(set(users)) == ["admin", "auditor", "clerk", "records_officer"]
    # the 実態調査依頼一覧 has rows, and the other outcomes show on item pages
    assert outcomes["resident"] >= 20 and outcomes["deceased"] >= 1 and outcomes["moved_out"] >= 1
    assert checkers == {"officer"}  # a records officer, never the admin who ran the command
    again = invoke(database_url, "demo-data")
    assert again.exit_code == 1 and "空ではありません" in again.stderr


def test_init_db_with_an_unknown_actor_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = invoke(url, "init-db", "--actor", "chief")
    assert result.exit_code == 1 and "--actor" in result.stderr
    from tracker.schema import current_revision

    database = Database(url)
    assert current_revision(database.engine) is None
    database.dispose()
