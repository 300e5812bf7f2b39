"""再送付 on the web (issue 13): the item page's section, the return scanned at intake, the list
with its closing button, the 差出票 (PDF and CSV), and what the envelope pages say."""

from __future__ import annotations

import re
import subprocess

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories
from tests.factories import TODAY
from tests.factories_remail import mailed, mailed_days_ago, remail_no, requested
from tests.helpers import csrf_token, login, scan
from tracker.clock import today_jst
from tracker.domain.codes import Role
from tracker.models import AuditEvent, Envelope, Item, Remailing


def clerk(app: Flask, client: FlaskClient) -> None:
    login(client, factories.user(app, Role.CLERK))


def item_of(app: Flask, item_id: int) -> Item:
    with factories.database_of(app).session_scope() as session:
        item = session.get(Item, item_id)
        assert item is not None
        session.expunge(item)
        return item


def test_request_mail_then_scan_the_return_at_intake(app: Flask, client: FlaskClient) -> None:
    item_id = factories.envelope(app, 1)[0]
    clerk(app, client)
    page = f"/items/{item_id}"
    assert "再送付を依頼する" in client.get(page).get_data(as_text=True)

    token = csrf_token(client, page)
    answer = client.post(
        f"/items/{item_id}/remail",
        data={
            "csrf_token": token,
            "requested_by_whom": "本人",
            "reason": "書面による請求",
            "address_kind": "residence",
            "address": "熊本市東区2-2",
        },
        follow_redirects=True,
    )
    text = answer.get_data(as_text=True)
    assert "再送付の依頼を記録しました" in text
    with factories.database_of(app).session_scope() as session:
        remailing_id = session.scalar(select(Remailing.id).where(Remailing.item_id == item_id))
    assert remailing_id is not None

    # an envelope's number is refused, with the reason, and nothing changes
    refused = client.post(
        f"/remailings/{remailing_id}/mail",
        data={
            "csrf_token": token,
            "tracking_no": factories.tracking_no(1, 3),
            "mailed_on": TODAY.isoformat(),
        },
    )
    assert refused.status_code == 422
    assert "返戻郵便（管理番号 E" in refused.get_data(as_text=True)
    # a wrong check digit asks for confirmation first
    wrong = remail_no(1)[:-1] + str((int(remail_no(1)[-1]) + 1) % 10)
    asked = client.post(
        f"/remailings/{remailing_id}/mail",
        data={"csrf_token": token, "tracking_no": wrong, "mailed_on": TODAY.isoformat()},
    )
    assert "チェックディジット" in asked.get_data(as_text=True)
    assert item_of(app, item_id).status == "in_custody"

    done = client.post(
        f"/remailings/{remailing_id}/mail",
        data={
            "csrf_token": token,
            "tracking_no": remail_no(1),
            # requested through the app, so on the app's today (the pinned test clock)
            "mailed_on": today_jst().isoformat(),
        },
        follow_redirects=True,
    )
    assert "再送付中" in done.get_data(as_text=True)
    assert item_of(app, item_id).status == "remailed"

    # the post office brings it back: the clerk scans the new number at intake
    intake = client.post(
        "/envelopes/new",
        data={"csrf_token": csrf_token(client, "/envelopes/new"), "tracking_no": remail_no(1)},
    )
    assert intake.status_code == 302
    assert intake.headers["Location"].endswith(f"/remailings/{remailing_id}/return")
    lookup = client.get("/remailings/lookup", query_string={"tracking_no": remail_no(1)})
    assert lookup.get_json() == {
        "remailed": True,
        "url": f"/remailings/{remailing_id}/return",
    }
    # the header scan box leads to the same form
    scanned = scan(client, remail_no(1))
    assert scanned.headers["Location"].endswith(f"/remailings/{remailing_id}/return")
    form = client.get(f"/remailings/{remailing_id}/return").get_data(as_text=True)
    assert "再送付分の返戻" in form
    received = client.post(
        f"/remailings/{remailing_id}/return",
        data={
            "csrf_token": token,
            "return_date": today_jst().isoformat(),
            "return_reason": "ATESHO_NASHI",
            "location": "1",
            "slot": "R-01",
        },
        follow_redirects=True,
    )
    text = received.get_data(as_text=True)
    assert "再送付分の返戻を受け付けました" in text
    item = item_of(app, item_id)
    assert item.status == "in_custody"
    with factories.database_of(app).session_scope() as session:
        envelopes = session.scalars(select(Envelope).order_by(Envelope.id)).all()
        first, second = envelopes[0].control_no, envelopes[1].control_no
        first_id = envelopes[0].id
    assert item.control_no == f"{first}-1"
    # the item page shows both returns and the re-mailing between them
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    history = page[page.index('data-testid="remail-timeline"') :]
    assert history.index(first) < history.index(remail_no(1)[:4]) < history.index(second)
    assert history.count('data-testid="timeline-return"') == 2
    # the first envelope says where the card went
    original = client.get(f"/envelopes/{first_id}").get_data(as_text=True)
    assert f"再び返戻され、封筒 {second} で保管しています" in original
    with factories.database_of(app).session_scope() as session:
        second_id = session.scalar(select(Envelope.id).where(Envelope.control_no == second))
    newer = client.get(f"/envelopes/{second_id}").get_data(as_text=True)
    assert f"最初の返戻は封筒 {first}" in newer
    # scanning the item's control number still finds it
    assert scan(client, item.control_no).headers["Location"].endswith(f"/items/{item_id}")


