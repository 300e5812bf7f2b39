"""受領書 (handover receipt): what it says, for every kind of recipient, reprints, page breaks
with the header repeated, embedded fonts, names beyond IPAex (𠮷), reproducible bytes, and a
page that keeps its ink inside the margins (rendered with poppler's pdftoppm)."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from tracker.domain.wareki import format_wareki
from tracker.pdf import fonts
from tracker.pdf.layout import MM
from tracker.pdf.receipt import Receipt, ReceiptItem, render_receipt

#: 2026-11-27 14:05 in Japan.
ISSUED = datetime(2026, 11, 27, 5, 5, tzinfo=UTC)
YOSHIDA = "𠮷田 太郎"  # 𠮷 U+20BB7: not in IPAex, in IPAmj明朝


def household() -> list[ReceiptItem]:
    return [
        ReceiptItem("R000000123", YOSHIDA, "ヨシダ タロウ", date(1975, 4, 1), "通知カード"),
        ReceiptItem("R000000124", "髙橋 花子", "タカハシ ハナコ", date(2019, 5, 1), "通知カード"),
        ReceiptItem(
            "R000000125", "齋藤 一", "サイトウ ハジメ", date(1926, 12, 25), "個人番号通知書"
        ),
    ]


def make_receipt(**changes: Any) -> Receipt:
    receipt = Receipt(
        receipt_no="H000000042",
        issued_at=ISSUED,
        addressee="江戸川区長",
        items=household(),
        recipient_kind_label="同一世帯員",
        recipient_name="髙橋 一郎",
        documents=["運転免許証（末尾1234）"],
        principal_documents=[],
        letter_of_attorney_date=None,
        authority_proof=None,
        clerk_name="佐藤 次郎",
        policy_version=3,
    )
    return replace(receipt, **changes)


def many_items(count: int) -> list[ReceiptItem]:
    return [
        ReceiptItem(
            f"R{900000000 + i:09d}", f"山田 {i}郎", "ヤマダ", date(1980, 1, 1), "通知カード"
        )
        for i in range(count)
    ]


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"`{name}` not found: install the Debian package {package} to run this check")
    return path


def require_fallback_font() -> str:
    name = fonts.register_fallback_font()
    if name is None:
        pytest.skip("IPAmj明朝 not found: install the Debian package fonts-ipamj-mincho")
    return name


def render_png(
    pdf: bytes, tmp_path: Path, page: int = 1, dpi: int = 100, gray: bool = False
) -> Path:
    pdftoppm = require_tool("pdftoppm", "poppler-utils")
    source = tmp_path / "receipt.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / f"receipt-{page}"
    subprocess.run(
        [
            pdftoppm,
            "-r",
            str(dpi),
            "-gray" if gray else "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(source),
            str(prefix),
        ],
        check=True,
        capture_output=True,
    )
    return prefix.with_suffix(".pgm" if gray else ".png")


# --- what the receipt says -----------------------------------------------------------------


def test_receipt_shows_number_items_recipient_documents_clerk_and_time_in_jst() -> None:
    receipt = make_receipt()
    (text,) = page_texts(render_receipt(receipt))

    assert "受領書" in text
    assert "H000000042" in text
    assert "（宛先）江戸川区長" in text
    assert "下記の通知カード等を受領しました。" in text
    for item in receipt.items:
        assert item.control_no in text
        assert item.name_kana in text
        assert format_wareki(item.birth_date) in text
    assert "髙橋 花子" in text and "齋藤 一" in text
    assert "個人番号通知書" in text
    assert "同一世帯員" in text and "髙橋 一郎" in text
    assert "運転免許証（末尾1234）" in text
    assert "佐藤 次郎" in text
    assert "第3版" in text
    assert "令和8年11月27日 14:05" in text  # 05:05 UTC is 14:05 in Japan
    assert "受領者署名" in text and "日付" in text
    assert "1 / 1" in text
    assert "再発行" not in text


def test_self_receipt_has_no_proxy_rows() -> None:
    (text,) = page_texts(
        render_receipt(make_receipt(recipient_kind_label="本人", recipient_name=None))
    )

    assert "本人" in text
    assert "受領者氏名" not in text
    assert "委任状" not in text
    assert "代理権" not in text


def test_proxy_receipt_shows_letter_date_and_the_principals_documents() -> None:
    receipt = make_receipt(
        recipient_kind_label="任意代理人",
        recipient_name="鈴木 三郎",
        letter_of_attorney_date=date(2026, 10, 1),
        principal_documents=["健康保険証", "年金手帳・年金証書"],
    )
    (text,) = page_texts(render_receipt(receipt))

    assert "任意代理人" in text and "鈴木 三郎" in text
    assert "委任状の日付" in text and "令和8年10月1日" in text
    assert "健康保険証、年金手帳・年金証書" in text
    assert "代理権" not in text


def test_legal_representative_receipt_shows_the_proof_of_authority() -> None:
    receipt = make_receipt(
        recipient_kind_label="法定代理人", recipient_name="髙橋 一郎", authority_proof="戸籍謄本"
    )
    (text,) = page_texts(render_receipt(receipt))

    assert "法定代理人" in text
    assert "代理権の確認書類" in text and "戸籍謄本" in text
    assert "委任状" not in text


def test_reprint_is_marked_on_every_page_with_the_original_time() -> None:
    reprint = make_receipt(
        items=many_items(40),
        issued_at=datetime(2026, 12, 3, 1, 30, tzinfo=UTC),
        reprint_of=ISSUED,
    )
    texts = page_texts(render_receipt(reprint))

    assert len(texts) > 1
    assert all("再発行" in text for text in texts)
    assert "原本発行日時 令和8年11月27日 14:05" in texts[0]
    assert "発行日時 令和8年12月3日 10:30" in texts[0]
    original = page_texts(render_receipt(make_receipt(items=many_items(40))))
    assert not any("再発行" in text or "原本" in text for text in original)


def test_a_voided_handover_reprints_stamped_with_the_time_and_reason_on_every_page() -> None:
    voided = make_receipt(
        items=many_items(40),
        issued_at=datetime(2026, 11, 27, 7, 0, tzinfo=UTC),
        reprint_of=ISSUED,
        voided_at=datetime(2026, 11, 27, 6, 30, tzinfo=UTC),  # 15:30 in Japan
        void_reason="別の世帯の方に誤って交付したため",
    )
    texts = page_texts(render_receipt(voided))

    assert len(texts) > 1
    assert all("取消" in text and "再発行" in text for text in texts)
    assert "この交付は取り消されました（交付取消）。" in texts[0]
    assert "取消日時 令和8年11月27日 15:30" in texts[0]
    assert "取消の理由 別の世帯の方に誤って交付したため" in texts[0]
    assert "保管中に戻りました" in texts[0]
    title = PdfReader(io.BytesIO(render_receipt(voided))).metadata
    assert title is not None and title.title == "受領書（取消・再発行）"
    (standing,) = page_texts(render_receipt(make_receipt()))
    assert "取消" not in standing


def test_a_void_needs_both_its_time_and_its_reason() -> None:
    with pytest.raises(ValueError, match="go together"):
        make_receipt(voided_at=ISSUED)
    with pytest.raises(ValueError, match="go together"):
        make_receipt(void_reason="理由")
    with pytest.raises(ValueError, match="timezone-aware"):
        make_receipt(voided_at=datetime(2026, 11, 27, 15, 0), void_reason="理由")


def test_markup_characters_in_names_are_printed_as_written() -> None:
    item = ReceiptItem("R000000001", "A&B <C>", "エー", date(2000, 1, 1), "通知カード")
    (text,) = page_texts(render_receipt(make_receipt(items=[item], clerk_name="<b>佐藤</b>")))

    assert "A&B <C>" in text
    assert "<b>佐藤</b>" in text


def test_refuses_receipts_that_cannot_be_printed() -> None:
    with pytest.raises(ValueError, match="at least one item"):
        make_receipt(items=[])
    with pytest.raises(ValueError, match="issued_at must be timezone-aware"):
        make_receipt(issued_at=datetime(2026, 11, 27, 14, 5))
    with pytest.raises(ValueError, match="reprint_of must be timezone-aware"):
        make_receipt(reprint_of=datetime(2026, 11, 27, 14, 5))


# --- many items: page breaks -------------------------------------------------------------


def test_long_list_splits_over_pages_with_header_and_page_numbers_on_each() -> None:
    items = many_items(60)
    texts = page_texts(render_receipt(make_receipt(items=items)))
    total = len(texts)

    assert total >= 3
    for number, text in enumerate(texts, start=1):
        assert f"{number} / {total}" in text
        assert "管理番号" in text and "生年月日" in text  # the table header, repeated
        assert "H000000042" in text  # every page says which receipt it belongs to
    everything = "\n".join(texts)
    for item in items:
        assert everything.count(item.control_no) == 1
    assert "受領者署名" in texts[-1]
    assert "受領者署名" not in texts[0]


# --- names beyond IPAex --------------------------------------------------------------------


def test_yoshida_with_tsuchi_yoshi_is_drawn_with_ipamj_and_stays_searchable(
    tmp_path: Path,
) -> None:
    require_fallback_font()
    pdf = render_receipt(make_receipt())

    (text,) = page_texts(pdf)
    assert YOSHIDA in text  # pypdf reads U+20BB7 back, not an empty or wrong character
    assert "\u3013" not in text
    pdftotext = require_tool("pdftotext", "poppler-utils")
    source = tmp_path / "receipt.pdf"
    source.write_bytes(pdf)
    poppler = subprocess.run(
        [pdftotext, str(source), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert YOSHIDA in poppler
    base_fonts = {str(font["/BaseFont"]).split("+")[1] for font in _font_dicts(pdf)}
    assert base_fonts == {"IPAexMincho", "IPAexGothic", "IPAmjMincho"}


def test_ipamj_is_not_embedded_when_every_character_is_in_ipaex() -> None:
    items = [
        ReceiptItem("R000000124", "髙橋 花子", "タカハシ ハナコ", date(2019, 5, 1), "通知カード")
    ]
    base_fonts = {
        str(font["/BaseFont"]).split("+")[1]
        for font in _font_dicts(render_receipt(make_receipt(items=items)))
    }

    assert base_fonts == {"IPAexMincho", "IPAexGothic"}


def test_text_runs_use_ipaex_where_it_can_and_ipamj_only_for_what_it_lacks() -> None:
    names = fonts.register_fonts()
    fallback = require_fallback_font()

    assert fonts.text_runs("髙橋 花子", names.mincho, fallback) == [(names.mincho, "髙橋 花子")]
    assert fonts.text_runs("𠮷田 𠮷", names.mincho, fallback) == [
        (fallback, "𠮷"),
        (names.mincho, "田 "),
        (fallback, "𠮷"),
    ]
    assert not fonts.covers(names.mincho, "𠮷")
    assert fonts.covers(fallback, "𠮷")


def test_characters_no_font_has_become_geta_and_variation_selectors_are_dropped() -> None:
    names = fonts.register_fonts()

    # U+1F642 (an emoji) is in neither font; 葛 + U+E0100 is an IVS sequence.
    assert fonts.text_runs("山\U0001f642田", names.mincho, None) == [(names.mincho, "山〓田")]
    assert fonts.text_runs("𠮷田", names.mincho, None) == [(names.mincho, "〓田")]
    assert fonts.text_runs("葛\U000e0100城", names.mincho, None) == [(names.mincho, "葛城")]
    assert fonts.paragraph_markup("𠮷<", names.mincho, None) == "〓&lt;"


def test_paragraph_markup_wraps_only_fallback_runs_in_a_font_tag() -> None:
    names = fonts.register_fonts()
    fallback = require_fallback_font()

    assert fonts.paragraph_markup("𠮷田 & 子", names.mincho, fallback) == (
        f'<font name="{fallback}">𠮷</font>田 &amp; 子'
    )


def test_to_unicode_maps_write_characters_beyond_the_bmp_as_utf16() -> None:
    from reportlab.pdfbase import ttfonts

    fonts.register_fonts()
    cmap = ttfonts.makeToUnicodeCMap("AAAAAA+X", [0, 0x5409, 0x20BB7])

    assert "<01> <5409>\n" in cmap
    assert "<02> <D842DFB7>\n" in cmap  # 𠮷 as a surrogate pair, not the odd <20BB7>
    assert "20BB7" not in cmap


# --- fonts, bytes, metadata ----------------------------------------------------------------


def _font_dicts(pdf: bytes) -> list[DictionaryObject]:
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        page_fonts = resources.get("/Font", DictionaryObject()).get_object()
        assert isinstance(page_fonts, DictionaryObject)
        for ref in page_fonts.values():
            font = ref.get_object()
            assert isinstance(font, DictionaryObject)
            found.append(font)
    return found


def test_every_font_is_an_embedded_subset_with_a_unicode_map() -> None:
    pdf = render_receipt(make_receipt(items=many_items(30), reprint_of=ISSUED))
    used = _font_dicts(pdf)

    assert used
    for font in used:
        descriptor = font["/FontDescriptor"].get_object()
        assert isinstance(descriptor, DictionaryObject)
        assert "/FontFile2" in descriptor, font["/BaseFont"]
        assert "/ToUnicode" in font
        assert str(font["/BaseFont"]).split("+")[1] in {"IPAexMincho", "IPAexGothic", "IPAmjMincho"}


@pytest.mark.parametrize("reprint_of", [None, ISSUED])
def test_pdffonts_lists_every_font_as_embedded(tmp_path: Path, reprint_of: datetime | None) -> None:
    pdffonts = require_tool("pdffonts", "poppler-utils")
    source = tmp_path / "receipt.pdf"
    source.write_bytes(render_receipt(make_receipt(items=many_items(30), reprint_of=reprint_of)))

    listing = subprocess.run(
        [pdffonts, str(source)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]  # two header lines

    assert listing
    for line in listing:
        # name type [type…] encoding emb sub uni object ID: read emb from the right.
        assert line.split()[-5] == "yes", line


def test_same_receipt_gives_byte_identical_pdfs_even_in_a_fresh_process() -> None:
    first = render_receipt(make_receipt())
    script = (
        "import hashlib, sys\n"
        "from tests.pdf.test_receipt import make_receipt\n"
        "from tracker.pdf.receipt import render_receipt\n"
        "sys.stdout.write(hashlib.sha256(render_receipt(make_receipt())).hexdigest())\n"
    )
    other_process = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout

    assert render_receipt(make_receipt()) == first
    assert other_process == hashlib.sha256(first).hexdigest()
    assert render_receipt(make_receipt(receipt_no="H000000043")) != first


def test_metadata_names_the_document_but_nobody_in_it() -> None:
    receipt = make_receipt()
    metadata = PdfReader(io.BytesIO(render_receipt(receipt))).metadata
    reprint = PdfReader(io.BytesIO(render_receipt(make_receipt(reprint_of=ISSUED)))).metadata

    assert metadata is not None and reprint is not None
    assert metadata.title == "受領書"
    assert reprint.title == "受領書（再発行）"
    assert metadata.author == "tracker"
    values = " ".join(str(v) for v in metadata.values())
    for item in receipt.items:
        assert item.name not in values
        assert item.control_no not in values
    assert "髙橋 一郎" not in values and "佐藤" not in values and "H000000042" not in values


# --- rendered page -------------------------------------------------------------------------


def test_page_renders_and_nothing_is_printed_in_the_side_margins(tmp_path: Path) -> None:
    """A table wider than the text block would run into the margins and be cut by printers."""
    require_fallback_font()
    dpi = 100
    pdf = render_receipt(make_receipt(items=many_items(2) + household(), reprint_of=ISSUED))
    assert render_png(pdf, tmp_path, dpi=dpi).stat().st_size > 0

    data = render_png(pdf, tmp_path, dpi=dpi, gray=True).read_bytes()
    magic, width_s, height_s, maxval, pixels = data.split(maxsplit=4)
    assert (magic, maxval) == (b"P5", b"255")
    width, height = int(width_s), int(height_s)
    margin = round((20 - 1) * MM * dpi / 72)  # the 20 mm margin, less 1 mm for anti-aliasing
    inked_rows = [
        row
        for row in range(height)
        if min(pixels[row * width : row * width + margin]) < 200
        or min(pixels[(row + 1) * width - margin : (row + 1) * width]) < 200
    ]
    assert inked_rows == []
    # …and the page is not blank: the item table is there.
    assert min(pixels) < 50
