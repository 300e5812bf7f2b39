"""The last day at the counter on the web (issue 13 part 6), on SQLite and PostgreSQL: the
approval refuses a batch whose as-of date is still ahead (Asia/Tokyo, read through
tracker.clock, so this also runs at the pinned test clocks); a records officer takes a card
out of a batch from the batch page, and the clerk can then hand it over. A 再送付中 card's
handover page says why it cannot be handed over."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from tests import factories
from tests.factories_life import control_nos, put_in_status
from tests.helpers import csrf_token, login
from tests.web.test_counter import handover_data
from tracker.clock import today_jst
from tracker.domain.codes import ItemStatus, Role
from tracker.domain.wareki import format_wareki
from tracker.models import DisposalBatch, DisposalBatchItem, Item


def _db(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["tracker.db"]


def _approve(app: Flask, make_user, as_of_offset: int) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    as_of = today_jst() + timedelta(days=as_of_offset)
    batch_id = factories.batch(app, 1, as_of=as_of)
    client = app.test_client()
    login(client, make_user(Role.RECORDS_OFFICER, "officer2"))
    path = f"/disposal/batches/{batch_id}"
    page = client.post(
        f"{path}/approve",
        data={"csrf_token": csrf_token(client, path), "password": factories.PASSWORD},
        follow_redirects=True,
    ).get_data(as_text=True)
    return batch_id, page


def test_approval_before_the_as_of_date_is_refused(app: Flask, make_user) -> None:
    batch_id, page = _approve(app, make_user, 1)
    tomorrow, today = today_jst() + timedelta(days=1), today_jst()
    assert f"基準日は {format_wareki(tomorrow)} です" in page
    assert f"本日 {format_wareki(today)}" in page
    with _db(app).session_scope() as session:
        assert session.get(DisposalBatch, batch_id).status == "created"  # type: ignore[union-attr]


def test_approval_on_the_as_of_day_is_allowed(app: Flask, make_user) -> None:
    batch_id, page = _approve(app, make_user, 0)
    assert "承認しました" in page
    with _db(app).session_scope() as session:
        assert session.get(DisposalBatch, batch_id).status == "approved"  # type: ignore[union-attr]


def test_take_a_card_out_on_the_batch_page_then_hand_it_over(app: Flask, make_user) -> None:
    batch_id = factories.batch(app, 2, approved_by="officer2")
    kept, other = control_nos(_db(app), batch_id)
    officer = app.test_client()
    login(officer, make_user(Role.RECORDS_OFFICER, "officer3"))
    path = f"/disposal/batches/{batch_id}"
    page = officer.get(path).get_data(as_text=True)
    assert f'data-testid="exclude-{kept}"' in page
    prefilled = officer.get(f"{path}?exclude={kept}").get_data(as_text=True)
    assert f'id="control_no" name="control_no" value="{kept}"' in prefilled

    # No reason: refused on the page, nothing written.
    refused = officer.post(
        f"{path}/exclude",
        data={"csrf_token": csrf_token(officer, path), "control_no": kept, "reason": ""},
    )
    assert refused.status_code == 400
    assert "除外の理由" in refused.get_data(as_text=True)
    with _db(app).session_scope() as session:
        assert set(session.scalars(select(DisposalBatchItem.outcome))) == {"pending"}

    done = officer.post(
        f"{path}/exclude",
        data={
            "csrf_token": csrf_token(officer, path),
            "control_no": kept,
            "reason": "本人から本日来庁の連絡あり",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"{kept} を廃棄処理" in done and "から除外しました" in done
    assert "本人から本日来庁の連絡あり" in done and 'data-testid="excluded"' in done
    assert f'data-testid="exclude-{kept}"' not in done  # no second button
    assert f'data-testid="exclude-{other}"' in done

    # A colleague who tries the same card again gets the 409 page naming who was first.
    again = officer.post(
        f"{path}/exclude",
        data={"csrf_token": csrf_token(officer, path), "control_no": kept, "reason": "重複"},
    )
    assert again.status_code == 409 and "既に廃棄処理" in again.get_data(as_text=True)

    clerk = app.test_client()
    login(clerk, make_user(Role.CLERK))
    with _db(app).session_scope() as session:
        ids = dict(session.execute(select(Item.control_no, Item.id)).all())
    handed = clerk.post("/handover", data=handover_data(clerk, [ids[kept]], documents=["passport"]))
    assert handed.status_code == 302, handed.get_data(as_text=True)
    frozen = clerk.post(
        "/handover", data=handover_data(clerk, [ids[other]], documents=["passport"])
    )
    assert frozen.status_code == 409
    assert "承認済みの廃棄処理" in frozen.get_data(as_text=True)


def test_an_auditor_sees_no_exclusion_form(app: Flask, make_user) -> None:
    batch_id = factories.batch(app, 1, approved_by="officer2")
    auditor = app.test_client()
    login(auditor, make_user(Role.AUDITOR))
    page = auditor.get(f"/disposal/batches/{batch_id}").get_data(as_text=True)
    assert "廃棄処理から除外する" not in page


def test_a_remailed_card_s_handover_page_says_why(app: Flask, make_user) -> None:
    (item_id,) = factories.envelope(app, 1)
    with _db(app).session_scope() as session:
        put_in_status(session, item_id, ItemStatus.REMAILED, factories.NOW)
    clerk = app.test_client()
    login(clerk, make_user(Role.CLERK))
    page = clerk.get(f"/handover?item={item_id}").get_data(as_text=True)
    assert "再送付中" in page and "status-remailed" in page
    assert "交付できるのは保管中の通知物だけです" in page
    posted = clerk.post("/handover", data=handover_data(clerk, [item_id], documents=["passport"]))
    assert "交付できるのは保管中の通知物だけです" in posted.get_data(as_text=True)
    with _db(app).session_scope() as session:
        assert session.get(Item, item_id).status == "remailed"  # type: ignore[union-attr]


def test_the_new_statuses_are_searchable_and_labelled(app: Flask, make_user) -> None:
    """Issue 13: a status-only search for 紛失 / 再送付中 / 再送付済 lists those cards with
    their badge; the choice list offers every status."""
    ids = [factories.envelope(app, n)[0] for n in (1, 2, 3)]
    with _db(app).session_scope() as session:
        for item_id, status in zip(
            ids, (ItemStatus.LOST, ItemStatus.REMAILED, ItemStatus.REDELIVERED), strict=True
        ):
            put_in_status(session, item_id, status, factories.NOW)
    clerk = app.test_client()
    login(clerk, make_user(Role.CLERK))
    for status, label in (("lost", "紛失"), ("remailed", "再送付中"), ("redelivered", "再送付済")):
        page = clerk.get(f"/items?status={status}").get_data(as_text=True)
        assert 'data-testid="result-count">1件<' in page, status
        assert f'<span class="status status-{status}">{label}</span>' in page
        assert f'<option value="{status}"' in page


def test_the_dashboard_counts_lost_and_remailed_cards(app: Flask, make_user) -> None:
    ids = [factories.envelope(app, n)[0] for n in (1, 2, 3, 4)]
    with _db(app).session_scope() as session:
        put_in_status(session, ids[0], ItemStatus.LOST, factories.NOW)
        put_in_status(session, ids[1], ItemStatus.REMAILED, factories.NOW)
        put_in_status(session, ids[2], ItemStatus.REMAILED, factories.NOW)
    officer = app.test_client()
    login(officer, make_user(Role.RECORDS_OFFICER))
    page = officer.get("/").get_data(as_text=True)
    assert 'data-testid="in-custody-count">1<' in page
    assert 'data-testid="lost-count">1<' in page
    assert 'data-testid="remailed-count">2 · 0<' in page
