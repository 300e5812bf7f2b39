"""The audit chain (SPEC §8): append, verify, tamper detection, triggers, concurrency."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DatabaseError

from tracker.cli import main
from tracker.db import Database
from tracker.models import AuditEvent
from tracker.services import audit


def append_events(database: Database, count: int) -> None:
    with database.session_scope() as session:
        for n in range(count):
            audit.record(
                session,
                actor="clerk1",
                action="item.view",
                object_type="item",
                object_id=n,
                details={"n": n, "slot": "髙橋 𠮷田"},
            )


def as_superuser(database: Database, change: Callable[[Connection], object]) -> None:
    """Tamper the way someone with full database rights could: around the triggers."""
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            change(conn)
            return
        triggers = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name = 'audit_events'"
            )
        ).all()
        assert len(triggers) == 3
        for name, _sql in triggers:
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
        change(conn)
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)


def run_verify(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["audit-verify", *args], env={"TRACKER_DATABASE_URL": database_url}
    )
    # success is reported on stdout, a broken chain on stderr (SPEC §7)
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


def test_an_intact_chain_verifies(database: Database, database_url: str) -> None:
    append_events(database, 10)
    with database.session_scope() as session:
        result = audit.verify_chain(session)
        head = audit.head_hash(session)
    assert result.ok and result.checked == 11  # ten plus the seed event
    assert result.head_hash == head
    code, output = run_verify(database_url)
    assert code == 0 and "OK" in output and head in output


def test_each_event_is_chained_to_the_previous_one(database: Database) -> None:
    append_events(database, 3)
    with database.session_scope() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash


def test_an_edited_row_is_pinpointed(database: Database, database_url: str) -> None:
    append_events(database, 10)
    as_superuser(
        database,
        lambda c: c.execute(text("UPDATE audit_events SET actor = 'someone_else' WHERE seq = 6")),
    )
    code, output = run_verify(database_url)
    assert code == 1
    assert "事象 6" in output and "altered" in output


def test_an_edited_detail_is_pinpointed(database: Database, database_url: str) -> None:
    append_events(database, 5)
    as_superuser(
        database,
        lambda c: c.execute(
            text("UPDATE audit_events SET details = :d WHERE seq = 3"), {"d": '{"n":99}'}
        ),
    )
    code, output = run_verify(database_url)
    assert code == 1 and "事象 3" in output


def test_a_deleted_row_is_pinpointed(database: Database, database_url: str) -> None:
    append_events(database, 10)
    as_superuser(database, lambda c: c.execute(text("DELETE FROM audit_events WHERE seq = 4")))
    code, output = run_verify(database_url)
    assert code == 1
    assert "事象 5" in output and "event 4 is missing" in output


def test_a_deleted_row_hidden_by_renumbering_is_caught(
    database: Database, database_url: str
) -> None:
    """Deleting an event and shifting later ones down hides the gap, not the broken link."""
    append_events(database, 6)

    def delete_and_renumber(conn: Connection) -> None:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
        for seq in range(4, 8):
            conn.execute(
                text("UPDATE audit_events SET seq = :new WHERE seq = :old"),
                {"new": seq - 1, "old": seq},
            )

    as_superuser(database, delete_and_renumber)
    code, output = run_verify(database_url)
    assert code == 1 and "事象 3" in output


def test_rows_swapped_out_of_order_are_pinpointed(database: Database, database_url: str) -> None:
    append_events(database, 8)

    def swap(conn: Connection) -> None:
        conn.execute(text("UPDATE audit_events SET seq = 1000 WHERE seq = 5"))
        conn.execute(text("UPDATE audit_events SET seq = 5 WHERE seq = 6"))
        conn.execute(text("UPDATE audit_events SET seq = 6 WHERE seq = 1000"))

    as_superuser(database, swap)
    code, output = run_verify(database_url)
    assert code == 1 and "事象 5" in output and "does not follow" in output


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"],
)
def test_the_database_refuses_update_and_delete(database: Database, statement: str) -> None:
    append_events(database, 2)
    with pytest.raises(DatabaseError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text(statement))
    with database.session_scope() as session:
        assert audit.verify_chain(session).checked == 3


def test_postgres_refuses_truncate(postgres_url: str) -> None:
    database = Database(postgres_url)
    with pytest.raises(DatabaseError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    database.dispose()


def test_concurrent_appends_on_postgres_give_a_gap_free_chain(postgres_url: str) -> None:
    """20 threads, each with its own connection, released together (SQLite would serialise)."""
    database = Database(postgres_url, pool_size=25)
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with database.session_scope() as session:
                session.execute(text("SELECT 1"))  # hold a connection before the start line
                barrier.wait(timeout=30)
                audit.record(session, actor=f"clerk{n}", action="item.view", object_id=n)
        except BaseException as error:  # noqa: BLE001 — reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with database.session_scope() as session:
        seqs = session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
        result = audit.verify_chain(session)
    database.dispose()
    assert seqs == list(range(1, threads_count + 2))  # plus the seed event
    assert result.ok and result.checked == threads_count + 1


def test_details_refuse_floats_so_hashes_stay_reproducible(database: Database) -> None:
    with database.session_scope() as session, pytest.raises(TypeError, match="floats"):
        audit.record(session, actor="x", action="y", details={"amount": 1.5})


FORGED = (
    "INSERT INTO audit_events (seq, occurred_at, actor, action, outcome, details,"
    " prev_hash, hash) VALUES (:seq, CURRENT_TIMESTAMP, 'x', 'item.view', 'ok', '{}',"
    " :prev, :hash)"
)


def test_the_database_refuses_an_event_that_does_not_extend_the_chain(
    database: Database,
) -> None:
    append_events(database, 3)
    with database.session_scope() as session:
        head = audit.head_hash(session)
    for seq, prev in [(6, head), (5, "f" * 64), (2, "f" * 64)]:  # gap, wrong link, taken
        with pytest.raises(DatabaseError, match="extend the chain"), database.engine.begin() as c:
            c.execute(text(FORGED), {"seq": seq, "prev": prev, "hash": "e" * 64})
    with database.session_scope() as session:
        assert audit.verify_chain(session).ok


def test_sqlite_insert_or_replace_cannot_rewrite_an_event(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    append_events(database, 3)
    replace = FORGED.replace("INSERT INTO", "INSERT OR REPLACE INTO")
    with pytest.raises(DatabaseError, match="extend the chain"), database.engine.begin() as c:
        c.execute(text(replace), {"seq": 2, "prev": "0" * 64, "hash": "e" * 64})


def test_a_forged_row_inserted_around_the_triggers_is_caught(
    database: Database, database_url: str
) -> None:
    append_events(database, 3)
    as_superuser(
        database,
        lambda c: c.execute(text(FORGED), {"seq": 5, "prev": "f" * 64, "hash": "e" * 64}),
    )
    code, output = run_verify(database_url)
    assert code == 1 and "事象 5" in output


def test_deleted_newest_events_are_caught_against_a_recorded_head(
    database: Database, database_url: str
) -> None:
    append_events(database, 6)
    with database.session_scope() as session:
        head = session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        assert head is not None
        checkpoint = f"{head.seq}:{head.hash}"
    assert run_verify(database_url, "--expect-head", checkpoint)[0] == 0
    as_superuser(database, lambda c: c.execute(text("DELETE FROM audit_events WHERE seq >= 6")))
    code, output = run_verify(database_url, "--expect-head", checkpoint)
    assert code == 1 and "deleted" in output
    bad = CliRunner().invoke(
        main,
        ["audit-verify", "--expect-head", "7:nothex"],
        env={"TRACKER_DATABASE_URL": database_url},
    )
    assert bad.exit_code == 2


def test_a_non_canonical_detail_text_is_caught(database: Database, database_url: str) -> None:
    """{"n":99,"n":1} parses like {"n":1}: the stored text must be the hashed text."""
    append_events(database, 3)

    def smuggle(conn: Connection) -> None:
        details = conn.execute(text("SELECT details FROM audit_events WHERE seq = 3")).scalar_one()
        conn.execute(
            text("UPDATE audit_events SET details = :d WHERE seq = 3"),
            {"d": details.replace("{", '{"n":99,', 1)},
        )

    as_superuser(database, smuggle)
    code, output = run_verify(database_url)
    assert code == 1 and "事象 3" in output


def test_audit_verify_on_a_missing_database_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, ["audit-verify"], env={"TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/none.db"}
    )
    assert result.exit_code == 1 and "init-db" in result.stderr


def test_a_time_stored_in_another_sqlite_text_form_reads_as_the_same_time(
    database: Database, database_url: str
) -> None:
    """verify reads SQLite's stored text directly; a form SQLAlchemy also reads (here ISO's
    ``T``) is still the same time, so the chain still verifies, as it did through the model."""
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL stores a timestamp, not text")
    append_events(database, 3)
    as_superuser(
        database,
        lambda c: c.execute(
            text("UPDATE audit_events SET occurred_at = replace(occurred_at, ' ', 'T')")
        ),
    )
    assert run_verify(database_url)[0] == 0
    as_superuser(
        database,
        lambda c: c.execute(
            text("UPDATE audit_events SET occurred_at = '2026-13-45 99:00:00' WHERE seq = 3")
        ),
    )
    code, output = run_verify(database_url)
    assert code == 1 and "事象 3" in output


@pytest.mark.parametrize(
    "tampering",
    [
        "",
        "UPDATE audit_events SET actor = 'someone_else' WHERE seq = 25",
        "DELETE FROM audit_events WHERE seq = 12",
        "DELETE FROM audit_events WHERE seq BETWEEN 11 AND 21",
        "UPDATE audit_events SET prev_hash = hash WHERE seq = 21",
        "DELETE FROM audit_events WHERE seq > 28",
    ],
    ids=["intact", "edited", "deleted", "range-emptied", "relinked", "tail-deleted"],
)
def test_verify_in_several_processes_answers_as_one(
    database: Database, database_url: str, tampering: str
) -> None:
    """Issue 18: the chain is cut into ranges verified side by side; the exit code, the event
    named and the message are those of one walk, wherever the break falls."""
    append_events(database, 30)  # 31 events: three ranges of 11, 11 and 9
    with database.read_session() as session:
        head = f"31:{audit.head_hash(session)}"  # recorded before, e.g. on a certificate
    if tampering:
        as_superuser(database, lambda c: c.execute(text(tampering)))

    for recorded in ((), ("--expect-head", head)):
        one = run_verify(database_url, "--processes", "1", *recorded)
        three = run_verify(database_url, "--processes", "3", *recorded)
        assert three == one
        assert (one[0] == 0) is (not tampering or ("seq > 28" in tampering and not recorded))
    if "BETWEEN" in tampering:
        assert "event 11 is missing (next event found is 22)" in three[1]
