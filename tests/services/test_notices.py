"""お知らせ (issue 15): selection, exclusions, the sending (contacts, notice_sent_on, one audit
event, exactly once) and the letter template's sandbox. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import threading
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests import factories_notices as fn
from tests.factories import NOW, TODAY
from tracker.db import Database
from tracker.domain.codes import AuditAction, NoticeMethod
from tracker.models import AuditEvent, Contact, Hold, Item, NoticeBatch
from tracker.services import notice_templates, notices, protection


def send(database: Database, selection: notices.Selection, **kw: object) -> notices.Sent:
    with database.session_scope() as session:
        sent = notices.send(
            session,
            actor="officer1",
            selection=selection,
            as_of=TODAY,
            sent_on=kw.pop("sent_on", TODAY),  # type: ignore[arg-type]
            method=kw.pop("method", NoticeMethod.ORDINARY),  # type: ignore[arg-type]
            now=NOW,
            today=TODAY,
        )
        session.expunge(sent.batch)
        return sent


def test_sending_sets_notice_sent_on_and_one_contact_per_item(database: Database) -> None:
    rule_a, _ = fn.rules(database)
    ids = fn.many(database, [fn.RETURNED_A[0], fn.RETURNED_A2[0]])
    sent = send(database, notices.Selection("rule", rule_id=rule_a))
    assert (
        sent.letters == 2 and sent.batch.batch_no.startswith("N") and len(sent.batch.batch_no) == 10
    )
    with database.session_scope() as session:
        for item_id in ids:
            item = session.get(Item, item_id)
            assert item is not None and item.notice_sent_on == TODAY
        rows = session.scalars(
            select(Contact).where(Contact.notice_batch_id == sent.batch.id)
        ).all()
        assert sorted(c.item_id for c in rows) == sorted(ids)
        assert {(c.kind, c.method) for c in rows} == {("notice_mail", "ordinary")}
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.NOTICE_SEND.value)
        ).all()
        assert len(events) == 1
        details = json.loads(events[0].details)
        assert "通知 太郎" not in str(details) and "千葉城町" not in str(details)
        assert details["count"] == 2 and details["batch_no"] == sent.batch.batch_no
        assert details["method"] == "ordinary" and details["sent_on"] == TODAY.isoformat()
        # the contact rows wrote no audit event of their own
        assert (
            session.scalar(
                select(func.count()).where(AuditEvent.action == AuditAction.CONTACT_RECORD.value)
            )
            == 0
        )


def test_protected_held_and_gap_items_are_left_out_with_a_reason(database: Database) -> None:
    fn.rules(database)
    ok, protected_id, held_id, gap_id = fn.many(
        database,
        [fn.RETURNED_A[0], fn.RETURNED_A[0], fn.RETURNED_A[0], date(2025, 5, 1)],
    )
    with database.session_scope() as session:
        protection.place(
            session,
            actor="officer1",
            item_id=protected_id,
            reason="支援措置の申出",
            review_on=TODAY + timedelta(days=300),
            now=NOW,
            today=TODAY,
        )
        session.add(Hold(item_id=held_id, reason="調査", placed_by="officer1", placed_at=NOW))
    with database.session_scope() as session:
        numbers = {i.id: i.control_no for i in session.scalars(select(Item))}
        selection = notices.by_hand(
            "\n".join(
                [
                    numbers[ok],
                    numbers[protected_id],
                    numbers[held_id],
                    numbers[gap_id],
                    "E999999999-1",
                ]
            )
        )
        result = notices.preview(
            session, actor="officer1", selection=selection, as_of=TODAY, sent_on=TODAY
        )
    assert result.letters == 1
    assert result.excluded == {
        notices.PROTECTED: 1,
        notices.HELD: 1,
        notices.NO_LAST_DAY: 1,
        notices.NOT_FOUND: 1,
    }
    assert [letter[0] for letter in result.first] == [numbers[ok]]
    sent = send(database, selection)
    with database.session_scope() as session:
        protected_item = session.get(Item, protected_id)
        assert protected_item is not None and protected_item.notice_sent_on is None
        assert sent.letters == 1
        preview_event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == AuditAction.NOTICE_PREVIEW.value)
        )
        assert preview_event is not None and "通知 太郎" not in preview_event.details


def test_last_day_is_computed_after_the_sending(database: Database) -> None:
    """A rule counting from notice_sent_on: the item waits (gap) before and has a deadline
    after, and the letter shows it."""
    _, rule_b = fn.rules(database)
    (item_id,) = fn.many(database, [fn.RETURNED_B[0]])
    with database.session_scope() as session:
        letters = list(
            notices.walk(
                session,
                notices.Selection("rule", rule_id=rule_b),
                as_of=TODAY,
                sent_on=TODAY,
                tally=notices.Tally(),
            )
        )
    assert [(x.item_id, x.last_day) for x in letters] == [(item_id, fn.RETURNED_B[1])]


def test_within_n_days_takes_items_disposable_by_then(database: Database) -> None:
    fn.rules(database)
    fn.many(database, [fn.RETURNED_A[0], fn.RETURNED_A2[0]])
    days_to_march = (fn.RETURNED_A[1] - TODAY).days + 1  # eligible the day after the last day
    with database.session_scope() as session:
        tally = notices.Tally()
        got = list(
            notices.walk(
                session, notices.within(days_to_march), as_of=TODAY, sent_on=TODAY, tally=tally
            )
        )
        assert [x.last_day for x in got] == [fn.RETURNED_A[1]]
        assert (
            list(
                notices.walk(
                    session,
                    notices.within(days_to_march - 1),
                    as_of=TODAY,
                    sent_on=TODAY,
                    tally=notices.Tally(),
                )
            )
            == []
        )


def test_a_second_submit_sends_nothing(database: Database) -> None:
    rule_a, _ = fn.rules(database)
    fn.many(database, [fn.RETURNED_A[0]])
    send(database, notices.Selection("rule", rule_id=rule_a))
    with pytest.raises(notices.NoticeError, match="同じ発送日にお知らせ済み 1件"):
        send(database, notices.Selection("rule", rule_id=rule_a))
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(NoticeBatch)) == 1


def test_two_officers_sending_at_once_send_once(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("the race needs PostgreSQL's concurrency")
    rule_a, _ = fn.rules(database)
    fn.many(database, [fn.RETURNED_A[0], fn.RETURNED_A2[0]])
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def go() -> None:
        barrier.wait()
        try:
            send(database, notices.Selection("rule", rule_id=rule_a))
            outcomes.append("sent")
        except notices.NoticeError:
            outcomes.append("refused")

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "sent"]
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 2


def test_reprinted_letters_show_each_items_last_day(database: Database) -> None:
    rule_a, _ = fn.rules(database)
    fn.many(database, [fn.RETURNED_A[0], fn.RETURNED_A2[0]])
    sent = send(database, notices.Selection("rule", rule_id=rule_a))
    out = io.BytesIO()
    with database.session_scope() as session:
        batch = session.get(NoticeBatch, sent.batch.id)
        assert batch is not None
        tally = notices.write_letters(session, batch, out)
    assert tally.letters == 2
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert len(reader.pages) == 2
    first, second = (page.extract_text() for page in reader.pages)
    assert "令和9年3月31日までに" in first and "通知 太郎0" in first
    assert "令和9年5月31日までに" in second and "通知 太郎1" in second
    for text in (first, second):
        assert "個人情報保護により、通知カードの返戻状況を電話で回答することはできません。" in text
        assert "096-328-2288" in text


# --- the template -----------------------------------------------------------------------------

SAMPLE = notice_templates.sample_fields(
    contact="問い合わせ先",
    place="窓口",
    hours="月曜日〜金曜日",
    documents="A群1点",
    office="熊本市",
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ name }\n", "1行目: 書式の誤り"),
        ("ok\n{{ nmae }}", "2行目: 「nmae」は使えない項目"),
        ("{% for x in name %}\n{{ x.__class__ }}\n{% endfor %}", "安全でない操作"),
        ("{{ name.__class__.__mro__ }}", "安全でない操作"),
        ("{{ ''.__class__ }}", "安全でない操作"),
        ("{{ config }}", "「config」は使えない項目"),
        ("{{ 1/0 }}", "差し込みできません"),
    ],
)
def test_template_refusals(body: str, message: str) -> None:
    with pytest.raises(notice_templates.TemplateError, match=message):
        notice_templates.check("表題", body, SAMPLE)


def test_default_template_renders_every_field() -> None:
    text = notice_templates.render_body(notice_templates.DEFAULT_BODY, SAMPLE)
    assert "令和9年3月31日までに" in text and "本人確認書類（A群1点）" in text
    assert "{{" not in text


def test_saving_a_version_is_audited_without_personal_data(database: Database) -> None:
    with database.session_scope() as session:
        before = notice_templates.current(session)
        assert before is not None and before.version == 1  # seeded by init-db
        assert notice_templates.seed_default(session, actor="cli:test") is False  # idempotent
        row = notice_templates.save(
            session,
            actor="officer1",
            title="お知らせ",
            body="{{ name }} 様\n",
            sample=SAMPLE,
            now=NOW,
        )
        assert row.version == 2 and notice_templates.current(session) is row
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == AuditAction.NOTICE_TEMPLATE_CHANGE.value)
        )
        assert event is not None and event.object_type == "notice_template"
        with pytest.raises(notice_templates.TemplateError):
            notice_templates.save(
                session, actor="officer1", title="x", body="{{ secret }}", sample=SAMPLE, now=NOW
            )
        assert notice_templates.current(session) is row


def test_a_housemate_of_a_protected_person_gets_no_letter(database: Database) -> None:
    """The envelope's address is masked once one of its people is protected, even when only
    that person was flagged: no letter goes to that address."""
    from tests import factories

    fn.rules(database)
    protected_id, housemate_id = factories.envelope(
        database,
        1,
        series=fn.SERIES,
        returned_on=fn.RETURNED_A[0],
        items=[factories.item("保護 花子"), factories.item("同居 太郎")],
    )
    with database.session_scope() as session:
        protection.place(
            session,
            actor="officer1",
            item_id=protected_id,
            reason="申出",
            review_on=TODAY + timedelta(days=300),
            whole_envelope=False,
            now=NOW,
            today=TODAY,
        )
        result = notices.preview(
            session, actor="officer1", selection=notices.within(400), as_of=TODAY, sent_on=TODAY
        )
    assert result.letters == 0
    assert result.excluded == {notices.PROTECTED: 1, notices.PROTECTED_HOUSEHOLD: 1}
    assert housemate_id != protected_id
