"""CSRF refusal on every state-changing route, generated from ``app.url_map`` (issue #7).

Each POST route is called by a user whose role may use it (the deny-by-default policy table),
with a body that would succeed if it carried a token, but without the token: the answer is
400 and not one row of the database changes.
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.factories import tracking_no
from tests.helpers import PASSWORD, csrf_token, login
from tests.security.support import csv_text, import_rows, row, snapshot, user_id
from tests.web.test_access_policy import POLICY
from tracker.clock import now_utc
from tracker.domain.codes import Role
from tracker.services import disposal, holds

C, R, A, M = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR, Role.ADMIN

#: Which role performs the forged request when several may (the most powerful one first).
PREFERENCE = (R, M, C, A)


@pytest.fixture
def stocked(app: Flask, tmp_path: Path) -> Flask:
    """Item 1 and 2 in envelopes 1 and 2, hold 1 on item 2, batch 1 (as of 2020-04-01)."""
    import_rows(
        app,
        tmp_path,
        [row(1, "髙橋 一郎", "タカハシ イチロウ"), row(2, "𠮷田 花子", "ヨシダ ハナコ")],
    )
    from sqlalchemy import select

    from tracker.models import Item

    with app.extensions["tracker.db"].session_scope() as session:
        items = {i.id: i for i in session.scalars(select(Item))}
        assert set(items) == {1, 2}
        holds.place(session, actor="cli:test", item=items[2], reason="来所予約", now=now_utc())
        disposal.create_batch(session, actor="cli:test", as_of=date(2020, 4, 1), now=now_utc())
    return app


def _bodies() -> dict[str, dict[str, object]]:
    """What each form would send: complete enough that, with a token, it would change data."""
    return {
        "auth.login": {"username": "records-officer1", "password": PASSWORD},
        "auth.logout": {},
        "auth.set_language": {"lang": "en"},
        "admin.new_user": {
            "username": "intruder",
            "display_name": "侵入者",
            "role": "admin",
            "password": "a-long-password-1",
            "password_again": "a-long-password-1",
        },
        "admin.toggle_active": {"active": "0"},
        "admin.unlock": {},
        "admin.change_role": {"role": "admin"},
        "admin.reset_password": {},
        "admin.settings": {
            "municipality": "偽市",
            "office": "偽の事務所",
            "receipt_addressee": "偽市長",
            "notice_contact": "偽の問い合わせ先",
            "remail_close_days": "30",
            "stock_check_interval_months": "6",
            **{f"days-{day}-closed": "y" for day in range(7)},
        },
        "admin.directory_groups": {"admin": "cn=intruders,dc=example,dc=org"},
        "admin.locations": {"code": "FAKE", "name": "偽の保管場所"},
        "admin.edit_location": {"name": "偽の名前", "expected_name": "中央区役所"},
        "admin.retire_location": {},
        "admin.reactivate_location": {},
        "auth.change_password": {
            "current_password": PASSWORD,
            "password": "a forged new password",
            "password_again": "a forged new password",
        },
        "custody.new_envelope": {
            "tracking_no": tracking_no(9),
            "return_date": "H30.4.2",
            "return_reason": "TENKYO_FUMEI",
            "addressee": "山田 太郎",
            "address": "熊本市北区1",
            "location": "1",
            "slot": "A-1",
            "items-0-name": "山田 太郎",
            "items-0-name_kana": "ヤマダ タロウ",
            "items-0-birth_date": "S50.1.1",
            "items-0-item_kind": "notification_card",
            "save": "1",
        },
        "custody.edit_envelope": {
            "tracking_no": tracking_no(1),
            "return_date": "H30.4.3",
            "return_reason": "OTHER",
            "addressee": "書き換え",
            "address": "書き換え",
        },
        "custody.edit_item": {
            "name": "書き換え 太郎",
            "name_kana": "カキカエ タロウ",
            "birth_date": "S51.1.1",
            "item_kind": "notification_card",
        },
        "custody.set_notice_sent": {"notice_sent_on": "R2.3.1"},
        "custody.move_envelope": {"location": "2", "slot": "Z-9"},
        "imports.upload": {
            "file": (
                io.BytesIO(csv_text([row(7, "山田 次郎", "ヤマダ ジロウ")]).encode()),
                "x.csv",
            ),
            "encoding": "auto",
            "commit": "1",
        },
        "register.upload": {
            "file": (io.BytesIO("管理番号,異動区分\nE000000001-1,死亡\n".encode()), "r.csv"),
            "encoding": "auto",
            "commit": "1",
        },
        "register.record": {"outcome": "deceased", "event_on": "R5.1.10", "checked_on": ""},
        "counter.hand_over": {
            "item": "1",
            "recipient_kind": "self",
            "documents": "drivers_license",
            "authority_proof": "",
        },
        "counter.void": {"reason": "偽の交付取消"},
        "counter.request_void": {"reason": "偽の取消依頼"},
        "policy.save": {
            "group_a_required": "1",
            "group_b_required": "1",
            "proxy_letter_valid_months": "3",
            "note": "B群1点で可に緩める",
        },
        "disposal.save_rule": {
            "kind": "fixed",
            "label": "令和元年度返戻分",
            "returned_from": "2019-04-01",
            "returned_to": "2020-03-31",
            "retain_until": "2021-03-31",
        },
        "disposal.place_hold": {"reason": "偽の保留"},
        "disposal.release_hold": {"reason": "偽の解除"},
        "disposal.extend": {"retain_until": "2030-03-31", "reason": "偽の延長"},
        "disposal.create_batch": {"as_of": "2020-04-01"},
        "disposal.save_record_retention": {
            "items": "1",
            "handovers": "1",
            "reservations": "1",
            "contacts": "1",
        },
        "disposal.start_purge": {"as_of": "2026-11-27"},
        "disposal.approve": {"password": PASSWORD},
        "disposal.execute": {
            "destroyed_on": "2020-04-02",
            "method": "shred",
            "place": "本庁",
            "executor": "甲",
            "witness": "乙",
        },
        "disposal.confirm_execution": {
            "destroyed_on": "2020-04-02",
            "method": "shred",
            "place": "本庁",
            "executor": "甲",
            "witness": "乙",
        },
        "disposal.cancel": {"reason": "偽の取消"},
        "disposal.exclude": {"control_no": "E000000001-1", "reason": "偽の除外"},
        "remail.request_remail": {
            "requested_by_whom": "本人",
            "reason": "偽の請求",
            "address_kind": "residence",
            "address": "熊本市北区9",
        },
        "remail.mail": {"tracking_no": tracking_no(8), "mailed_on": "R8.11.1"},
        "remail.cancel": {"reason": "偽の取消"},
        "remail.receive": {
            "return_date": "R8.11.2",
            "return_reason": "OTHER",
            "location": "1",
            "slot": "A-1",
        },
        "remail.close_due": {"expected": "0"},
        "notices.preview": {"mode": "within", "days": "30", "as_of": "", "sent_on": ""},
        "notices.send": {"mode": "within", "days": "30", "method": "ordinary", "expected": "0"},
        "notices.letters_job": {},
        "notices.template_preview": {"title": "偽の表題", "body": "{{ name }}"},
        "notices.template_save": {"title": "偽の表題", "body": "{{ name }}"},
        "stock.start": {"location": "1", "slot_from": "", "slot_to": ""},
        "stock.scan": {"code": "E000000001"},
        "stock.record_move": {"slot": "A-1"},
        "stock.close": {},
        "stock.sign_off": {},
        "stock.cancel": {"reason": "偽の取消"},
        "stock.found": {"note": "偽の発見", "location": "0", "slot": ""},
        "stock.found_lost": {"note": "偽の発見", "location": "0", "slot": ""},
        "stock.confirm_lost": {"circumstances": "偽の紛失"},
        "counter.item": {"purpose": "偽の目的"},
        "counter.items": {"q": "たかはし"},  # a search changes no rows, but it posts (issue 16)
        "custody.search": {"q": "E000000001"},
        "audit.item_history": {"purpose": "偽の目的"},
        "protection.place": {
            "reason": "偽の理由",
            "review_on": "2027-11-27",
            "whole_envelope": "y",
        },
        "protection.release": {"reason": "偽の解除"},
        "protection.review": {"review_on": "2027-11-27"},
        "contacts.record_item": {"kind": "phone", "day": "2026-11-27", "at": "9:00"},
        "contacts.record_envelope": {"kind": "visit", "day": "2026-11-27", "at": "9:00"},
        "contacts.notice_return": {"batch": "1", "returned_on": "2026-11-27"},
        "contacts.bulk_returns": {
            "batch_no": "N000000001",
            "returned_on": "2026-11-27",
            "numbers": "E000000001-1",
        },
        "pickup.open_day": {"day": "2030-01-05", "location": "1", "pattern": "seed", "save": "1"},
        "pickup.change_capacity": {"s1-capacity": "0"},
        "pickup.add_slot": {"start": "17:00", "end": "17:30", "capacity": "5"},
        "pickup.remove_slot": {},
        "pickup.close": {},
        "pickup.copy_day": {"target": "2030-01-12"},
        "pickup.copy_week": {"source": "2030-01-05", "target": "2030-01-12", "location": "1"},
        "pickup.upload": {
            "file": (
                io.BytesIO(b"date,start,end,slot_minutes,capacity\n2030-01-05,9:00,10:00,30,5\n"),
                "s.csv",
            ),
            "location": "1",
            "encoding": "auto",
            "commit": "1",
        },
        "reservations.new": {"slot": "1", "name": "偽 予約", "phone": "090-1234-5678"},
        "reservations.cancel": {"reason": "偽の取消"},
        "reservations.no_show": {},
        "reservations.show": {"purpose": "偽の目的"},
        "audit.event": {"field": "changes.name.old_digest", "candidate": "偽 照合"},
        "access_requests.new": {
            "name": "髙橋 一郎",
            "birth_date": "1975-01-01",
            "reference_no": "偽-0001",
            "received_on": "2026-11-27",
            "items": "1",
            "action": "create",
        },
        "access_requests.approve": {"password": PASSWORD},
        "access_requests.export": {"format": "pdf"},
        "access_requests.cancel": {},
    }


def _path(rule: Rule, victim_id: int) -> str:
    path = re.sub(r"<int:user_id>", str(victim_id), rule.rule)
    return re.sub(r"<int:[^>]+>", "1", path)


def _actor_role(endpoint: str) -> Role:
    allowed = POLICY[endpoint] or {C}  # public forms: forged against a logged-in clerk
    return next(role for role in PREFERENCE if role in allowed)


def test_every_post_route_refuses_a_request_without_token(stocked: Flask, make_user) -> None:
    app = stocked
    victim = make_user(C, "victim-clerk")
    victim_id = user_id(app, victim.username)
    bodies = _bodies()
    post_rules = [r for r in app.url_map.iter_rules() if "POST" in (r.methods or set())]
    endpoints = {r.endpoint for r in post_rules}
    # the walk must cover every form this suite knows (and notice new ones)
    assert endpoints == bodies.keys(), "add a body for each new POST route"

    clients: dict[Role, FlaskClient] = {}
    for role in set(PREFERENCE):
        clients[role] = app.test_client()
        account = make_user(role) if role is not C else victim
        assert login(clients[role], account).status_code == 302

    failures = []
    for rule in sorted(post_rules, key=lambda r: r.endpoint):
        client = clients[_actor_role(rule.endpoint)]
        path = _path(rule, victim_id)
        body = dict(bodies[rule.endpoint])
        if rule.endpoint in (
            "imports.upload",
            "register.upload",
            "pickup.upload",
        ):  # a file is read once
            body["file"] = (io.BytesIO(body["file"][0].getvalue()), "x.csv")  # type: ignore[index]
        before = snapshot(app)
        response = client.post(path, data=body)
        after = snapshot(app)
        changed = [name for name in before if before[name] != after[name]]
        if response.status_code != 400 or changed:
            failures.append((rule.endpoint, path, response.status_code, changed))
        elif "フォームを送信できませんでした" not in response.get_data(as_text=True):
            failures.append((rule.endpoint, path, "no CSRF message", changed))
    assert failures == []
    # and every client is still logged in: a forged logout did not end anyone's session
    for role, client in clients.items():
        assert client.get("/").status_code == 200, role


def test_a_token_from_another_session_is_refused(stocked: Flask, make_user) -> None:
    """An attacker's own valid token, planted in a form the victim submits, does not work."""
    attacker = stocked.test_client()
    login(attacker, make_user(R, "attacker"))
    attacker_token = csrf_token(attacker, "/")
    victim = stocked.test_client()
    login(victim, make_user(R, "victim"))
    before = snapshot(stocked)
    response = victim.post(
        "/items/1/holds", data={"reason": "偽の保留", "csrf_token": attacker_token}
    )
    assert response.status_code == 400
    assert snapshot(stocked) == before


def test_the_token_seen_before_login_is_dead_after_login(stocked: Flask, make_user) -> None:
    """Logging in starts a fresh session, CSRF secret included (fixation of the token)."""
    client = stocked.test_client()
    token_before = csrf_token(client, "/login")
    login(client, make_user(R))
    before = snapshot(stocked)
    response = client.post("/items/1/holds", data={"reason": "保留", "csrf_token": token_before})
    assert response.status_code == 400
    assert snapshot(stocked) == before
    # the token of the logged-in page does work: the refusal above was the stale token
    fresh = csrf_token(client, "/")
    response = client.post("/items/1/holds", data={"reason": "保留", "csrf_token": fresh})
    assert response.status_code == 302 and snapshot(stocked) != before


def test_a_forged_language_switch_or_logout_changes_nothing(app: Flask, logged_in) -> None:
    client = logged_in(C)
    assert client.post("/language", data={"lang": "en"}).status_code == 400
    assert client.post("/logout").status_code == 400
    page = client.get("/")
    assert page.status_code == 200 and "ログアウト" in page.get_data(as_text=True)
