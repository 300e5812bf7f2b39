"""Retention, the disposal-list contract (SPEC §3, §7) and disposal batches (SPEC §5)."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from tests import factories
from tests.factories import NOW
from tracker.cli import main
from tracker.clock import now_utc, today_jst
from tracker.db import Database
from tracker.domain.codes import ItemStatus, RuleKind
from tracker.domain.identity import Evidence, RecipientKind
from tracker.domain.retention import ItemFacts, eligibility, rule_from_fields
from tracker.models import AuditEvent, DisposalBatch, Hold, Item, RetentionRule
from tracker.services import disposal, handover, holds, retention
from tracker.services.transitions import Conflict


def disposal_list(url: str, as_of: str, fmt: str = "json") -> list[dict[str, str]]:
    result = CliRunner().invoke(
        main,
        ["disposal-list", "--as-of", as_of, "--format", fmt],
        env={"TRACKER_DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    if fmt == "json":
        return json.loads(result.stdout_bytes)
    return list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))


BOUNDARY = {
    date(2018, 3, 31): "before",
    date(2018, 4, 1): "first",
    date(2019, 3, 31): "last",
    date(2019, 4, 1): "after",
}


def test_the_boundaries_of_the_seed_rule_through_the_cli(
    database: Database, database_url: str
) -> None:
    for n, (returned_on, name) in enumerate(BOUNDARY.items()):
        factories.envelope(database, n, returned_on=returned_on, addressee=f"境界 {name}")
    assert disposal_list(database_url, "2020-03-31") == []
    listed = disposal_list(database_url, "2020-04-01")
    assert sorted(row["name"] for row in listed) == ["境界 first", "境界 last"]
    assert set(listed[0]) >= {"tracking_no", "name", "birth_date", "return_date", "rule"}
    assert {row["return_date"] for row in listed} == {"2018-04-01", "2019-03-31"}
    assert {row["rule"] for row in listed} == {"平成30年度返戻分"}
    assert listed[0]["birth_date"] == "1975-01-01"
    # the same list as CSV, with the English header, and the 和暦 form of the date
    rows = disposal_list(database_url, "令和2年4月1日", "csv")
    assert sorted(row["name"] for row in rows) == ["境界 first", "境界 last"]


def test_held_extended_handed_over_and_destroyed_items_are_never_listed(
    database: Database, database_url: str
) -> None:
    ids = {
        label: factories.envelope(
            database, n, returned_on=date(2018, 6, 1), addressee=f"対象 {label}"
        )[0]
        for n, label in enumerate(["ok", "held", "extended", "handed", "released"])
    }
    with database.session_scope() as session:
        item = session.get(Item, ids["held"])
        holds.place(session, actor="o", item=item, reason="電話で来庁予約", now=NOW)
        released = holds.place(
            session, actor="o", item=session.get(Item, ids["released"]), reason="調査", now=NOW
        )
        holds.release(session, actor="o", hold=released, reason="調査終了", now=NOW)
        holds.extend(
            session,
            actor="o",
            item=session.get(Item, ids["extended"]),
            retain_until=date(2021, 3, 31),
            reason="本人から申出",
            now=NOW,
        )
        handover.hand_over(
            session,
            actor="c",
            item_ids=[ids["handed"]],
            evidence=Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",)),
            now=NOW,
            today=date(2026, 11, 27),
        )
    names = {row["name"] for row in disposal_list(database_url, "2020-04-01")}
    assert names == {"対象 ok", "対象 released"}
    later = {row["name"] for row in disposal_list(database_url, "2021-04-01")}
    assert later == {"対象 ok", "対象 released", "対象 extended"}


def test_items_no_rule_covers_are_in_the_gap_report(database: Database) -> None:
    [inside] = factories.envelope(database, 1, returned_on=date(2018, 5, 1))
    [outside] = factories.envelope(database, 2, returned_on=date(2017, 5, 1))
    with database.session_scope() as session:
        count, _span, rows = retention.coverage_gaps(session)
    assert count == 1 and [row.id for row in rows] == [outside]
    assert inside != outside


def test_today_is_the_date_in_japan() -> None:
    """2020-03-31T15:30Z is already 1 April in Japan: the seed cohort is eligible 'today'."""
    moment = datetime(2020, 3, 31, 15, 30, tzinfo=UTC)
    assert today_jst(moment) == date(2020, 4, 1)
    assert today_jst(datetime(2020, 3, 31, 14, 59, tzinfo=UTC)) == date(2020, 3, 31)


def test_the_cli_defaults_to_today_in_japan(
    database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.envelope(database, 5, returned_on=date(2018, 4, 1), addressee="今日 対象")
    monkeypatch.setattr("tracker.clock.now_utc", lambda: datetime(2020, 3, 31, 15, 30, tzinfo=UTC))
    result = CliRunner().invoke(
        main, ["disposal-list", "--format", "json"], env={"TRACKER_DATABASE_URL": database_url}
    )
    assert [row["name"] for row in json.loads(result.stdout_bytes)] == ["今日 対象"]


def test_the_sql_list_agrees_with_the_pure_engine(database: Database) -> None:
    """Every rule kind, random return dates, holds and extensions: set query == engine."""
    rules = [
        rule_from_fields(
            RuleKind.FISCAL_YEAR, "令和元年度", date(2019, 4, 1), date(2020, 3, 31), years=1
        ),
        rule_from_fields(
            RuleKind.MONTHS_AFTER, "令和2年度", date(2020, 4, 1), date(2021, 3, 31), months=14
        ),
    ]
    with database.session_scope() as session:
        for rule in rules:
            retention.save_rule(
                session,
                actor="o",
                rule=rule,
                kind=rule.kind,
                parameters={
                    k: v
                    for k, v in rule.as_fields().items()
                    if k in ("retain_until", "years", "months")
                },
            )
    rng = random.Random(7)
    facts: dict[int, ItemFacts] = {}
    for n in range(120):
        returned = date(2017, 10, 1) + timedelta(days=rng.randrange(1400))
        [item_id] = factories.envelope(database, 100 + n, returned_on=returned)
        held = rng.random() < 0.1
        extension = (
            date(2022, 1, 1) + timedelta(days=rng.randrange(500)) if rng.random() < 0.15 else None
        )
        with database.session_scope() as session:
            item = session.get(Item, item_id)
            if held:
                holds.place(session, actor="o", item=item, reason="保留", now=NOW)
            if extension:
                holds.extend(
                    session, actor="o", item=item, retain_until=extension, reason="延長", now=NOW
                )
        facts[item_id] = ItemFacts(ItemStatus.IN_CUSTODY.value, held, returned, extension)
    with database.session_scope() as session:
        all_rules = [s.rule for s in retention.load_rules(session)]
        for as_of in (date(2020, 4, 1), date(2021, 6, 30), date(2022, 5, 1), date(2023, 7, 1)):
            listed = {e.item_id for e in retention.iter_eligible(session, as_of)}
            expected = {i for i, f in facts.items() if eligibility(f, all_rules, as_of).eligible}
            assert listed == expected, as_of


# --- batches -----------------------------------------------------------------------------------


EXECUTION = disposal.Execution(
    date(2020, 4, 10), "shredding", "本庁舎地下 裁断室", "裁断 一郎", "立会 花子"
)


def test_four_eyes_the_creator_cannot_approve(database: Database) -> None:
    batch_id = factories.batch(database)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        with pytest.raises(disposal.NotAllowed):
            disposal.approve(session, actor="officer1", batch=batch, now=NOW)
        disposal.approve(session, actor="officer2", batch=batch, now=NOW)
        assert batch.status == "approved"


def test_an_item_in_an_approved_batch_cannot_be_handed_over(database: Database) -> None:
    batch_id = factories.batch(database, 1)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        disposal.approve(session, actor="officer2", batch=batch, now=NOW)
        item_id = batch.items[0].item_id
    with database.session_scope() as session, pytest.raises(handover.AlreadyHandedOver) as refusal:
        handover.hand_over(
            session,
            actor="c",
            item_ids=[item_id],
            evidence=Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",)),
            now=now_utc(),
            today=date(2026, 11, 27),
        )
    assert "承認済みの廃棄処理" in str(refusal.value)


def test_execution_rechecks_and_skips_what_changed_since_creation(database: Database) -> None:
    batch_id = factories.batch(database, 4)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        items = [entry.item_id for entry in batch.items]
        # handed over and held after the batch was created, before approval
        handover.hand_over(
            session,
            actor="c",
            item_ids=[items[0]],
            evidence=Evidence(recipient_kind=RecipientKind.SELF, documents=("passport",)),
            now=NOW,
            today=date(2026, 11, 27),
        )
        holds.place(
            session, actor="o", item=session.get(Item, items[1]), reason="問合せあり", now=NOW
        )
        disposal.approve(session, actor="officer2", batch=batch, now=NOW)
        disposal.execute(
            session,
            actor="officer2",
            batch=batch,
            execution=EXECUTION,
            now=NOW,
            today=date(2026, 11, 27),
        )
        outcomes = {e.item_id: (e.outcome, e.skip_reason) for e in batch.items}
        statuses = {i: session.get(Item, i).status for i in items}
    assert outcomes[items[0]] == ("skipped", "作成後に交付済み")
    assert outcomes[items[1]] == ("skipped", "保留中")
    assert statuses == {
        items[0]: "handed_over",
        items[1]: "in_custody",
        items[2]: "destroyed",
        items[3]: "destroyed",
    }


def test_an_executed_batch_is_immutable(database: Database) -> None:
    batch_id = factories.batch(database, 2, approved_by="officer2", executed=EXECUTION)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        first = disposal.certificate_pdf(session, batch)
        for attempt in (
            lambda: disposal.approve(session, actor="officer3", batch=batch, now=NOW),
            lambda: disposal.cancel(session, actor="officer2", batch=batch, reason="x", now=NOW),
            lambda: disposal.execute(
                session,
                actor="officer2",
                batch=batch,
                execution=EXECUTION,
                now=NOW,
                today=date(2026, 11, 27),
            ),
        ):
            with pytest.raises(Conflict, match="既に廃棄が記録されています（11月27日"):
                attempt()
        assert disposal.certificate_pdf(session, batch) == first  # byte-identical
        # destroyed items are never listed again
        assert list(retention.iter_eligible(session, date(2020, 4, 1))) == []
        from tracker.pdf.certificate import sha256_of

        assert sha256_of(first) == batch.certificate_sha256


def test_execution_needs_two_different_people_and_a_real_date(database: Database) -> None:
    batch_id = factories.batch(database, 1)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        disposal.approve(session, actor="officer2", batch=batch, now=NOW)
        same = disposal.Execution(date(2020, 4, 10), "shredding", "裁断室", "山田", "山田")
        with pytest.raises(disposal.DisposalError, match="別の人"):
            disposal.execute(
                session,
                actor="officer2",
                batch=batch,
                execution=same,
                now=NOW,
                today=date(2026, 11, 27),
            )
        future = disposal.Execution(date(2027, 1, 1), "shredding", "裁断室", "A", "B")
        with pytest.raises(disposal.DisposalError, match="未来"):
            disposal.execute(
                session,
                actor="officer2",
                batch=batch,
                execution=future,
                now=NOW,
                today=date(2026, 11, 27),
            )
        contracted = disposal.Execution(
            date(2020, 4, 10), "pulping", "業者工場", "A", "B", contractor_name="熊本リサイクル"
        )
        with pytest.raises(disposal.DisposalError, match="証明書番号"):
            disposal.execute(
                session,
                actor="officer2",
                batch=batch,
                execution=contracted,
                now=NOW,
                today=date(2026, 11, 27),
            )


def test_certificate_verify_cli(database: Database, database_url: str, tmp_path: Path) -> None:
    batch_id = factories.batch(database, 2, approved_by="officer2", executed=EXECUTION)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        pdf = disposal.certificate_pdf(session, batch)
        number = batch.certificate_no
    good = tmp_path / "cert.pdf"
    good.write_bytes(pdf)
    env = {"TRACKER_DATABASE_URL": database_url}
    ok = CliRunner().invoke(main, ["certificate-verify", str(good)], env=env)
    assert ok.exit_code == 0 and number in ok.stdout
    bad = tmp_path / "altered.pdf"
    bad.write_bytes(pdf.replace(b"/Producer", b"/Producex", 1))
    refused = CliRunner().invoke(main, ["certificate-verify", str(bad)], env=env)
    assert refused.exit_code == 1 and "一致しません" in refused.stderr
    with database.session_scope() as session:
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "disposal.execute"))
        assert session.scalar(select(Hold).limit(1)) is None


def test_editing_a_rule_after_execution_never_changes_the_certificate(database: Database) -> None:
    """The certificate prints each cohort's rule: as it was at execution, not as it is now."""
    batch_id = factories.batch(database, 2, approved_by="officer2", executed=EXECUTION)
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        issued = disposal.certificate_pdf(session, batch)
    with database.session_scope() as session:
        seed = session.scalar(select(RetentionRule))
        assert seed is not None
        edited = rule_from_fields(
            RuleKind.FIXED,
            label=seed.label,
            returned_from=seed.returned_from,
            returned_to=seed.returned_to,
            retain_until=date(2020, 9, 30),
        )
        retention.save_rule(
            session,
            actor="officer3",
            rule=edited,
            kind=RuleKind.FIXED,
            parameters={"retain_until": date(2020, 9, 30)},
            existing=seed,
        )
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        again = disposal.certificate_pdf(session, batch)
        from tracker.pdf.certificate import sha256_of

        assert again == issued and sha256_of(again) == batch.certificate_sha256


def test_lists_read_to_the_end_are_planned_for_every_row(database: Database) -> None:
    """Issue 18: PostgreSQL plans a cursor for its first tenth of rows, which made the disposal
    list of a million items take 6.2 s instead of 3.5 s. The transaction that streams a whole
    list plans it for all its rows; the next one is back to the server's setting."""
    for n in (1, 2, 3):
        factories.envelope(database, n)
    with database.read_session() as session:
        listed = list(retention.iter_eligible(session, date(2026, 12, 1)))
        if database.dialect == "postgresql":
            assert session.scalar(text("SHOW cursor_tuple_fraction")) == "1"
    assert len(listed) == 3
    if database.dialect == "postgresql":
        with database.read_session() as session:
            assert session.scalar(text("SHOW cursor_tuple_fraction")) == "0.1"
