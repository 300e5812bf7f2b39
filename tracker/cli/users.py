"""Accounts from the command line: ``create-user`` and ``demo-data`` (demo users and returns)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.domain.codes import Role
from tracker.models import User
from tracker.services import accounts


@click.command("create-user")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="clerk | records_officer | auditor | admin",
)
@click.option("--display-name", help="Name shown in the UI (default: NAME).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--actor", help="Audit actor (an admin); default cli:<OS user>.")
@pass_state
def create_user(
    state: CliState,
    name: str,
    role: str,
    display_name: str | None,
    password_stdin: bool,
    actor: str | None,
) -> None:
    """Add a user. Without --password-stdin a random password is generated and printed once."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = accounts.generate_password(name, display_name)
        generated = True
    from tracker.services.accounts import make_hasher

    hashing = state.config.password_hashing
    hasher = make_hasher(hashing.time_cost, hashing.memory_cost, hashing.parallelism)
    try:
        with state.database.session_scope() as session:
            actor_name = resolve_actor(session, actor, [Role.ADMIN])
            user = accounts.create_user(
                session,
                hasher,
                actor=actor_name,
                username=name,
                role=Role(role),
                password=password,
                display_name=display_name,
            )
            username = user.username
    except accounts.AccountError as refusal:
        fail(str(refusal))
    click.echo(f"ユーザー「{username}」（{Role(role).label_ja}）を作成しました。")
    if generated:
        click.echo(f"初期パスワード: {password}")


@click.command("demo-data")
@click.option("--actor", help="Audit actor (an admin); default cli:<OS user>.")
@pass_state
def demo_data(state: CliState, actor: str | None) -> None:
    """Fill an empty database with demo users (one per role, passwords printed) and a realistic
    synthetic set of returned envelopes (2016-2021, households of 1-6)."""
    from tracker.clock import now_utc, today_jst
    from tracker.models import Envelope
    from tracker.services.demo import (
        create_demo_pickup_days,
        create_demo_register_results,
        create_demo_returns,
        create_demo_rules,
        create_demo_users,
    )

    hashing = state.config.password_hashing
    hasher = accounts.make_hasher(hashing.time_cost, hashing.memory_cost, hashing.parallelism)
    with state.database.session_scope() as session:
        if (
            session.scalar(select(User.id).limit(1)) is not None
            or session.scalar(select(Envelope.id).limit(1)) is not None
        ):
            fail(
                "データベースは空ではありません（ユーザーか封筒が既にあります）。"
                "デモデータは空のデータベースにだけ作成できます"
            )
        actor_name = resolve_actor(session, actor, [Role.ADMIN])
        credentials = create_demo_users(session, hasher, actor=actor_name)
        report = create_demo_returns(session, actor=actor_name, today=today_jst(), now=now_utc())
        rules = create_demo_rules(session, actor=actor_name)
        # entered as the demo records officer would on the item pages
        checked = create_demo_register_results(
            session, actor="officer", today=today_jst(), now=now_utc()
        )
        pickup_days = create_demo_pickup_days(
            session, actor="officer", today=today_jst(), now=now_utc()
        )
    click.echo(
        f"デモ用の返戻郵便を登録しました: 封筒 {report.envelopes}件、通知物 {report.items}件"
        f"（年度別の廃棄基準 {rules}件を追加、住基照合の結果 {checked}件、"
        f"受取予約日 {pickup_days}日）"
    )
    click.echo("デモ用ユーザーを作成しました:")
    for username, role, password in credentials:
        click.echo(f"  {username:<10} {Role(role).label_ja:<8} パスワード: {password}")
