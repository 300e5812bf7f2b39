"""The certificate's issuer (issue 12): municipality and office from the settings, creator,
approver and recorder by display name, frozen at execution so that renaming a user or the
office later never changes a certificate's bytes; batches executed before the issuer was
frozen are rebuilt exactly as they were printed (constants and login names)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date

from pypdf import PdfReader
from sqlalchemy import text

from tests import factories
from tests.factories import NOW
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.models import DisposalBatch
from tracker.pdf.certificate import sha256_of
from tracker.services import disposal, settings

EXECUTION = disposal.Execution(date(2020, 4, 10), "shredding", "中央区役所 裁断室", "山田", "佐藤")


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def certificate(database: Database, batch_id: int) -> tuple[bytes, DisposalBatch]:
    with database.session_scope() as session:
        batch = session.get(DisposalBatch, batch_id)
        assert batch is not None
        pdf = disposal.certificate_pdf(session, batch)
        session.expunge(batch)
        return pdf, batch


def rename_everything(database: Database) -> None:
    """What an admin may do later: rename the officers and the office."""
    with database.session_scope() as session:
        session.execute(text("UPDATE users SET display_name = display_name || '（改姓）'"))
        current = settings.load(session)
        settings.save(
            session,
            replace(current, municipality="合併後市", office="新庁舎 市民課"),
            actor="admin1",
            now=NOW,
        )


def test_the_certificate_names_people_and_the_office_from_the_settings(database: Database) -> None:
    factories.user(database, Role.RECORDS_OFFICER, "officer1", display_name="記録 一郎")
    factories.user(database, Role.RECORDS_OFFICER, "officer2", display_name="記録 二郎")
    with database.session_scope() as session:
        settings.save(
            session,
            replace(settings.load(session), municipality="江戸川区", office="区民課 戸籍係"),
            actor="admin1",
            now=NOW,
        )
    batch_id = factories.batch(database, 2, approved_by="officer2", executed=EXECUTION)
    issued, batch = certificate(database, batch_id)
    words = pdf_text(issued)
    assert "江戸川区" in words and "区民課 戸籍係" in words
    assert "熊本市" not in words
    assert "記録 一郎" in words and "記録 二郎" in words
    assert "山田（記録: 記録 二郎）" in words
    assert "officer1" not in words and "officer2" not in words
    assert batch.certificate_issuer is not None
    assert json.loads(batch.certificate_issuer) == {
        "municipality": "江戸川区",
        "office": "区民課 戸籍係",
        "created_by": "記録 一郎",
        "approved_by": "記録 二郎",
        "recorded_by": "記録 二郎",
    }
    assert sha256_of(issued) == batch.certificate_sha256

    rename_everything(database)
    again, batch = certificate(database, batch_id)
    assert again == issued  # byte-identical after the renames
    assert sha256_of(again) == batch.certificate_sha256


def test_a_batch_executed_before_the_issuer_was_frozen_rebuilds_as_printed_then(
    database: Database,
) -> None:
    """Before issue 12 certificates printed 熊本市, its center and login names. Executed with
    the defaults and officers whose display names are their login names, today's certificate
    is byte for byte that one; with the issuer removed (as in a batch executed before), its
    rebuild must still give the recorded SHA-256 after every later rename."""
    factories.user(database, Role.RECORDS_OFFICER, "officer1")  # display name = login name
    factories.user(database, Role.RECORDS_OFFICER, "officer2")
    batch_id = factories.batch(database, 2, approved_by="officer2", executed=EXECUTION)
    issued, batch = certificate(database, batch_id)
    with database.session_scope() as session:
        session.execute(
            text("UPDATE disposal_batches SET certificate_issuer = NULL WHERE id = :id"),
            {"id": batch_id},
        )
    rename_everything(database)
    legacy, batch = certificate(database, batch_id)
    assert batch.certificate_issuer is None
    assert legacy == issued and sha256_of(legacy) == batch.certificate_sha256
    words = pdf_text(legacy)
    assert "熊本市" in words and "中央区役所1階 熊本市マイナンバーセンター" in words
    assert "officer1" in words and "山田（記録: officer2）" in words
    assert "合併後市" not in words and "改姓" not in words
