"""The counter desk of issue 12: scan to handover (part 1), intake and search (part 7), and the
handover form that shows only the chosen recipient kind's section (part 10)."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests import factories
from tests.helpers import csrf_token, scan, search
from tests.web.test_intake import intake_data
from tracker.clock import today_jst
from tracker.domain.codes import Role
from tracker.domain.wareki import format_wareki
from tracker.models import AuditEvent, Envelope, Item
from tracker.services import audit, lookup


def events(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["tracker.db"].session_scope() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def household(app: Flask) -> list[int]:
    """E000000001: 肥後 太郎 and 肥後 花子 at 熊本市中央区手取本町1-2-3."""
    return factories.envelope(
        app,
        1,
        addressee="肥後 太郎",
        address="熊本市中央区手取本町1-2-3",
        items=[
            factories.item("肥後 太郎", "ヒゴ タロウ"),
            factories.item("肥後 花子", "ヒゴ ハナコ"),
        ],
    )


def type_into(client: FlaskClient, box: str, typed: str) -> TestResponse:
    """Type into the scan box (``/search``) or the search page (``/items``); both post."""
    return scan(client, typed) if box == "/search" else search(client, typed, follow=False)


def scan_box(page: str) -> str:
    match = re.search(r'<input id="scan-q"[^>]*>', page)
    assert match, "no scan box"
    return match.group(0)


# --- part 1: scan to handover ----------------------------------------------------------------


def test_envelope_page_offers_the_household_preselected_and_each_item(
    app: Flask, logged_in
) -> None:
    ids = household(app)
    client = logged_in(Role.CLERK)
    page = client.get("/envelopes/1").get_data(as_text=True)
    for item_id in ids:
        assert f'<input type="checkbox" name="item" value="{item_id}" checked' in page
        assert f'href="/handover?item={item_id}"' in page  # 交付 for this one item
        assert f'href="/items/{item_id}">E000000001-' in page  # the control number links
    assert 'action="/handover"' in page and "選んだ通知物を交付" in page
    assert page.count("保管中</span>") == 2
    # The form sends the ticked items to the existing handover form.
    form = client.get("/handover", query_string={"item": ids})
    assert form.status_code == 200
    assert "E000000001-1" in form.get_data(as_text=True)
    assert "E000000001-2" in form.get_data(as_text=True)


def test_handed_over_items_are_neither_ticked_nor_offered(app: Flask, logged_in) -> None:
    ids = household(app)
    client = logged_in(Role.CLERK)
    response = client.post(
        "/handover",
        data={
            "csrf_token": csrf_token(client, "/"),
            "item": [str(ids[0])],
            "recipient_kind": "self",
            "recipient_name": "",
            "letter_of_attorney_date": "",
            "authority_proof": "",
            "documents": ["drivers_license"],
        },
    )
    assert response.status_code == 302
    page = client.get("/envelopes/1").get_data(as_text=True)
    assert (
        f'name="item" value="{ids[0]}"' not in page
        and f'href="/handover?item={ids[0]}"' not in page
    )
    assert f'name="item" value="{ids[1]}" checked' in page
    assert "交付済</span>" in page


def test_auditor_sees_statuses_and_links_but_no_handover(app: Flask, logged_in) -> None:
    ids = household(app)
    page = logged_in(Role.AUDITOR).get("/envelopes/1").get_data(as_text=True)
    assert f'href="/items/{ids[0]}"' in page
    assert 'type="checkbox"' not in page and 'href="/handover?' not in page


def test_no_item_ticked_says_what_to_do(app: Flask, logged_in) -> None:
    household(app)
    response = logged_in(Role.CLERK).get("/handover")
    assert response.status_code == 400
    assert "交付する通知物を1件以上選んでください" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "typed",
    ["E000000001-2", " e000000001-2 ", "Ｅ" + "０" * 8 + "１－２", "ｅ000000001ー2"],
)
@pytest.mark.parametrize("box", ["/search", "/items"])
def test_an_item_number_opens_the_item(app: Flask, logged_in, typed: str, box: str) -> None:
    ids = household(app)
    response = type_into(logged_in(Role.CLERK), box, typed)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/items/{ids[1]}"


@pytest.mark.parametrize("box", ["/search", "/items"])
def test_an_envelope_number_still_opens_the_envelope(app: Flask, logged_in, box: str) -> None:
    household(app)
    response = type_into(logged_in(Role.CLERK), box, "Ｅ" + "０" * 8 + "１")
    assert response.status_code == 303 and response.headers["Location"] == "/envelopes/1"


@pytest.mark.parametrize("box", ["/search", "/items"])
def test_an_item_number_that_names_nothing_is_not_found(app: Flask, logged_in, box: str) -> None:
    household(app)
    response = type_into(logged_in(Role.CLERK), box, "E000000001-9")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "見つかりません" in page and "autofocus" in scan_box(page)


def test_scan_box_has_focus_where_a_scan_comes_next(app: Flask, logged_in) -> None:
    ids = household(app)
    client = logged_in(Role.CLERK)
    for path in ("/", "/envelopes/1"):
        box = scan_box(client.get(path).get_data(as_text=True))
        assert "autofocus" in box, path
    # The shortcut is announced in the placeholder and to assistive technology.
    assert 'placeholder="管理番号・問合せ番号（/）"' in box
    assert 'aria-keyshortcuts="/ Alt+S"' in box
    # Elsewhere the page's own first field keeps the focus.
    assert "autofocus" not in scan_box(client.get("/locations").get_data(as_text=True))
    search = client.get("/items").get_data(as_text=True)
    assert "autofocus" not in scan_box(search) and re.search(r'id="q"[^>]*autofocus', search)
    # After a handover the clerk lands on its record, with the cursor back in the scan box.
    done = client.post(
        "/handover",
        data={
            "csrf_token": csrf_token(client, "/"),
            "item": [str(i) for i in ids],
            "recipient_kind": "self",
            "recipient_name": "",
            "letter_of_attorney_date": "",
            "authority_proof": "",
            "documents": ["drivers_license"],
        },
        follow_redirects=True,
    )
    page = done.get_data(as_text=True)
    assert "交付しました" in page and "受領書を印刷" in page
    assert "autofocus" in scan_box(page)
    assert "/static/scan.js" in page


def test_handover_form_marks_each_kinds_section(app: Flask, logged_in) -> None:
    """handover.js hides what does not belong to the chosen kind; without it every section
    is on the page, so the form works without JavaScript."""
    ids = household(app)
    page = logged_in(Role.CLERK).get(f"/handover?item={ids[0]}").get_data(as_text=True)
    assert '<fieldset class="card" data-recipient-kinds="proxy">' in page
    assert '<fieldset class="card" data-recipient-kinds="legal_rep">' in page
    assert 'data-recipient-kinds="household proxy legal_rep"' in page  # the visitor's name
    assert "委任状の作成日" in page and "法定代理人の資格を証する書類" in page
    assert "/static/handover.js" in page and " hidden" not in page


# --- part 7: intake ------------------------------------------------------------------------

WRONG = "1234-5678-9015"  # 12345678901 % 7 == 3, not 5
WRONG_TOO = "1234-5678-9026"


def envelope_count(app: Flask) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        return len(session.scalars(select(Envelope)).all())


def test_a_wrong_check_digit_is_saved_only_once_confirmed(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    first = client.post("/envelopes/new", data=intake_data(client, tracking_no=WRONG))
    page = first.get_data(as_text=True)
    assert first.status_code == 200
    assert "まだ登録していません" in page and "チェックディジット" in page
    assert 'name="confirm_tracking"' in page
    assert 'name="confirmed_tracking_no" type="hidden" value="123456789015"' in page
    assert envelope_count(app) == 0 and events(app, "envelope.intake") == []

    # Ticked, but the number was changed meanwhile: asked again for the new number.
    again = client.post(
        "/envelopes/new",
        data=intake_data(
            client,
            tracking_no=WRONG_TOO,
            confirm_tracking="y",
            confirmed_tracking_no="123456789015",
        ),
    )
    assert "まだ登録していません" in again.get_data(as_text=True)
    assert envelope_count(app) == 0

    done = client.post(
        "/envelopes/new",
        data=intake_data(
            client,
            tracking_no=WRONG_TOO,
            confirm_tracking="y",
            confirmed_tracking_no="123456789026",
        ),
    )
    assert done.status_code == 302
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalars(select(Envelope.tracking_no)).all() == ["123456789026"]


def test_the_confirmation_is_offered_beside_other_errors(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    page = client.post(
        "/envelopes/new", data=intake_data(client, tracking_no=WRONG, addressee="")
    ).get_data(as_text=True)
    assert "宛名を入力してください" in page and 'name="confirm_tracking"' in page
    assert envelope_count(app) == 0


def test_a_short_number_asks_too_and_a_good_one_does_not(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    page = client.post(
        "/envelopes/new", data=intake_data(client, tracking_no="1234-5678")
    ).get_data(as_text=True)
    assert "8桁です" in page and 'name="confirm_tracking"' in page
    assert client.post("/envelopes/new", data=intake_data(client)).status_code == 302


def test_an_edit_to_a_doubtful_number_asks_too(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    assert client.post("/envelopes/new", data=intake_data(client)).status_code == 302
    edit = {
        "csrf_token": csrf_token(client, "/envelopes/1/edit"),
        "tracking_no": WRONG,
        "return_date": "H30.4.2",
        "return_reason": "TENKYO_FUMEI",
        "addressee": "髙橋 一郎",
        "address": "熊本市中央区手取本町1-1",
        "household_code": "",
    }
    page = client.post("/envelopes/1/edit", data=edit).get_data(as_text=True)
    assert "まだ保存していません" in page and 'name="confirm_tracking"' in page
    confirmed = {**edit, "confirm_tracking": "y", "confirmed_tracking_no": "123456789015"}
    assert client.post("/envelopes/1/edit", data=confirmed).status_code == 302
    # Once stored, editing something else does not ask about the number again.
    again = {**edit, "address": "熊本市中央区手取本町1-2"}
    assert client.post("/envelopes/1/edit", data=again).status_code == 302
    [*_, last] = events(app, "envelope.edit")
    # issue 16: the event holds digests of the two addresses; the values are revisions
    assert json.loads(last.details)["changes"] == {
        "address": {
            "old_digest": audit.digest("熊本市中央区手取本町1-1"),
            "new_digest": audit.digest("熊本市中央区手取本町1-2"),
        }
    }


def test_furigana_typed_in_half_width_is_stored_in_katakana(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    client.post("/envelopes/new", data=intake_data(client, **{"items-0-name_kana": "ﾔﾏﾀﾞ ﾊﾅｺ"}))
    with app.extensions["tracker.db"].session_scope() as session:
        kana = session.scalars(select(Item.name_kana).order_by(Item.position)).all()
    assert kana == ["ヤマダ ハナコ", "ヨシダ ハナコ"]  # the second was typed in hiragana


def test_the_next_envelope_keeps_the_last_return_date(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    response = client.post("/envelopes/new", data=intake_data(client, return_date="平成30年4月3日"))
    assert response.status_code == 302 and "returned=2018-04-03" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="return_date"[^>]*value="平成30年4月3日"', page)
    # A hand-edited date that intake would refuse falls back to today.
    for bad in ("2099-01-01", "nonsense"):
        page = client.get(f"/envelopes/new?returned={bad}").get_data(as_text=True)
        assert f'value="{format_wareki(today_jst())}"' in page


# --- part 7: search ------------------------------------------------------------------------


def namesakes(app: Flask) -> None:
    factories.envelope(
        app,
        1,
        address="熊本市中央区手取本町1-2-3",
        items=[factories.item("山田 花子", "ヤマダ ハナコ")],
    )
    factories.envelope(
        app,
        2,
        address="熊本市東区健軍本町5-6 健軍ハイツ101",
        items=[factories.item("山田 花子", "ヤマダ ハナコ")],
    )
    factories.envelope(
        app, 3, address="熊本市北区植木町1", items=[factories.item("安部 一郎", "アベ イチロウ")]
    )
    factories.envelope(
        app, 4, address="熊本市西区春日1", items=[factories.item("阿蘇 健", "アソ ケン")]
    )


def test_namesakes_are_told_apart_by_a_masked_address(app: Flask, logged_in) -> None:
    namesakes(app)
    page = search(logged_in(Role.CLERK), "山田 花子").get_data(as_text=True)
    shown = re.findall(r'data-testid="masked-address">([^<]*)<', page)
    assert sorted(shown) == ["熊本市中央区手取本町", "熊本市東区健軍本町"]
    assert "1-2-3" not in page and "5-6" not in page and "ハイツ" not in page


def test_results_are_in_kana_order_and_say_so(app: Flask, logged_in) -> None:
    namesakes(app)
    # Kanji query (安 and 阿 sort the other way by code point): still kana order.
    page = logged_in(Role.CLERK).get("/items?status=in_custody").get_data(as_text=True)
    assert "フリガナの五十音順" in page
    names = re.findall(r'<a href="/items/\d+">([^<]*)</a>', page)
    assert names == ["阿蘇 健", "安部 一郎", "山田 花子", "山田 花子"]


def test_a_status_only_search_lists_that_status_page_by_page(
    app: Flask, logged_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    namesakes(app)
    monkeypatch.setattr(lookup, "RESULT_LIMIT", 3)
    client = logged_in(Role.CLERK)
    first = client.get("/items?status=in_custody&location=").get_data(as_text=True)
    assert re.search(r'data-testid="result-count">4件<', first)
    assert "3件ずつ表示しています" in first
    assert re.findall(r'<a href="/items/\d+">([^<]*)</a>', first) == [
        "阿蘇 健",
        "安部 一郎",
        "山田 花子",
    ]
    following = re.search(r'href="(/items\?after=[^"]+)" rel="next"', first)
    assert following and 'rel="prev"' not in first
    second = client.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r'<a href="/items/\d+">([^<]*)</a>', second) == ["山田 花子"]
    assert 'rel="next"' not in second
    back = re.search(r'href="(/items\?before=[^"]+)" rel="prev"', second)
    assert back
    again = client.get(back.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r'<a href="/items/\d+">([^<]*)</a>', again) == [
        "阿蘇 健",
        "安部 一郎",
        "山田 花子",
    ]
    [*_, last] = events(app, "item.search")
    assert json.loads(last.details) == {"query_kind": "status", "results": 3}


def test_a_search_with_more_matches_than_are_counted_says_at_least(
    app: Flask, logged_in, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting stops at lookup.COUNT_LIMIT (a common フリガナ matches tens of thousands of a
    million items): the page says 「N件以上」 and still lists the first page."""
    namesakes(app)
    client = logged_in(Role.CLERK)
    monkeypatch.setattr(lookup, "COUNT_LIMIT", 3)
    page = client.get("/items?status=in_custody").get_data(as_text=True)
    assert re.search(r'data-testid="result-count">3件以上<', page)
    assert len(re.findall(r'<a href="/items/\d+">', page)) == 4
    monkeypatch.setattr(lookup, "COUNT_LIMIT", 4)
    page = client.get("/items?status=in_custody").get_data(as_text=True)
    assert re.search(r'data-testid="result-count">4件<', page)


def test_a_status_with_nothing_in_it_says_so(app: Flask, logged_in) -> None:
    namesakes(app)
    page = logged_in(Role.CLERK).get("/items?status=destroyed").get_data(as_text=True)
    assert re.search(r'data-testid="result-count">0件<', page)
    assert "該当する通知物はありません" in page


def test_an_empty_search_says_why_nothing_is_listed(app: Flask, logged_in) -> None:
    namesakes(app)
    client = logged_in(Role.CLERK)
    response = search(client, "", status="")
    assert response.status_code == 422
    assert "状態または保管場所を選んでください" in response.get_data(as_text=True)
    page = client.get("/items?status=misplaced").get_data(as_text=True)
    assert "状態「misplaced」は選べません" in page
    assert 'data-testid="result-count"' not in page
    assert events(app, "item.search") == []
    # Opening the page is not a search: no message yet.
    assert "選んでください" not in client.get("/items").get_data(as_text=True)
