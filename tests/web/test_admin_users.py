"""Admins manage accounts in the UI, audited; they see no personal-data counts (SPEC §1)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers import Account, csrf_token, login
from tracker.domain.codes import Role
from tracker.models import AuditEvent, User


def test_admin_creates_a_user_who_can_then_log_in(app: Flask, logged_in) -> None:
    client = logged_in(Role.ADMIN)
    response = client.post(
        "/admin/users/new",
        data={
            "username": "yamada",
            "display_name": "山田 太郎",
            "role": "clerk",
            "password": "a-long-password-1",
            "password_again": "a-long-password-1",
            "csrf_token": csrf_token(client, "/admin/users/new"),
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "ユーザー「yamada」を作成しました。" in page and "山田 太郎" in page
    with app.extensions["tracker.db"].session_scope() as session:
        event = session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "user.create")
            .order_by(AuditEvent.seq.desc())
        )
        assert event is not None and '"username":"yamada"' in event.details
        assert "a-long-password-1" not in event.details
    new_client = app.test_client()
    assert login(new_client, Account("yamada", "a-long-password-1", Role.CLERK)).status_code == 302


def test_bad_input_says_what_is_wrong_and_creates_nothing(app: Flask, logged_in) -> None:
    client = logged_in(Role.ADMIN)
    response = client.post(
        "/admin/users/new",
        data={
            "username": "Bad Name!",
            "display_name": "x",
            "role": "clerk",
            "password": "short",
            "password_again": "short",
            "csrf_token": csrf_token(client, "/admin/users/new"),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ユーザー名は2〜64文字の半角英小文字" in page
    assert "パスワードは12文字以上にしてください" in page  # every mistake at once
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(User).where(User.username.like("Bad%"))) is None


def test_admin_home_shows_no_custody_counts(logged_in) -> None:
    page = logged_in(Role.ADMIN).get("/").get_data(as_text=True)
    assert 'data-testid="in-custody-count"' not in page
    assert "ユーザー管理" in page


def test_clerk_home_shows_custody_count_and_no_admin_menu(logged_in) -> None:
    page = logged_in(Role.CLERK).get("/").get_data(as_text=True)
    assert 'data-testid="in-custody-count"' in page
    assert "/admin/users" not in page


def test_the_password_rule_applies_in_the_admin_form(app: Flask, logged_in) -> None:
    client = logged_in(Role.ADMIN)
    for password, reason in [
        ("aaaaaaaaaaaa", "同じ文字を繰り返しただけのパスワードは使えません"),
        ("password1234", "よく使われているパスワードの一覧に載っているため使えません"),
        ("yamada-1234567", "パスワードにユーザー名を含めることはできません"),
        ("my name is Hanako Yamamoto", "パスワードに表示名（氏名）を含めることはできません"),
    ]:
        response = client.post(
            "/admin/users/new",
            data={
                "username": "yamada",
                "display_name": "Hanako Yamamoto",
                "role": "clerk",
                "password": password,
                "password_again": password,
                "csrf_token": csrf_token(client, "/admin/users/new"),
            },
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and reason in page, password
        assert password not in page  # a password field is never echoed back
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(User).where(User.username == "yamada")) is None


def test_each_role_gets_its_own_menu_in_its_own_language(app: Flask, make_user) -> None:
    """The menu is rendered once per role and language and kept (issue 18): the one kept for a
    clerk must never be shown to an admin or an auditor, nor the Japanese one in English."""

    def menu(client: FlaskClient) -> str:
        page = client.get("/").get_data(as_text=True)
        return page[page.index('<nav class="mainnav"') : page.index("</nav>")]

    menus = {}
    for n, role in enumerate((Role.CLERK, Role.ADMIN, Role.AUDITOR, Role.CLERK)):
        client = app.test_client()
        assert login(client, make_user(role, f"{role.value}-{n}")).status_code == 302
        menus.setdefault(role, set()).add(menu(client))
    assert all(len(kept) == 1 for kept in menus.values())  # the second clerk: the same menu
    clerk, admin, auditor = (menus[r].pop() for r in (Role.CLERK, Role.ADMIN, Role.AUDITOR))
    assert "受付" in clerk and "/admin/users" not in clerk and "監査ログ" not in clerk
    assert "/admin/users" in admin and "受付" not in admin
    assert "監査ログ" in auditor and "受付" not in auditor
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    english = menu(client)
    assert "受付" not in english and english != clerk