def test_a_remailed_item_cannot_be_handed_over_at_the_counter(
    app: Flask, client: FlaskClient
) -> None:
    item_id = factories.envelope(app, 1)[0]
    mailed(app, item_id)
    clerk(app, client)
    page = client.get(f"/items/{item_id}").get_data(as_text=True)
    assert "本人確認と交付へ" not in page
    assert "再送付中です。返戻されたら" in page


def test_remail_refused_for_a_card_not_in_custody(app: Flask, client: FlaskClient) -> None:
    item_id = factories.envelope(app, 1)[0]
    mailed(app, item_id)
    clerk(app, client)
    answer = client.post(
        f"/items/{item_id}/remail",
        data={
            "csrf_token": csrf_token(client, f"/items/{item_id}"),
            "requested_by_whom": "本人",
            "reason": "書面",
            "address_kind": "residence",
            "address": "熊本市",
        },
    )
    assert answer.status_code == 422
    assert "再送付できるのは保管中の通知物だけです" in answer.get_data(as_text=True)


def test_cancel_a_request(app: Flask, client: FlaskClient) -> None:
    item_id = factories.envelope(app, 1)[0]
    remailing_id = requested(app, item_id)
    clerk(app, client)
    answer = client.post(
        f"/remailings/{remailing_id}/cancel",
        data={"csrf_token": csrf_token(client, f"/items/{item_id}"), "reason": "本人が来庁"},
        follow_redirects=True,
    )
    assert "再送付の依頼を取り消しました" in answer.get_data(as_text=True)
    empty = client.post(
        f"/remailings/{remailing_id}/cancel",
        data={"csrf_token": csrf_token(client, f"/items/{item_id}"), "reason": "again"},
    )
    assert empty.status_code == 409


def test_list_shows_the_due_count_and_the_officer_closes_them(
    app: Flask, client: FlaskClient
) -> None:
    old = factories.envelope(app, 1)[0]
    recent = factories.envelope(app, 2)[0]
    mailed_days_ago(app, old, 1, 400)
    mailed(app, recent, 2)
    clerk(app, client)
    page = client.get("/remailings").get_data(as_text=True)
    assert "返戻がない再送付: 1件" in page
    assert "期限を過ぎた再送付を完了にする" not in page  # clerks see the count only
    client.post("/logout", data={"csrf_token": csrf_token(client, "/remailings")})
    login(client, factories.user(app, Role.RECORDS_OFFICER))
    page = client.get("/remailings").get_data(as_text=True)
    assert "期限を過ぎた再送付を完了にする" in page
    closed = client.post(
        "/remailings/close",
        data={"csrf_token": csrf_token(client, "/remailings"), "expected": "1"},
        follow_redirects=True,
    )
    assert "1件を完了（再送付済）にしました" in closed.get_data(as_text=True)
    assert item_of(app, old).status == "redelivered"
    assert item_of(app, recent).status == "remailed"
    filtered = client.get("/remailings", query_string={"status": "delivered"})
    assert filtered.get_data(as_text=True).count('data-testid="remailing-row"') == 1
    assert client.get("/remailings", query_string={"status": "nope"}).status_code == 400


