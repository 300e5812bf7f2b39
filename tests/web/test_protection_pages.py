"""支援措置 pages (issue 14): place/release/change on the item page, the purpose asked before
an opening, masking on every screen and export with an address, the search badge, the list."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories_protect, factories_register, factories_remail
from tests.helpers import csrf_token, search
from tracker.domain.codes import RegisterOutcome, Role
from tracker.models import AuditEvent, Envelope, Item
from tracker.models.custody import Protection
from tracker.services import audit as audit

MASKED = "支援措置のため表示しません"


def events(app: Flask, action: str) -> list[dict[str, object]]:
    with app.extensions["tracker.db"].session_scope() as session:
        rows = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
        return [json.loads(d) for d in rows]


def envelope_of(app: Flask, item_id: int) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        envelope_id = session.scalar(select(Item.envelope_id).where(Item.id == item_id))
        assert envelope_id is not None
        return envelope_id


def open_item(client: FlaskClient, item_id: int, purpose: str) -> str:
    token = csrf_token(client, "/")
    response = client.post(f"/items/{item_id}", data={"csrf_token": token, "purpose": purpose})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_records_officer_places_changes_and_releases_the_flag(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_protect.household(app)
    page = client.get(f"/items/{ids[0]}").get_data(as_text=True)
    assert "支援措置の対象ではありません" in page and 'data-testid="protection-place-form"' in page
    token = csrf_token(client, "/")
    done = client.post(
        f"/items/{ids[0]}/protection",
        data={
            "csrf_token": token,
            "reason": "DV等支援措置の申出",
            "review_on": "2027-11-27",
            "whole_envelope": "y",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "支援措置を設定しました（2件）" in done
    assert 'data-testid="purpose-form"' in done  # the item page now asks why it is opened
    again = client.post(
        f"/items/{ids[0]}/protection",
        data={"csrf_token": token, "reason": "二度目", "review_on": "2027-11-27"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "すでに支援措置の対象です" in again
    with app.extensions["tracker.db"].session_scope() as session:
        flag = session.scalar(select(Protection).where(Protection.item_id == ids[0]))
        assert flag is not None
        flag_id = flag.id
    page = open_item(client, ids[0], "見直しの確認")
    assert "DV等支援措置の申出" not in page  # the reason is never shown
    client.post(
        f"/protections/{flag_id}/review",
        data={"csrf_token": token, "review_on": "2028-01-31"},
    )
    assert "令和10年1月31日" in open_item(client, ids[0], "見直し日の確認")
    client.post(f"/protections/{flag_id}/release", data={"csrf_token": token, "reason": "終了"})
    second = client.post(
        f"/protections/{flag_id}/release", data={"csrf_token": token, "reason": "終了"}
    )
    assert second.status_code == 409 and "すでに解除されています" in second.get_data(as_text=True)
    assert len(events(app, "protection.release")) == 1


def test_a_past_review_date_is_refused_with_a_clear_message(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_protect.household(app)
    page = client.post(
        f"/items/{ids[0]}/protection",
        data={"csrf_token": csrf_token(client, "/"), "reason": "理由", "review_on": "2020-01-01"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "今日以降の日付にしてください" in page
    assert events(app, "protection.place") == []


def test_the_purpose_is_required_and_goes_into_the_view_event(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    ids = factories_protect.household(app)
    factories_protect.protect(app, ids[1])
    asked = client.get(f"/items/{ids[1]}").get_data(as_text=True)
    assert "開く目的を入力してください" in asked and "佐藤 花子" not in asked
    token = csrf_token(client, "/")
    empty = client.post(f"/items/{ids[1]}", data={"csrf_token": token, "purpose": "  "})
    page = empty.get_data(as_text=True)
    assert empty.status_code == 422 and "閲覧の目的を入力してください" in page
    assert "佐藤 花子" not in page and "1980" not in page
    number = client.post(
        f"/items/{ids[1]}", data={"csrf_token": token, "purpose": "123456789018 の確認"}
    )
    assert number.status_code == 422 and "佐藤 花子" not in number.get_data(as_text=True)
    assert events(app, "item.view") == []
    shown = open_item(client, ids[1], "窓口での本人交付")
    assert "佐藤 花子" in shown and 'data-testid="protection-badge"' in shown
    [view] = events(app, "item.view")
    assert view["purpose_digest"] == audit.digest("窓口での本人交付")  # issue 16
    # released from the flag, his household member's item opens at once, as before
    factories_protect.household(app, 2)
    plain = client.get(f"/items/{ids[1] + 2}").get_data(as_text=True)
    assert "佐藤 花子" in plain and "開く目的" not in plain


def test_the_address_is_masked_on_screens_and_exports(
    app: Flask, logged_in, tmp_path: Path
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_protect.household(app)
    other = factories_register.household(app)
    factories_register.result(app, ids[0], RegisterOutcome.RESIDENT)
    factories_register.result(app, other[0], RegisterOutcome.RESIDENT)
    factories_protect.protect(app, ids[1], whole_envelope=False)
    envelope = envelope_of(app, ids[0])

    page = client.get(f"/envelopes/{envelope}").get_data(as_text=True)
    # the address twice, and 花子's name (her row links to the item page, which asks why)
    assert factories_protect.ADDRESS not in page and page.count(MASKED) == 3
    assert "佐藤 一郎" in page and "佐藤 花子" not in page and "サトウ ハナコ" not in page
    assert page.count('data-testid="protection-badge"') == 1  # 花子's row only
    results = search(client, "サトウ").get_data(as_text=True)
    assert MASKED in results and "熊本市中央区" not in results
    assert results.count('data-testid="protection-badge"') == 1  # 花子 only, not the reason
    assert "DV支援措置申出" not in results
    untouched = client.get(f"/envelopes/{envelope_of(app, other[0])}").get_data(as_text=True)
    assert "熊本市中央区手取本町1-1" in untouched

    listing = client.get("/register/investigation").get_data(as_text=True)
    assert factories_protect.ADDRESS not in listing and MASKED in listing
    exported = client.get("/register/investigation.csv").data.decode("utf-8-sig")
    rows = {r[0]: r[4] for r in csv.reader(io.StringIO(exported))}
    assert factories_protect.ADDRESS not in exported and MASKED in rows.values()
    assert "熊本市中央区手取本町1-1" in rows.values()
    assert MASKED in client.get("/register/investigation.csv?encoding=cp932").data.decode("cp932")
    pdf = tmp_path / "list.pdf"
    pdf.write_bytes(client.get("/register/investigation.pdf").data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "支援措置のため" in text and "手取本町9" not in text

    labels = tmp_path / "labels.pdf"
    labels.write_bytes(client.get(f"/labels.pdf?id={envelope}").data)
    text = subprocess.run(
        ["pdftotext", str(labels), "-"], capture_output=True, text=True, check=True
    ).stdout
    with app.extensions["tracker.db"].session_scope() as session:
        envelope_no = session.get(Envelope, envelope).control_no  # type: ignore[union-attr]
    assert envelope_no in text
    assert "手取本町" not in text and "佐藤" not in text  # labels carry no address at all


def test_a_proxy_or_household_member_is_refused_at_the_counter(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    ids = factories_protect.household(app)
    factories_protect.protect(app, ids[1])
    asked = client.get(f"/handover?item={ids[1]}").get_data(as_text=True)
    assert 'data-testid="purpose-form"' in asked and "佐藤 花子" not in asked
    token = csrf_token(client, "/")
    given = client.post(
        f"/handover?item={ids[1]}", data={"csrf_token": token, "purpose": "本人来庁のため交付"}
    )
    assert given.status_code == 302
    form = client.get(given.headers["Location"]).get_data(as_text=True)
    assert "写真付きの本人確認書類でのみ交付できます" in form and "佐藤 花子" in form
    [shown] = events(app, "handover.form")
    assert shown["purpose_digest"] == audit.digest("本人来庁のため交付")
    base = {
        "csrf_token": token,
        "item": [str(ids[1])],
        "letter_of_attorney_date": "",
        "authority_proof": "",
    }
    page = client.post(
        "/handover",
        data={
            **base,
            "recipient_kind": "household",
            "recipient_name": "佐藤 一郎",
            "documents": ["passport"],
        },
    ).get_data(as_text=True)
    assert "本人以外（同一世帯員）には交付できません" in page
    [refused] = events(app, "handover.refused")
    assert "同一世帯員" in json.dumps(refused, ensure_ascii=False)
    with app.extensions["tracker.db"].session_scope() as session:
        assert session.scalar(select(Item.status).where(Item.id == ids[1])) == "in_custody"
    done = client.post(
        "/handover",
        data={**base, "recipient_kind": "self", "recipient_name": "", "documents": ["passport"]},
    )
    assert done.status_code == 302


def test_the_review_list_for_officers_and_auditors(app: Flask, logged_in, make_user) -> None:
    ids = factories_protect.household(app)
    factories_protect.protect(app, ids[0])
    client = logged_in(Role.AUDITOR)
    page = client.get("/protections").get_data(as_text=True)
    assert page.count('data-testid="protection-row"') == 2
    # the reason (and the names) never show; its Japanese text cannot occur in a random token
    assert "佐藤" not in page and "支援措置申出" not in page
    assert "/release" not in page
    officer = make_user(Role.RECORDS_OFFICER, "kiroku2")
    assert officer.username == "kiroku2"


def _edit_data(app: Flask, envelope_id: int, token: str, **changes: str) -> dict[str, str]:
    """The envelope edit form as a browser sends it for a protected envelope (the two masked
    fields empty, as the page shows them)."""
    with app.extensions["tracker.db"].session_scope() as session:
        record = session.get(Envelope, envelope_id)
        assert record is not None
        data = {
            "csrf_token": token,
            "tracking_no": record.tracking_no,
            "return_date": record.returned_on.isoformat(),
            "return_reason": record.return_reason,
            "addressee": "",
            "address": "",
            "household_code": record.household_code or "",
        }
    return {**data, **changes}


def _stored(app: Flask, envelope_id: int) -> tuple[str, str, str | None]:
    with app.extensions["tracker.db"].session_scope() as session:
        record = session.get(Envelope, envelope_id)
        assert record is not None
        return record.addressee, record.address, record.household_code


def test_the_envelope_edit_page_masks_and_keeps_the_address(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_protect.household(app)
    factories_protect.protect(app, ids[1], whole_envelope=False)
    envelope = envelope_of(app, ids[0])
    url = f"/envelopes/{envelope}/edit"

    page = client.get(url).get_data(as_text=True)
    assert factories_protect.ADDRESS not in page and "手取本町" not in page
    assert factories_protect.ADDRESSEE not in page
    assert MASKED in page and f'value="{MASKED}"' not in page  # shown, not as a field value
    assert "新しい住所（変更するときだけ入力）" in page

    token = csrf_token(client, url)
    response = client.post(url, data=_edit_data(app, envelope, token, household_code="0078888"))
    assert response.status_code == 302
    assert _stored(app, envelope) == (
        factories_protect.ADDRESSEE,
        factories_protect.ADDRESS,
        "0078888",
    )
    # the mask text sent back (e.g. copied into the field) never replaces the address
    response = client.post(
        url,
        data=_edit_data(app, envelope, token, addressee=MASKED, address=MASKED),
    )
    assert response.status_code == 302
    assert _stored(app, envelope)[:2] == (factories_protect.ADDRESSEE, factories_protect.ADDRESS)
    # a refused edit shows the page again without the stored address
    refused = client.post(url, data=_edit_data(app, envelope, token, return_date="あした"))
    assert refused.status_code == 200
    assert factories_protect.ADDRESS not in refused.get_data(as_text=True)
    # a records officer types a new address: it is stored
    response = client.post(
        url, data=_edit_data(app, envelope, token, address="熊本市北区植木町5-5")
    )
    assert response.status_code == 302
    assert _stored(app, envelope)[:2] == (factories_protect.ADDRESSEE, "熊本市北区植木町5-5")
    edits = events(app, "envelope.edit")
    assert edits[0]["changes"] == {
        "household_code": {
            "old_digest": audit.digest("0077777"),
            "new_digest": audit.digest("0078888"),
        }
    }
    # never the address itself, not even its digest (issue 16: changed, nothing more)
    assert edits[-1]["changes"] == {"address": None}
    assert "手取本町" not in json.dumps(edits, ensure_ascii=False)
    assert "植木町" not in json.dumps(edits, ensure_ascii=False)


def test_an_unprotected_envelope_edit_page_still_shows_the_address(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_protect.household(app)
    page = client.get(f"/envelopes/{envelope_of(app, ids[0])}/edit").get_data(as_text=True)
    assert f'value="{factories_protect.ADDRESS}"' in page and MASKED not in page


def test_the_remail_mail_page_masks_the_address(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    ids = factories_protect.household(app)
    protected_id = factories_remail.requested(app, ids[1])
    open_id = factories_remail.requested(app, ids[0])
    factories_protect.protect(app, ids[1], whole_envelope=False)
    address = factories_remail.FIELDS.address
    assert address

    page = client.get(f"/remailings/{protected_id}/mail").get_data(as_text=True)
    assert address not in page and "サンプル荘" not in page
    assert MASKED in page and "宛先は支援措置の担当者に確認してください" in page
    untouched = client.get(f"/remailings/{open_id}/mail").get_data(as_text=True)
    assert address in untouched and MASKED not in untouched
