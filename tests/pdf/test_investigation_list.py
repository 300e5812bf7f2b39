"""実態調査依頼一覧 (PDF): title, office, date, every column, names beyond IPAex (𠮷), the
header row and page numbers on every page of a long list, fonts embedded, no person's name in
the metadata."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from tracker.pdf.investigation import (
    InvestigationEntry,
    InvestigationList,
    render_investigation_list,
)

MADE_ON = date(2026, 11, 27)


def entries(n: int) -> list[InvestigationEntry]:
    return [
        InvestigationEntry(
            control_no=f"E{k + 1:09d}-1",
            name="𠮷田 花子" if k == 0 else f"髙橋 一郎{k}",
            name_kana="ヨシダ ハナコ" if k == 0 else "タカハシ イチロウ",
            birth_date=date(1925, 8, 15),
            address="熊本市中央区手取本町1-1",
            household_code="0012345" if k % 2 else None,
            returned_on=date(2018, 4, 2),
            checked_on=date(2026, 11, 20),
        )
        for k in range(n)
    ]


def document(n: int) -> InvestigationList:
    return InvestigationList(
        municipality="熊本市",
        office="中央区役所1階 熊本市マイナンバーセンター",
        made_on=MADE_ON,
        made_by="記録 太郎",
        entries=entries(n),
    )


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_list_says_what_it_is_for_whom_and_every_column() -> None:
    pdf = render_investigation_list(document(3))
    (text,) = pages_text(pdf)
    assert "実態調査依頼一覧" in text and "住民記録担当" in text
    assert "熊本市" in text and "中央区役所1階 熊本市マイナンバーセンター" in text
    assert "令和8年11月27日" in text and "記録 太郎" in text and "件数 3件" in text
    for header in (
        "管理番号",
        "氏名",
        "フリガナ",
        "生年月日",
        "返戻時の住所",
        "世帯番号",
        "返戻日",
        "照合日",
    ):
        assert header in text, header
    assert "E000000002-1" in text and "大正14年8月15日" in text and "0012345" in text
    assert "H30.4.2" in text and "R8.11.20" in text
    assert "1 / 1" in text


def test_a_long_list_repeats_the_header_and_numbers_pages() -> None:
    pdf = render_investigation_list(document(60))
    texts = pages_text(pdf)
    assert len(texts) >= 3
    for number, text in enumerate(texts, start=1):
        assert "管理番号" in text and f"{number} / {len(texts)}" in text
    assert "E000000060-1" in texts[-1] and "以上" in texts[-1]


def test_an_empty_list_says_so() -> None:
    (text,) = pages_text(render_investigation_list(document(0)))
    assert "該当する通知カード等はありません" in text and "件数 0件" in text


def test_fonts_are_embedded_and_metadata_names_no_one() -> None:
    reader = PdfReader(io.BytesIO(render_investigation_list(document(2))))
    metadata = reader.metadata
    assert metadata is not None and metadata.title == "実態調査依頼一覧"
    assert "記録" not in str(dict(metadata))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()
            if "/DescendantFonts" in descriptor:
                descriptor = descriptor["/DescendantFonts"][0].get_object()
            assert "/FontDescriptor" in descriptor, descriptor
            file_keys = {"/FontFile", "/FontFile2", "/FontFile3"}
            assert file_keys & set(descriptor["/FontDescriptor"].get_object().keys())


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdftotext_reads_names_beyond_ipaex(tmp_path: Path) -> None:
    path = tmp_path / "list.pdf"
    path.write_bytes(render_investigation_list(document(2)))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "𠮷田 花子" in text and "実態調査依頼一覧" in text