def test_mailing_list_pdf_and_csv(app: Flask, client: FlaskClient, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = factories.envelope(app, 1)[0]
    second = factories.envelope(
        app, 2, items=[factories.item("=HYPERLINK 花子", "ハナコ")], addressee="=HYPERLINK 花子"
    )[0]
    mailed(app, first, 1)
    mailed(app, second, 2)
    mailed_days_ago(app, factories.envelope(app, 3)[0], 3, 1)  # another day: not listed
    clerk(app, client)
    day = TODAY.isoformat()
    pdf = client.get("/remailings/list.pdf", query_string={"mailed_on": day})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = tmp_path / "list.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "再送付 差出票" in text
    no1 = remail_no(1)
    assert f"{no1[:4]}-{no1[4:8]}-{no1[8:]}" in text
    assert "山田 太郎" in text and "簡易書留" in text and "居所" in text
    assert "合計 2通" in text and re.search(r"1 ?/ ?1", text)
    assert remail_no(3)[:4] + "-" + remail_no(3)[4:8] + "-" + remail_no(3)[8:] not in text

    csv = client.get("/remailings/list.csv", query_string={"mailed_on": day})
    body = csv.data.decode("utf-8-sig")
    assert body.splitlines()[0] == "no,tracking_no,addressee,service,address_kind,control_no"
    assert "'=HYPERLINK 花子" in body  # SPEC §6.5: formula injection neutralised
    assert len(body.splitlines()) == 3
    assert client.get("/remailings/list.csv").status_code == 400
    with factories.database_of(app).session_scope() as session:
        exports = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "remail.list_export")
        ).all()
    assert len(exports) == 2 and all('"items":2' in d for d in exports)


def test_unmailed_return_form_refuses(app: Flask, client: FlaskClient) -> None:
    item_id = factories.envelope(app, 1)[0]
    remailing_id = requested(app, item_id)
    clerk(app, client)
    page = client.get(f"/remailings/{remailing_id}/return").get_data(as_text=True)
    assert "返戻として受け付けられるのは再送付中のものだけです" in page


def test_the_audit_history_shows_both_returns(app: Flask, client: FlaskClient) -> None:
    item_id = factories.envelope(app, 1)[0]
    remailing_id = mailed(app, item_id)
    with factories.database_of(app).session_scope() as session:
        from tracker.domain.codes import ReturnReason
        from tracker.services import remailing

        record = session.get(Remailing, remailing_id)
        assert record is not None
        remailing.record_return(
            session,
            actor="clerk1",
            remailing=record,
            returned_on=TODAY,
            return_reason=ReturnReason.OTHER,
            location_id=1,
            slot=None,
            now=factories.NOW,
        )
    login(client, factories.user(app, Role.RECORDS_OFFICER))
    page = client.get(f"/items/{item_id}/history")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for shown in ("返戻郵便の受付", "再送付の依頼", "再送付分の返戻", "E000000001", "E000000002"):
        assert shown in text, (shown, " ".join(re.sub(r"<[^>]+>", " ", text).split())[-3000:])


