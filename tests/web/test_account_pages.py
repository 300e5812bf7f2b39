"""Issue 12 on the web: own password change, forced change, admin account actions, settings and
locations (SPEC §1: admins manage accounts, locations and settings; no personal data)."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests import factories
from tests.helpers import PASSWORD, Account, csrf_token, login
from tracker.domain.codes import ItemStatus, Role
from tracker.models import AuditEvent, Envelope, Item, Location, User

NEW_PASSWORD = "my own long passphrase"
ONE_TIME_RE = re.compile(r'data-testid="one-time-password">([^<]+)<')


def _user_id(app: Flask, username: str) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        assert user_id is not None
        return user_id


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["tracker.db"].session_scope() as session:
        rows = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
        )
        session.expunge_all()
        return rows


def _change(client: FlaskClient, current: str, new: str, again: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "password": new,
            "password_again": new if again is None else again,
            "csrf_token": csrf_token(client, "/account/password"),
        },
    )


def _admin(app: Flask, make_user) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, make_user(Role.ADMIN, "boss")).status_code == 302
    return client


def _create_on_web(admin: FlaskClient, username: str = "yamada") -> Account:
    response = admin.post(
        "/admin/users/new",
        data={
            "username": username,
            "display_name": "山田 花子",
            "role": "clerk",
            "password": "initial password from admin",
            "password_again": "initial password from admin",
            "csrf_token": csrf_token(admin, "/admin/users/new"),
        },
    )
    assert response.status_code == 302, response.text
    return Account(username, "initial password from admin", Role.CLERK)


# --- own password and the forced change ------------------------------------------------------


def test_a_user_created_on_the_web_must_change_the_initial_password_first(
    app: Flask, make_user
) -> None:
    account = _create_on_web(_admin(app, make_user))
    client = app.test_client()
    assert login(client, account).headers["Location"] == "/"
    for path in ("/", "/items", "/envelopes/new", "/audit", "/admin/users"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/account/password", path
    page = client.get("/account/password").text
    assert "業務を始める前に" in page
    static = client.get("/static/app.css")
    static.close()  # streamed from an open file
    assert static.status_code == 200
    assert _change(client, account.password, NEW_PASSWORD).headers["Location"] == "/"
    home = client.get("/", follow_redirects=True).text
    assert "パスワードを変更しました" in home and "ようこそ、山田 花子さん" in home
    assert client.get("/items").status_code == 200
    assert login(app.test_client(), account).status_code == 200  # the old one is gone
    assert login(app.test_client(), account, NEW_PASSWORD).status_code == 302


def test_logout_works_while_a_change_is_required(app: Flask, make_user) -> None:
    account = _create_on_web(_admin(app, make_user))
    client = app.test_client()
    login(client, account)
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account/password")})
    assert response.headers["Location"] == "/login"
    assert client.get("/").headers["Location"].startswith("/login")


def test_changing_the_password_ends_the_other_sessions_only(app: Flask, make_user) -> None:
    account = make_user(Role.CLERK, "kimura")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, account)
    login(elsewhere, account)
    assert _change(here, PASSWORD, NEW_PASSWORD).status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").headers["Location"].startswith("/login")


def test_wrong_current_or_weak_new_password_is_refused_and_says_why(app: Flask, make_user) -> None:
    account = make_user(Role.CLERK, "kimura")
    client = app.test_client()
    login(client, account)
    for current, new, again, message in [
        ("wrong password", NEW_PASSWORD, None, "現在のパスワードが正しくありません"),
        (PASSWORD, "tiny-pw", None, "パスワードは12文字以上にしてください"),
        (PASSWORD, NEW_PASSWORD, "something else", "確認用のパスワードが一致しません"),
        (PASSWORD, PASSWORD, None, "現在のパスワードと違うものにしてください"),
    ]:
        response = _change(client, current, new, again)
        assert response.status_code == 200 and message in response.text, message
        assert current not in response.text and new not in response.text
    assert login(app.test_client(), account).status_code == 302  # unchanged
    [failure] = [
        json.loads(event.details)
        for event in _events(app, "auth.login_failed")
        if json.loads(event.details)["attempt"] == "reentry"
    ]
    assert failure["reason"] == "wrong_password"


# --- admin actions ---------------------------------------------------------------------------


def test_an_admin_reset_shows_the_one_time_password_once(app: Flask, make_user) -> None:
    account = make_user(Role.CLERK, "kimura")
    victim = app.test_client()
    login(victim, account)
    admin = _admin(app, make_user)
    user_id = _user_id(app, "kimura")
    response = admin.post(
        f"/admin/users/{user_id}/password",
        data={"csrf_token": csrf_token(admin, f"/admin/users/{user_id}")},
    )
    assert response.status_code == 200
    match = ONE_TIME_RE.search(response.text)
    assert match, response.text
    one_time = match.group(1)
    assert "二度と表示されません" in response.text
    assert one_time not in admin.get(f"/admin/users/{user_id}").text
    assert one_time not in admin.get("/admin/users").text
    assert "次のログインでパスワードの変更が必要" in admin.get(f"/admin/users/{user_id}").text
    [event] = _events(app, "user.password_reset")
    assert event.actor == "boss" and one_time not in event.details
    assert victim.get("/").headers["Location"].startswith("/login")  # their session ended
    fresh = app.test_client()
    assert login(fresh, account, one_time).status_code == 302
    assert fresh.get("/").headers["Location"] == "/account/password"


def test_an_admin_cannot_reset_their_own_password_here(app: Flask, make_user) -> None:
    admin = _admin(app, make_user)
    user_id = _user_id(app, "boss")
    response = admin.post(
        f"/admin/users/{user_id}/password",
        data={"csrf_token": csrf_token(admin, f"/admin/users/{user_id}")},
        follow_redirects=True,
    )
    assert "「パスワードの変更」画面で変更してください" in response.text
    assert ONE_TIME_RE.search(response.text) is None
    assert _events(app, "user.password_reset") == []


def test_a_role_change_takes_effect_at_the_next_login(app: Flask, make_user) -> None:
    account = make_user(Role.CLERK, "kimura")
    clerk = app.test_client()
    login(clerk, account)
    admin = _admin(app, make_user)
    user_id = _user_id(app, "kimura")
    response = admin.post(
        f"/admin/users/{user_id}/role",
        data={"role": "auditor", "csrf_token": csrf_token(admin, f"/admin/users/{user_id}")},
        follow_redirects=True,
    )
    assert "役割を「監査担当」に変更しました" in response.text
    assert clerk.get("/").headers["Location"].startswith("/login")
    login(clerk, account)
    assert clerk.get("/audit").status_code == 200
    assert clerk.get("/envelopes/new").status_code == 403
    [event] = _events(app, "user.role_change")
    assert json.loads(event.details)["before"] == "clerk"


def test_the_last_admin_can_neither_step_down_nor_be_disabled(app: Flask, make_user) -> None:
    admin = _admin(app, make_user)
    user_id = _user_id(app, "boss")
    response = admin.post(
        f"/admin/users/{user_id}/role",
        data={"role": "clerk", "csrf_token": csrf_token(admin, f"/admin/users/{user_id}")},
        follow_redirects=True,
    )
    assert "有効なシステム管理者が一人もいなくなる" in response.text
    response = admin.post(
        f"/admin/users/{user_id}/active",
        data={"csrf_token": csrf_token(admin, "/admin/users")},
        follow_redirects=True,
    )
    assert "自分自身のアカウントは無効にできません" in response.text
    assert admin.get("/admin/users").status_code == 200  # still an admin, still logged in
    assert _events(app, "user.role_change") == [] and _events(app, "user.deactivate") == []


@pytest.mark.parametrize("role", [Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR])
def test_only_admins_reach_the_admin_actions(app: Flask, make_user, role: Role) -> None:
    make_user(Role.CLERK, "target")
    user_id = _user_id(app, "target")
    client = app.test_client()
    login(client, make_user(role, "someone"))
    token = csrf_token(client, "/")
    for path, data in [
        (f"/admin/users/{user_id}/password", {}),
        (f"/admin/users/{user_id}/role", {"role": "admin"}),
        ("/admin/settings", {"municipality": "x", "office": "x", "receipt_addressee": "x"}),
        ("/admin/locations", {"code": "EVIL", "name": "悪い倉庫"}),
        ("/admin/locations/2/retire", {}),
    ]:
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    for path in ("/admin/users/1", "/admin/settings", "/admin/locations", "/admin/locations/2"):
        assert client.get(path).status_code == 403, path
    for action in ("user.password_reset", "user.role_change", "settings.change"):
        assert _events(app, action) == [], action
    assert _events(app, "location.create") == [] and _events(app, "location.retire") == []


def test_the_admin_home_links_users_locations_and_settings(app: Flask, make_user) -> None:
    page = _admin(app, make_user).get("/").text
    for path in ("/admin/users", "/admin/locations", "/admin/settings", "/account/password"):
        assert f'href="{path}"' in page, path


# --- settings --------------------------------------------------------------------------------


def _settings_form(**changes: str) -> dict[str, str]:
    data = {
        "municipality": "熊本市",
        "office": "中央区役所1階 熊本市マイナンバーセンター",
        "receipt_addressee": "熊本市長",
        "notice_contact": "熊本市 中央区役所 区民課 マイナンバーセンター 電話 096-328-2288",
        "remail_close_days": "30",
        "stock_check_interval_months": "6",
    }
    for day in range(7):
        if day < 5:
            data[f"days-{day}-opens"] = "08:30"
            data[f"days-{day}-closes"] = "17:15"
        else:
            data[f"days-{day}-closed"] = "y"
    data.update(changes)
    return data


def test_an_admin_changes_the_settings_and_they_show_again(app: Flask, make_user) -> None:
    admin = _admin(app, make_user)
    page = admin.get("/admin/settings").text
    assert 'value="熊本市長"' in page and 'value="08:30"' in page
    data = _settings_form(receipt_addressee="熊本市長 大西 一史")
    data.pop("days-5-closed")
    data |= {"days-5-opens": "09:00", "days-5-closes": "12:00"}
    response = admin.post(
        "/admin/settings",
        data={**data, "csrf_token": csrf_token(admin, "/admin/settings")},
        follow_redirects=True,
    )
    assert "設定を保存しました" in response.text
    assert 'value="熊本市長 大西 一史"' in response.text and 'value="12:00"' in response.text
    [event] = _events(app, "settings.change")
    details = json.loads(event.details)
    assert set(details["changed"]) == {"receipt_addressee", "opening_hours"}
    assert details["before"]["receipt_addressee"] == "熊本市長"


def test_re_mailing_and_stock_check_periods_are_settings(app: Flask, make_user) -> None:
    admin = _admin(app, make_user)
    page = admin.get("/admin/settings").text
    assert "再送付の完了までの日数" in page and 'value="30"' in page and 'value="6"' in page
    token = csrf_token(admin, "/admin/settings")
    refused = admin.post(
        "/admin/settings",
        data={**_settings_form(remail_close_days="0"), "csrf_token": token},
    )
    assert refused.status_code == 200 and "1〜365日で指定してください" in refused.text
    assert _events(app, "settings.change") == []
    saved = admin.post(
        "/admin/settings",
        data={
            **_settings_form(remail_close_days="45", stock_check_interval_months="12"),
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert 'value="45"' in saved.text and 'value="12"' in saved.text
    [event] = _events(app, "settings.change")
    assert set(json.loads(event.details)["changed"]) == {
        "remail_close_days",
        "stock_check_interval_months",
    }


def test_bad_settings_say_what_and_where_and_change_nothing(app: Flask, make_user) -> None:
    admin = _admin(app, make_user)
    data = _settings_form(municipality="", **{"days-2-opens": "17:00", "days-2-closes": "09:00"})
    data["days-3-opens"] = ""
    response = admin.post(
        "/admin/settings", data={**data, "csrf_token": csrf_token(admin, "/admin/settings")}
    )
    assert response.status_code == 200
    assert "自治体名を入力してください" in response.text
    assert "終了は開始より後の時刻にしてください" in response.text
    assert "開始と終了の時刻を入力するか、「休み」にしてください" in response.text
    assert _events(app, "settings.change") == []


# --- locations -------------------------------------------------------------------------------


def _add_location(admin: FlaskClient, code: str, name: str):  # type: ignore[no-untyped-def]
    return admin.post(
        "/admin/locations",
        data={"code": code, "name": name, "csrf_token": csrf_token(admin, "/admin/locations")},
        follow_redirects=True,
    )


def _location_id(app: Flask, code: str) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        found = session.scalar(select(Location.id).where(Location.code == code))
        assert found is not None
        return found


def test_a_retired_location_leaves_the_intake_select_but_stays_on_old_records(
    app: Flask, make_user
) -> None:
    admin = _admin(app, make_user)
    assert "保管場所「東部倉庫」を追加しました" in _add_location(admin, "TOUBU", "東部倉庫").text
    location_id = _location_id(app, "TOUBU")
    response = admin.post(
        f"/admin/locations/{location_id}",
        data={
            "name": "東部書庫",
            "expected_name": "東部倉庫",
            "csrf_token": csrf_token(admin, f"/admin/locations/{location_id}"),
        },
        follow_redirects=True,
    )
    assert "保管場所の名前を「東部書庫」に変更しました" in response.text
    clerk = app.test_client()
    login(clerk, make_user(Role.CLERK, "clerk1"))
    assert "東部書庫" in clerk.get("/envelopes/new").text
    [item_id] = factories.envelope(app, 1, location="TOUBU")

    retire = {"csrf_token": csrf_token(admin, "/admin/locations")}
    refused = admin.post(
        f"/admin/locations/{location_id}/retire", data=retire, follow_redirects=True
    )
    assert "保管中の通知物があるため廃止できません" in refused.text
    assert _events(app, "location.retire") == []

    with app.extensions["tracker.db"].session_scope() as session:
        # test setup: the card has left custody (how does not matter to the location)
        session.execute(
            update(Item).where(Item.id == item_id).values(status=ItemStatus.DESTROYED.value)
        )
        envelope_id = session.scalar(select(Envelope.id).join(Item).where(Item.id == item_id))
    done = admin.post(f"/admin/locations/{location_id}/retire", data=retire, follow_redirects=True)
    assert "保管場所「東部書庫」を廃止しました" in done.text
    assert "東部書庫" not in clerk.get("/envelopes/new").text
    assert "東部書庫" in clerk.get(f"/envelopes/{envelope_id}").text
    assert len(_events(app, "location.retire")) == 1

    back = admin.post(
        f"/admin/locations/{location_id}/reactivate", data=retire, follow_redirects=True
    )
    assert "保管場所「東部書庫」を再び使用できるようにしました" in back.text
    assert "東部書庫" in clerk.get("/envelopes/new").text
    change = json.loads(_events(app, "location.change")[-1].details)
    assert change["before"] == {"active": False} and change["after"] == {"active": True}


def test_a_bad_or_duplicate_location_is_refused_with_the_reason(app: Flask, make_user) -> None:
    admin = _admin(app, make_user)
    assert "コード「CHUO」は既に使われています" in _add_location(admin, "chuo", "新倉庫").text
    assert "2〜20文字の半角英大文字" in _add_location(admin, "東部", "東部倉庫").text
    default_id = _location_id(app, "CHUO")
    response = admin.post(
        f"/admin/locations/{default_id}/retire",
        data={"csrf_token": csrf_token(admin, "/admin/locations")},
        follow_redirects=True,
    )
    assert "既定の保管場所のため廃止できません" in response.text
    assert _events(app, "location.create") == [] and _events(app, "location.retire") == []


def test_a_double_click_on_disable_does_not_enable_again(app: Flask, make_user) -> None:
    make_user(Role.CLERK, "kimura")
    admin = _admin(app, make_user)
    user_id = _user_id(app, "kimura")
    token = csrf_token(admin, "/admin/users")
    for _ in range(2):
        response = admin.post(
            f"/admin/users/{user_id}/active",
            data={"active": "0", "csrf_token": token},
            follow_redirects=True,
        )
        assert "ユーザー「kimura」を無効にしました。" in response.text
    assert len(_events(app, "user.deactivate")) == 1 and _events(app, "user.activate") == []
    assert login(app.test_client(), Account("kimura", PASSWORD, Role.CLERK)).status_code == 200
