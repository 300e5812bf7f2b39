"""交付取消 from the handover page (SPEC §2): officers void with a reason, clerks may only ask
(the same day), a colleague who was faster gets the 409 page, and the reprinted receipt says
取消, addressed to the settings' addressee and signed with people's names."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, time

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from tests import factories
from tests.helpers import csrf_token, login
from tracker.clock import now_utc
from tracker.domain.codes import ReturnReason, Role
from tracker.domain.identity import Evidence, RecipientKind
from tracker.models import AuditEvent, Handover, Item
from tracker.services import handover, settings

MY_NUMBER = "123456789018"


def handed_over(app: Flask, *, clerk: str = "clerk1") -> tuple[int, list[int]]:
    """An envelope of two, handed over now by ``clerk``: (handover id, item ids)."""
    items = factories.envelope(
        app,
        1,
        reason=ReturnReason.TENKYO_FUMEI,
        items=[factories.item("山田 太郎"), factories.item("山田 花子", "ヤマダ ハナコ")],
    )
    with app.extensions["tracker.db"].session_scope() as session:
        done = handover.hand_over(
            session,
            actor=clerk,
            item_ids=items,
            evidence=Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",)),
            now=now_utc(),
            today=date(2026, 11, 27),
        )
        return done.id, items


def as_user(app: Flask, role: Role, username: str, display_name: str) -> FlaskClient:
    client = app.test_client()
    account = factories.user(app, role, username, display_name=display_name)
    assert login(client, account).status_code == 302
    return client


def post(client: FlaskClient, path: str, reason: str) -> object:
    page = path.rsplit("/", 1)[0]
    return client.post(path, data={"reason": reason, "csrf_token": csrf_token(client, page)})


def statuses(app: Flask, items: list[int]) -> list[str]:
    with app.extensions["tracker.db"].session_scope() as session:
        return list(
            session.scalars(select(Item.status).where(Item.id.in_(items)).order_by(Item.id))
        )


def actions(app: Flask) -> list[str]:
    with app.extensions["tracker.db"].session_scope() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_officer_voids_and_the_reprinted_receipt_says_so(app: Flask) -> None:
    factories.user(app, Role.CLERK, "clerk1", display_name="窓口 花子")
    done, items = handed_over(app)
    officer = as_user(app, Role.RECORDS_OFFICER, "officer1", "記録 一郎")
    path = f"/handovers/{done}"
    first = officer.get(f"{path}/receipt.pdf")
    assert "取消" not in pdf_text(first.data)
    page = officer.get(path).get_data(as_text=True)
    assert "交付を取り消す" in page and 'data-testid="void-form"' in page

    response = post(officer, f"{path}/void", "別の世帯の方に誤って交付したため")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert statuses(app, items) == ["in_custody", "in_custody"]
    page = officer.get(path).get_data(as_text=True)
    assert "取消済" in page and "この交付は取り消されました" in page
    assert "記録 一郎" in page and "officer1" not in page
    assert "別の世帯の方に誤って交付したため" in page
    assert "交付を取り消す" not in page

    text = pdf_text(officer.get(f"{path}/receipt.pdf").data)
    assert "取消" in text and "再発行" in text
    assert "取消の理由 別の世帯の方に誤って交付したため" in text
    assert "（宛先）熊本市長" in text
    assert "窓口 花子" in text and "clerk1" not in text
    assert "handover.void" in actions(app)

    item_page = officer.get(f"/items/{items[0]}").get_data(as_text=True)
    assert "保管中" in item_page and "取り消された交付" in item_page
    assert "本人確認と交付へ" in item_page  # it can be handed over again


def test_the_receipt_is_addressed_as_the_settings_say(app: Flask) -> None:
    done, _items = handed_over(app)
    with app.extensions["tracker.db"].session_scope() as session:
        current = settings.load(session)
        settings.save(
            session,
            settings.OfficeSettings(
                municipality="江戸川区",
                office=current.office,
                receipt_addressee="江戸川区長",
                opening_hours=current.opening_hours,
            ),
            actor="admin1",
            now=now_utc(),
        )
    clerk = as_user(app, Role.CLERK, "clerk1", "窓口 花子")
    text = pdf_text(clerk.get(f"/handovers/{done}/receipt.pdf").data)
    assert "（宛先）江戸川区長" in text and "熊本市長" not in text


def test_a_clerk_cannot_void_but_may_ask_the_same_day(app: Flask) -> None:
    done, items = handed_over(app)
    clerk = as_user(app, Role.CLERK, "clerk1", "窓口 花子")
    path = f"/handovers/{done}"
    page = clerk.get(path).get_data(as_text=True)
    assert "交付を取り消す" not in page and "取消を依頼する" in page
    before = actions(app)
    forbidden = post(clerk, f"{path}/void", "誤り")
    assert forbidden.status_code == 403  # type: ignore[attr-defined]
    assert statuses(app, items) == ["handed_over", "handed_over"]
    assert [a for a in actions(app)[len(before) :] if a.startswith("handover.void")] == []

    asked = post(clerk, f"{path}/void-request", "書類を見誤りました")
    assert asked.status_code == 302  # type: ignore[attr-defined]
    page = clerk.get(path).get_data(as_text=True)
    assert "取消の依頼があります" in page and "書類を見誤りました" in page
    assert "取消を依頼する" not in page  # asked once
    assert statuses(app, items) == ["handed_over", "handed_over"]

    officer = as_user(app, Role.RECORDS_OFFICER, "officer1", "記録 一郎")
    page = officer.get(path).get_data(as_text=True)
    assert "取消の依頼があります" in page and "窓口 花子" in page
    assert "書類を見誤りました</textarea>" in page  # the request's reason, to start from
    review = officer.get("/handovers/review").get_data(as_text=True)  # the last 7 days
    assert "取消依頼中" in review


def test_another_clerk_may_not_ask(app: Flask) -> None:
    done, _items = handed_over(app)
    other = as_user(app, Role.CLERK, "clerk2", "窓口 次郎")
    path = f"/handovers/{done}"
    assert "取消を依頼する" not in other.get(path).get_data(as_text=True)
    refused = post(other, f"{path}/void-request", "誤り")
    assert refused.status_code == 200  # type: ignore[attr-defined]
    assert "その交付をした担当者だけ" in refused.get_data(as_text=True)  # type: ignore[attr-defined]
    with app.extensions["tracker.db"].session_scope() as session:
        record = session.get(Handover, done)
        assert record is not None and record.void_requested_at is None


def test_bad_reasons_are_refused_on_the_page_and_change_nothing(app: Flask) -> None:
    done, items = handed_over(app)
    officer = as_user(app, Role.RECORDS_OFFICER, "officer1", "記録 一郎")
    path = f"/handovers/{done}"
    before = actions(app)
    for reason, message in (("", "取消の理由を入力してください"), (MY_NUMBER, "個人番号")):
        response = post(officer, f"{path}/void", reason)
        assert response.status_code == 200  # type: ignore[attr-defined]
        assert message in response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert statuses(app, items) == ["handed_over", "handed_over"]
    assert [a for a in actions(app)[len(before) :] if a != "handover.view"] == []


def test_the_second_officer_gets_the_409_page_naming_the_first(app: Flask) -> None:
    done, items = handed_over(app)
    first = as_user(app, Role.RECORDS_OFFICER, "officer1", "記録 一郎")
    second = as_user(app, Role.RECORDS_OFFICER, "officer2", "記録 二郎")
    path = f"/handovers/{done}"
    token = csrf_token(second, path)  # the second officer has the page open too
    assert post(first, f"{path}/void", "本人違い").status_code == 302  # type: ignore[attr-defined]
    late = second.post(f"{path}/void", data={"reason": "本人違い", "csrf_token": token})
    assert late.status_code == 409
    body = late.get_data(as_text=True)
    assert "他の操作と重なりました" in body and "既に取り消されています" in body
    assert "記録 一郎" in body
    assert statuses(app, items) == ["in_custody", "in_custody"]
    assert actions(app).count("handover.void") == 1


def test_the_review_flags_voids_and_its_csv_names_people(app: Flask) -> None:
    factories.user(app, Role.CLERK, "clerk1", display_name="窓口 花子")
    done, _items = handed_over(app)
    officer = as_user(app, Role.RECORDS_OFFICER, "officer1", "記録 一郎")
    assert post(officer, f"/handovers/{done}/void", "本人違い").status_code == 302  # type: ignore[attr-defined]
    page = officer.get("/handovers/review").get_data(as_text=True)
    table = page[page.index('data-testid="handover-review"') :]
    row = table[table.index("H000000001") :].split("</tr>")[0]
    assert "取消済" in row and "記録 一郎" in row and "窓口 花子" in row
    assert "旅券" in row and "passport" not in row and "第2版" in row
    flagged = officer.get("/handovers/review?flagged=1").get_data(as_text=True)
    assert "H000000001" in flagged
    csv = officer.get("/handovers/export.csv").get_data().decode("utf-8-sig")
    header, line = csv.splitlines()[:2]
    assert header.endswith("clerk_name,voided_at_jst,voided_by,voided_by_name,void_reason")
    assert "+09:00" in line and "voided" in line
    assert line.endswith(",窓口 花子," + line.split(",")[-4] + ",officer1,記録 一郎,本人違い")


def test_after_hours_follows_the_opening_hours_in_the_settings(app: Flask) -> None:
    items = factories.envelope(app, 2, reason=ReturnReason.TENKYO_FUMEI)
    noon = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # Friday 12:00 in Japan
    with app.extensions["tracker.db"].session_scope() as session:
        handover.hand_over(
            session,
            actor="clerk1",
            item_ids=items,
            evidence=Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",)),
            now=noon,
            today=date(2026, 11, 27),
        )
    auditor = as_user(app, Role.AUDITOR, "auditor1", "監査 三郎")
    path = "/handovers/review?since=2026-11-27&until=2026-11-27"
    assert "時間外" not in auditor.get(path).get_data(as_text=True)  # weekdays 8:30–17:15
    with app.extensions["tracker.db"].session_scope() as session:
        current = settings.load(session)
        afternoons = {day: (time(13, 0), time(17, 0)) for day in range(5)}
        settings.save(
            session,
            replace(current, opening_hours=afternoons),
            actor="admin1",
            now=noon,
        )
    assert "時間外" in auditor.get(path).get_data(as_text=True)