def test_intake_refuses_the_number_of_a_closed_remailing(app: Flask, client: FlaskClient) -> None:
    item_id = factories.envelope(app, 1)[0]
    mailed_days_ago(app, item_id, 1, 400)
    with factories.database_of(app).session_scope() as session:
        from tracker.services import remailing

        remailing.close_due(session, actor="t", as_of=TODAY, days=30, now=factories.NOW)
    clerk(app, client)
    assert client.get(
        "/remailings/lookup", query_string={"tracking_no": remail_no(1)}
    ).get_json() == {"remailed": False}
    answer = client.post(
        "/envelopes/new",
        data={
            "csrf_token": csrf_token(client, "/envelopes/new"),
            "tracking_no": remail_no(1),
            "return_date": "H30.4.2",
            "return_reason": "OTHER",
            "addressee": "山田 太郎",
            "address": "熊本市",
            "location": "1",
            "items-0-name": "山田 太郎",
            "items-0-name_kana": "ヤマダ タロウ",
            "items-0-birth_date": "S50.1.1",
            "items-0-item_kind": "notification_card",
            "save": "1",
        },
    )
    assert "再送付済として完了しています" in answer.get_data(as_text=True)
    with factories.database_of(app).session_scope() as session:
        assert session.scalar(select(Envelope).where(Envelope.tracking_no == remail_no(1))) is None


def intake_post(client: FlaskClient, tracking_no: str):  # type: ignore[no-untyped-def]
    """The intake form sent with ``tracking_no`` for a new envelope."""
    return client.post(
        "/envelopes/new",
        data={
            "csrf_token": csrf_token(client, "/envelopes/new"),
            "tracking_no": tracking_no,
            "return_date": "H30.4.2",
            "return_reason": "OTHER",
            "addressee": "山田 太郎",
            "address": "熊本市",
            "location": "1",
            "items-0-name": "山田 太郎",
            "items-0-name_kana": "ヤマダ タロウ",
            "items-0-birth_date": "S50.1.1",
            "items-0-item_kind": "notification_card",
            "save": "1",
        },
    )


def test_intake_of_a_returned_remailings_number_says_where_the_card_is(
    app: Flask, client: FlaskClient
) -> None:
    from tracker.domain.codes import ReturnReason
    from tracker.models import Location
    from tracker.services import remailing

    item_id = factories.envelope(app, 1)[0]
    remailing_id = mailed(app, item_id, 1)
    with factories.database_of(app).session_scope() as session:
        record = session.get(Remailing, remailing_id)
        location = session.scalar(select(Location.id).where(Location.is_default.is_(True)))
        assert record is not None and location is not None
        back = remailing.record_return(
            session,
            actor="clerk1",
            remailing=record,
            returned_on=TODAY,
            return_reason=ReturnReason.OTHER,
            location_id=location,
            slot=None,
            now=factories.NOW,
        )
        back_id, back_no = back.id, back.control_no
    clerk(app, client)
    text = intake_post(client, remail_no(1)).get_data(as_text=True)
    assert (
        "このお問い合わせ番号は再送付した通知物 E000000001-1 の番号で、"
        f"既に再返戻として受け付け、返戻郵便 {back_no} で保管しています"
    ) in text
    assert "再送付済として完了しています" not in text
    link = re.search(r'<a href="([^"]+)" data-testid="duplicate-link">([^<]+)</a>', text)
    assert link is not None and link.groups() == (f"/envelopes/{back_id}", back_no)
    with factories.database_of(app).session_scope() as session:
        held = session.scalars(select(Envelope).where(Envelope.tracking_no == remail_no(1))).all()
        assert [e.id for e in held] == [back_id]  # nothing new was logged


def test_a_cancelled_request_never_blocks_a_number_at_intake(
    app: Flask, client: FlaskClient
) -> None:
    """A request has no tracking number until it is mailed, so a cancelled one leaves every
    number free: the same number is logged as a new envelope."""
    from tracker.services import remailing

    item_id = factories.envelope(app, 1)[0]
    remailing_id = requested(app, item_id)
    with factories.database_of(app).session_scope() as session:
        record = session.get(Remailing, remailing_id)
        assert record is not None
        remailing.cancel(
            session, actor="clerk1", remailing=record, reason="本人来庁", now=factories.NOW
        )
    clerk(app, client)
    answer = intake_post(client, remail_no(1))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with factories.database_of(app).session_scope() as session:
        assert session.scalar(select(Envelope).where(Envelope.tracking_no == remail_no(1)))
