"""廃棄証明書 (disposal certificate), SPEC §5: what it says, names masked (and never the given
name), lists that run over many pages with the header and ``n / N`` on each, embedded fonts,
reproducible bytes, and a 10,000-item certificate whose first and last pages render."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from tracker.domain.masking import MASK
from tracker.pdf import fonts
from tracker.pdf.certificate import (
    Certificate,
    CertificateItem,
    CohortCount,
    SkippedItem,
    render_certificate,
    sha256_of,
)

#: 2026-11-27 14:05 in Japan.
ISSUED = datetime(2026, 11, 27, 5, 5, tzinfo=UTC)
HEAD = "3f2a" + "0123456789abcdef" * 3 + "fedcba9876543210"[4:]
#: Full names as registered; the given names must never reach the page.
PEOPLE = {
    "髙橋 花子": "髙橋○○",
    "𠮷田　太郎": "𠮷田○○",  # 𠮷 U+20BB7 (IPAmj only), U+3000 between the names
    "齋藤 美智子": "齋藤○○",
}
GIVEN_NAMES = ("花子", "太郎", "美智子")


def household() -> list[CertificateItem]:
    return [
        CertificateItem.from_full_name(
            f"E00000012{n}-1", f"12345678901{n}", date(2019, 3, 31 - n), full_name
        )
        for n, full_name in enumerate(PEOPLE)
    ]


def make_certificate(**changes: Any) -> Certificate:
    certificate = Certificate(
        certificate_no="D2026-000042",
        municipality="熊本市",
        office="中央区役所 区民課",
        rules=[
            CohortCount("平成30年度返戻分", "返戻日 2018-04-01〜2019-03-31、保存期間 1年", 2),
            CohortCount("令和元年度返戻分", "返戻日 2019-04-01〜2020-03-31、保存期間 1年", 1),
        ],
        as_of=date(2020, 4, 1),
        destroyed_on=date(2026, 11, 20),
        method="溶解",
        place="熊本市東区 溶解処理場",
        contractor_name="株式会社肥後リサイクル",
        contractor_certificate_no="第R8-1234号",
        items=household(),
        skipped=[
            SkippedItem("E000000200-1", "998877665544", "作成後に交付済み（受領書 H000000031）"),
            SkippedItem("E000000201-2", "998877665545", "保留中（情報公開請求への対応）"),
        ],
        created_by="記録 一郎",
        approved_by="監査 次郎",
        executed_by="実施 三郎",
        witness="立会 四郎",
        audit_head_hash=HEAD,
        audit_head_seq=48213,
        issued_at=ISSUED,
    )
    return replace(certificate, **changes)


def many(count: int) -> Certificate:
    """A certificate of `count` items, numbered so each control number is unique."""
    items = [
        CertificateItem(
            f"E{700000000 + i:09d}-1", f"{500000000000 + i}", date(2018, 4, 1), "山田○○"
        )
        for i in range(count)
    ]
    return make_certificate(
        items=items, rules=[CohortCount("平成30年度返戻分", "保存期間 1年", count)]
    )


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"`{name}` not found: install the Debian package poppler-utils")
    return path


def poppler_text(
    pdf: bytes, tmp_path: Path, first: int | None = None, last: int | None = None
) -> str:
    source = tmp_path / "certificate.pdf"
    source.write_bytes(pdf)
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return subprocess.run(
        [require_tool("pdftotext"), *pages, str(source), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def require_fallback_font() -> None:
    if fonts.register_fallback_font() is None:
        pytest.skip("IPAmj明朝 not found: install the Debian package fonts-ipamj-mincho")


# --- masking (the rule itself: tests/domain/test_masking.py) ---------------------------


def test_an_item_refuses_a_name_that_is_not_masked() -> None:
    for unmasked in ("髙橋 花子", "髙橋花子", "髙橋 ○○"):
        with pytest.raises(ValueError, match="masked_name"):
            CertificateItem("E000000001-1", "123456789012", date(2019, 1, 1), unmasked)
    item = CertificateItem.from_full_name("E1", "T1", date(2019, 1, 1), "髙橋 花子")
    assert item.masked_name == "髙橋○○"
    assert "花子" not in repr(item)


def test_refuses_certificates_that_would_contradict_themselves() -> None:
    with pytest.raises(ValueError, match="add up to 4 but 3 items"):
        make_certificate(rules=[CohortCount("A", "a", 4)])
    with pytest.raises(ValueError, match="issued_at must be timezone-aware"):
        make_certificate(issued_at=datetime(2026, 11, 27, 14, 5))
    with pytest.raises(ValueError, match="64 lower-case hex"):
        make_certificate(audit_head_hash=HEAD[:-1])
    with pytest.raises(ValueError, match="64 lower-case hex"):
        make_certificate(audit_head_hash=HEAD.upper())
    with pytest.raises(ValueError, match="without contractor_name"):
        make_certificate(contractor_name=None)


# --- what the certificate says ----------------------------------------------------------------


def test_certificate_shows_every_element_of_spec_5(tmp_path: Path) -> None:
    require_fallback_font()
    pdf = render_certificate(make_certificate())
    text = "\n".join(page_texts(pdf))

    assert "廃棄証明書" in text
    assert "D2026-000042" in text
    assert "熊本市" in text and "中央区役所 区民課" in text
    assert "返戻された通知カード等を、下記のとおり廃棄したことを証明します。" in text
    assert "令和2年4月1日 (2020-04-01)" in text  # as-of date
    assert "令和8年11月20日 (2026-11-20)" in text  # destruction date
    assert "溶解" in text and "熊本市東区 溶解処理場" in text
    assert "株式会社肥後リサイクル" in text and "第R8-1234号" in text
    assert "令和8年11月27日 14:05" in text  # issued, in Japan time
    # Counts per cohort and the total.
    assert re.search(r"平成30年度返戻分\n[^\n]*保存期間 1年\n\s*2件\n", text)
    assert re.search(r"令和元年度返戻分\n[^\n]*保存期間 1年\n\s*1件\n", text)
    assert re.search(r"合計\s*3件", text)
    assert "廃棄 3件、除外 2件" in text
    # The destroyed items: number, tracking number, return date, masked name.
    for item, masked in zip(household(), PEOPLE.values(), strict=True):
        assert item.control_no in text and item.tracking_no in text
        assert masked in text
    assert "平成31年3月31日 (2019-03-31)" in text
    # Skipped items with the reason.
    assert "E000000200-1" in text and "作成後に交付済み（受領書 H000000031）" in text
    assert "E000000201-2" in text and "保留中（情報公開請求への対応）" in text
    # Who did what, and the audit-chain head, the hash in full on one line.
    for person in ("記録 一郎", "監査 次郎", "実施 三郎", "立会 四郎"):
        assert person in text
    assert "48213" in text
    assert HEAD in text
    assert "以上" in text
    assert "𠮷田○○" in poppler_text(pdf, tmp_path)  # and poppler reads 𠮷 back too


def test_no_given_name_is_printed_anywhere(tmp_path: Path) -> None:
    pdf = render_certificate(make_certificate())
    extracted = "\n".join(page_texts(pdf)) + poppler_text(pdf, tmp_path)
    reader = PdfReader(io.BytesIO(pdf))
    metadata = " ".join(str(v) for v in (reader.metadata or {}).values())

    for given in GIVEN_NAMES:
        assert given not in extracted
        assert given not in metadata
    assert MASK in extracted


def test_without_contractor_or_skipped_items_the_certificate_says_so() -> None:
    text = "\n".join(
        page_texts(
            render_certificate(
                make_certificate(contractor_name=None, contractor_certificate_no=None, skipped=[])
            )
        )
    )

    assert "委託業者" not in text
    assert re.search(r"除外したもの（0件）\s*なし", text)


def test_a_batch_whose_items_were_all_skipped_still_gets_a_certificate() -> None:
    text = "\n".join(
        page_texts(render_certificate(make_certificate(items=[], rules=[CohortCount("A", "a", 0)])))
    )

    assert re.search(r"一覧（0件）\s*なし", text)
    assert "E000000200-1" in text


def test_markup_characters_are_printed_as_written() -> None:
    text = "\n".join(
        page_texts(
            render_certificate(
                make_certificate(place="倉庫 <B&C>", skipped=[SkippedItem("E1", "T1", "a<b>&c")])
            )
        )
    )

    assert "倉庫 <B&C>" in text and "a<b>&c" in text


def test_sha256_of_is_the_hex_digest_of_the_file() -> None:
    pdf = render_certificate(make_certificate())

    assert sha256_of(pdf) == hashlib.sha256(pdf).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", sha256_of(pdf))


# --- many items ----------------------------------------------------------------------------


def test_long_lists_repeat_the_header_and_number_every_page() -> None:
    certificate = many(150)
    texts = page_texts(render_certificate(certificate))
    total = len(texts)

    assert total >= 4
    for number, text in enumerate(texts, start=1):
        assert f"{number} / {total}" in text
        assert "D2026-000042" in text  # every page says which certificate it belongs to
    list_pages = [text for text in texts if "E7000" in text]
    assert len(list_pages) >= 3
    for text in list_pages:
        assert re.search(r"No\.\s*管理番号\s*お問い合わせ番号\s*返戻日\s*氏名", text), text[:200]
    everything = "\n".join(texts)
    for item in certificate.items:
        assert everything.count(item.control_no) == 1
    assert "以上" in texts[-1] and "以上" not in texts[-2]


def test_ten_thousand_items_render_and_the_first_and_last_pages_look_right(
    tmp_path: Path,
) -> None:
    pdftoppm = require_tool("pdftoppm")
    certificate = many(10_000)
    pdf = render_certificate(certificate)
    total = len(PdfReader(io.BytesIO(pdf)).pages)
    source = tmp_path / "certificate.pdf"
    source.write_bytes(pdf)

    assert total > 200
    first, last = poppler_text(pdf, tmp_path, 1, 1), poppler_text(pdf, tmp_path, total, total)
    assert f"1 / {total}" in first and "廃棄 10,000件" in first
    assert f"{total} / {total}" in last and "以上" in last
    end_of_list = poppler_text(pdf, tmp_path, total - 1, total)
    assert certificate.items[-1].control_no in end_of_list and "10000" in end_of_list
    for page in (1, total):
        png = tmp_path / f"page-{page}"
        pages = ["-f", str(page), "-l", str(page), "-singlefile"]
        subprocess.run(
            [pdftoppm, "-r", "70", "-png", *pages, str(source), str(png)],
            check=True,
            capture_output=True,
        )
        assert (tmp_path / f"page-{page}.png").stat().st_size > 5_000  # not a blank page


# --- fonts, bytes, metadata ----------------------------------------------------------------


def _base_fonts(pdf: bytes) -> set[str]:
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        page_fonts = resources.get("/Font", DictionaryObject()).get_object()
        assert isinstance(page_fonts, DictionaryObject)
        for ref in page_fonts.values():
            font = ref.get_object()
            assert isinstance(font, DictionaryObject)
            descriptor = font["/FontDescriptor"].get_object()
            assert isinstance(descriptor, DictionaryObject)
            assert "/FontFile2" in descriptor, font["/BaseFont"]
            assert "/ToUnicode" in font
            found.add(str(font["/BaseFont"]).split("+")[1])
    return found


def test_every_font_is_embedded(tmp_path: Path) -> None:
    require_fallback_font()
    pdf = render_certificate(many(100))
    source = tmp_path / "certificate.pdf"
    source.write_bytes(pdf)
    listing = subprocess.run(
        [require_tool("pdffonts"), str(source)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]  # two header lines

    assert listing
    for line in listing:
        assert line.split()[-5] == "yes", line  # emb, read from the right
    expected = {"IPAexMincho", "IPAexGothic"}
    if fonts.register_mono_font() is not None:
        expected.add("DejaVuSansMono")
    assert _base_fonts(pdf) == expected
    assert "IPAmjMincho" in _base_fonts(render_certificate(make_certificate()))  # for 𠮷


def test_same_certificate_gives_byte_identical_pdfs_even_in_a_fresh_process() -> None:
    first = render_certificate(make_certificate())
    script = (
        "import sys\n"
        "from tests.pdf.test_certificate import make_certificate\n"
        "from tracker.pdf.certificate import render_certificate, sha256_of\n"
        "sys.stdout.write(sha256_of(render_certificate(make_certificate())))\n"
    )
    other_process = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout

    assert render_certificate(make_certificate()) == first
    assert other_process == sha256_of(first)
    assert render_certificate(make_certificate(certificate_no="D2026-000043")) != first
    later = make_certificate(issued_at=ISSUED + timedelta(minutes=1))
    assert render_certificate(later) != first


@pytest.mark.parametrize("ascii85", [True, False], ids=["ascii85", "binary"])
def test_pages_encoded_as_they_end_write_the_bytes_reportlab_would(
    monkeypatch: pytest.MonkeyPatch, ascii85: bool
) -> None:
    """Pages are compressed when they end, not kept as text until the end (issue 18: memory of a
    100,000-item certificate); the file is the same, so a recorded SHA-256 still verifies."""
    from reportlab import rl_config

    from tracker.pdf import layout

    monkeypatch.setattr(rl_config, "useA85", int(ascii85))
    certificate = many(300)
    held: list[Any] = []
    encode_now = layout._compress_now

    def watching(page: Any) -> None:
        encode_now(page)
        held.append(page)

    monkeypatch.setattr(layout, "_compress_now", watching)
    early = render_certificate(certificate)
    monkeypatch.setattr(layout, "_compress_now", lambda page: None)
    at_save = render_certificate(certificate)

    assert early == at_save
    assert len(held) > 5
    assert all(page.stream is None for page in held)
    assert len(PdfReader(io.BytesIO(early)).pages) == len(held)


def test_metadata_names_the_document_but_nothing_in_it() -> None:
    metadata = PdfReader(io.BytesIO(render_certificate(make_certificate()))).metadata

    assert metadata is not None
    assert metadata.title == "廃棄証明書"
    assert metadata.author == "tracker"
    values = " ".join(str(v) for v in metadata.values())
    for text in ("D2026-000042", "髙橋", "熊本市", "記録 一郎", "E000000120-1"):
        assert text not in values


def test_a_latin_name_is_printed_as_the_family_name_and_initials(tmp_path: Path) -> None:
    """Issue 14: ``SMITH John Paul`` → ``SMITH J. P.``; Japanese names keep ○○, as before."""
    latin = [
        CertificateItem.from_full_name("E000000130-1", "123456789020", date(2019, 3, 1), name)
        for name in ("SMITH John Paul", "Maria GARCIA", "ＮＧＵＹＥＮ　Ｖａｎ　Ａｎ")
    ]
    pdf = render_certificate(
        make_certificate(
            items=household() + latin, rules=[CohortCount("平成30年度返戻分", "保存期間 1年", 6)]
        )
    )
    (tmp_path / "latin.pdf").write_bytes(pdf)
    text = poppler_text(pdf, tmp_path)
    for masked in ("SMITH J. P.", "GARCIA M.", "NGUYEN V. A.", "髙橋○○"):
        assert masked in text, masked
    for given in ("John", "Paul", "Maria", "Van", "Ａｎ", *GIVEN_NAMES):
        assert given not in text, given
    with pytest.raises(ValueError, match="masked_name"):
        CertificateItem("E1", "T1", date(2019, 1, 1), "SMITH John")


def test_certificates_of_japanese_names_are_unchanged_by_the_latin_rule() -> None:
    """Masked names of existing data are as before, so a reprint is byte-identical."""
    assert [item.masked_name for item in household()] == list(PEOPLE.values())
