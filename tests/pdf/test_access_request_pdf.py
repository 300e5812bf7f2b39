"""The access-request PDF (保有個人情報開示, issue 16 item 3, Must show): a person with a handover,
a hold and a contact; pdftotext finds the title, the reference number, the 和暦 date, the
office, every section heading and the records; fonts embedded; no name in the metadata."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.factories import NOW, TODAY
from tests.factories_access import HOLD_REASON, NAME, NOTE, person, request
from tracker.db import Database
from tracker.pdf.access_request import render_access_request
from tracker.services import access_requests

HEADINGS = [
    "1. 通知物",
    "2. 返戻郵便",
    "3. 住基照合",
    "4. 交付（本人確認書類）",
    "5. 接触記録",
    "6. 受取予約",
    "7. 保留",
    "8. 保管期限の延長",
    "9. 支援措置",
    "10. 再送付",
    "11. 紛失報告",
    "12. 修正履歴",
    "13. 操作記録（監査ログ）",
]


def _pdf(database: Database) -> bytes:
    who = person(database)
    request_id = request(database, [who.card, who.notice])
    with database.session_scope() as session:
        found = access_requests.load(session, request_id)
        assert found is not None
        disclosure = access_requests.export(
            session, actor="officer", request=found, fmt="pdf", now=NOW, today=TODAY
        )
    return render_access_request(disclosure)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_pdf_has_the_heading_every_section_and_the_records(
    database: Database, tmp_path: Path
) -> None:
    pdf = _pdf(database)
    path = tmp_path / "access-request.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = " ".join(text.split())
    for expected in (
        "保有個人情報開示",
        "開示請求に係る保有個人情報",
        "受付番号 R8-開示-0001",
        "令和8年11月20日",  # received
        "令和8年11月27日",  # made
        "熊本市",
    ):
        assert expected in flat, expected
    positions = [flat.find(heading) for heading in HEADINGS]
    assert all(p >= 0 for p in positions), dict(zip(HEADINGS, positions, strict=True))
    assert positions == sorted(positions)
    assert "記録はありません" in flat  # 支援措置, re-mailings, loss reports
    for value in (NAME.split()[0], "運転免許証", HOLD_REASON[:6], NOTE[:6], "S59.7.9"):
        assert value in flat, value
    assert re.search(r"1 ?/ ?\d", flat)


def test_fonts_are_embedded_and_the_metadata_names_no_person(database: Database) -> None:
    reader = PdfReader(io.BytesIO(_pdf(database)))
    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "開示請求に係る保有個人情報"
    assert NAME not in str(dict(metadata))
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for font in fonts.values():
            descriptor = font.get_object()
            assert "Helvetica" not in str(descriptor.get("/BaseFont")), descriptor
