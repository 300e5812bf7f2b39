"""The view purpose on every page that opens a protected person's data (支援措置, issue 14):
the re-mailing form, the item edit form, the handover form and the item history ask first
(as the item page does); the envelope page masks protected members instead of asking."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from tests import factories_protect
from tests.factories import NOW
from tests.helpers import csrf_token
from tracker.domain.codes import Role
from tracker.models import AuditEvent, Item
from tracker.services import audit as audit

MASKED = "支援措置のため表示しません"
#: (page, its view event, what the page shows once opened)
PAGES = [
    ("/items/{id}/remail", "item.view", "佐藤 花子"),
    ("/items/{id}/edit", "item.view", "佐藤 花子"),
    ("/items/{id}/history", "item.history_view", "通知物の履歴"),
    ("/handover?item={id}", "handover.form", "佐藤 花子"),
]


def events(app: Flask, action: str) -> list[dict[str, object]]:
    with app.extensions["tracker.db"].session_scope() as session:
        rows = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return [json.loads(d) for d in rows]


@pytest.mark.parametrize(("template", "action", "shown"), PAGES)
def test_a_protected_item_asks_for_the_purpose_first(
    app: Flask, logged_in, template: str, action: str, shown: str
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_protect.household(app)
    factories_protect.protect(app, ids[1], whole_envelope=False)
    url = template.format(id=ids[1])

    asked = client.get(url).get_data(as_text=True)
    assert 'data-testid="purpose-form"' in asked
    assert shown not in asked and "佐藤 花子" not in asked and "サトウ ハナコ" not in asked
    assert f'action="{url.replace("&", "&amp;")}"' in asked  # posts back here, query kept
    assert events(app, action) == []

    token = csrf_token(client, "/")
    empty = client.post(url, data={"csrf_token": token, "purpose": "  "})
    assert empty.status_code == 422
    assert "閲覧の目的を入力してください" in empty.get_data(as_text=True)
    assert events(app, action) == []

    given = client.post(url, data={"csrf_token": token, "purpose": "住所照会への回答準備"})
    assert given.status_code == 302 and given.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert shown in page and 'data-testid="purpose-form"' not in page
    [event] = events(app, action)
    assert event["purpose_digest"] == audit.digest("住所照会への回答準備")  # issue 16


@pytest.mark.parametrize(("template", "action", "shown"), PAGES)
def test_an_item_without_the_flag_is_shown_as_before(
    app: Flask, logged_in, template: str, action: str, shown: str
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_protect.household(app)
    page = client.get(template.format(id=ids[1])).get_data(as_text=True)
    assert shown in page and 'data-testid="purpose-form"' not in page
    assert all("purpose" not in e for e in events(app, action))


def test_one_purpose_serves_the_visit_for_fifteen_minutes(
    app: Flask, logged_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.web import purpose

    clock = {"now": NOW}
    monkeypatch.setattr(purpose, "now_utc", lambda: clock["now"])
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_protect.household(app)
    factories_protect.protect(app, ids[1], whole_envelope=False)
    token = csrf_token(client, "/")
    opened = client.post(f"/items/{ids[1]}", data={"csrf_token": token, "purpose": "本人交付"})
    assert "佐藤 花子" in opened.get_data(as_text=True)

    clock["now"] = NOW + timedelta(minutes=14)
    edit = client.get(f"/items/{ids[1]}/edit").get_data(as_text=True)
    assert "佐藤 花子" in edit  # not asked again within the visit
    assert [e["purpose_digest"] for e in events(app, "item.view")] == [audit.digest("本人交付")] * 2

    clock["now"] = NOW + timedelta(minutes=16)
    again = client.get(f"/items/{ids[1]}/edit").get_data(as_text=True)
    assert 'data-testid="purpose-form"' in again and "佐藤 花子" not in again
    # a purpose for one item never opens another protected item
    factories_protect.protect(app, ids[0], whole_envelope=False)
    other = client.get(f"/items/{ids[0]}").get_data(as_text=True)
    assert 'data-testid="purpose-form"' in other and "佐藤 一郎" not in other


def test_the_envelope_page_masks_protected_members(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    ids = factories_protect.household(app)
    factories_protect.protect(app, ids[1], whole_envelope=False)
    with app.extensions["tracker.db"].session_scope() as session:
        envelope = session.scalar(select(Item.envelope_id).where(Item.id == ids[1]))
    page = client.get(f"/envelopes/{envelope}").get_data(as_text=True)
    assert 'data-testid="purpose-form"' not in page
    assert "佐藤 花子" not in page and "サトウ ハナコ" not in page
    assert "佐藤 一郎" in page and "サトウ イチロウ" in page  # the other member as before
    assert page.count('data-testid="protection-masked"') == 1 and MASKED in page
    assert f'href="/items/{ids[1]}"' in page  # the item page asks for the purpose
