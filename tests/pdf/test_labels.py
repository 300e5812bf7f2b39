"""Envelope label sheets: pages, text, embedded fonts, reproducible bytes, and barcodes that a
scanner really reads back (rendered with poppler's pdftoppm, decoded with zbar's zbarimg)."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from tracker.domain.wareki import format_wareki
from tracker.pdf import fonts
from tracker.pdf.labels import A_ONE_12, EnvelopeLabel, LabelSheet, render_envelope_labels
from tracker.pdf.layout import MM

DPI = 300
LOCATIONS = (
    "中央区役所1階 熊本市マイナンバーセンター",
    "東区役所",
    "西区役所",
    "南区役所",
    "北区役所",
)


def make_labels(count: int) -> list[EnvelopeLabel]:
    """Distinct control numbers (zbar reports equal symbols once) with varied dates and slots."""
    return [
        EnvelopeLabel(
            control_no=f"E{123 + i * 7919:09d}",
            returned_on=date(2018, 4, 1) + timedelta(days=11 * i),
            slot=f"H30-{i % 12 + 1:02d}-B{i:03d}",
            location=LOCATIONS[i % len(LOCATIONS)],
        )
        for i in range(count)
    ]


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"`{name}` not found: install the Debian package {package} to run this check")
    return path


def render_page(pdf: bytes, page: int, tmp_path: Path, fmt: str = "png") -> Path:
    """Page `page` (1-based) of `pdf` as a PNG (or PGM, for pixel checks) at DPI dots per inch."""
    pdftoppm = require_tool("pdftoppm", "poppler-utils")
    source = tmp_path / "labels.pdf"
    source.write_bytes(pdf)
    prefix = tmp_path / f"page{page}"
    options = ["-png"] if fmt == "png" else ["-gray"]
    subprocess.run(
        [
            pdftoppm,
            "-r",
            str(DPI),
            *options,
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
    return prefix.with_suffix(".png" if fmt == "png" else ".pgm")


@pytest.mark.parametrize(("count", "pages"), [(1, 1), (12, 1), (13, 2), (30, 3)])
def test_twelve_labels_fill_one_a4_page(count: int, pages: int) -> None:
    reader = PdfReader(io.BytesIO(render_envelope_labels(make_labels(count))))

    assert len(reader.pages) == pages
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / MM), round(height / MM)) == (210, 297)


def test_skip_leaves_used_positions_of_the_first_sheet_empty() -> None:
    labels = make_labels(12)
    reader = PdfReader(io.BytesIO(render_envelope_labels(labels, skip=3)))

    assert len(reader.pages) == 2
    first, second = (page.extract_text() for page in reader.pages)
    assert [label.control_no in first for label in labels] == [True] * 9 + [False] * 3
    assert all(label.control_no in second for label in labels[9:])


def test_each_page_shows_its_labels_control_number_dates_slot_and_location() -> None:
    labels = make_labels(30)
    reader = PdfReader(io.BytesIO(render_envelope_labels(labels)))

    for number, page in enumerate(reader.pages):
        text = page.extract_text()
        on_page = labels[number * 12 : (number + 1) * 12]
        for label in on_page:
            assert label.control_no in text
            assert format_wareki(label.returned_on) in text  # e.g. 平成30年4月1日
            assert f"({label.returned_on.isoformat()})" in text
            assert f"位置 {label.slot}" in text
            assert f"保管場所 {label.location}" in text
        for label in labels:
            if label not in on_page:
                assert label.control_no not in text


def test_return_date_is_shown_in_wareki_with_iso_beside_it() -> None:
    label = EnvelopeLabel("E000000123", date(2020, 3, 31), "H30-04-B017", "東区役所")
    text = PdfReader(io.BytesIO(render_envelope_labels([label]))).pages[0].extract_text()

    assert "令和2年3月31日 (2020-03-31)" in text


def test_missing_slot_and_location_leave_no_empty_captions() -> None:
    labels = [
        EnvelopeLabel("E000000001", date(2019, 5, 1), None, "東区役所"),
        EnvelopeLabel("E000000002", date(2019, 5, 1), None, None),
    ]
    text = PdfReader(io.BytesIO(render_envelope_labels(labels))).pages[0].extract_text()

    assert "令和元年5月1日" in text
    assert text.count("保管場所 東区役所") == 1
    assert "位置" not in text


def _font_dicts(reader: PdfReader) -> list[DictionaryObject]:
    """Every font named in the pages' resources (the descendant font of a Type0 font)."""
    found = []
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        assert isinstance(resources, DictionaryObject)
        page_fonts = resources.get("/Font", DictionaryObject()).get_object()
        assert isinstance(page_fonts, DictionaryObject)
        for ref in page_fonts.values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type0":
                font = font["/DescendantFonts"][0].get_object()
            assert isinstance(font, DictionaryObject)
            found.append(font)
    return found


def test_every_font_is_embedded_ipaex_and_text_is_extractable() -> None:
    reader = PdfReader(io.BytesIO(render_envelope_labels(make_labels(13))))
    used = _font_dicts(reader)

    assert used
    for font in used:
        descriptor = font["/FontDescriptor"].get_object()
        assert isinstance(descriptor, DictionaryObject)
        assert "/FontFile2" in descriptor, font["/BaseFont"]
        assert str(font["/BaseFont"]).endswith("+IPAexGothic")  # a subset, never HeiseiMin
        assert "/ToUnicode" in font


def test_pdffonts_lists_every_font_as_embedded(tmp_path: Path) -> None:
    pdffonts = require_tool("pdffonts", "poppler-utils")
    source = tmp_path / "labels.pdf"
    source.write_bytes(render_envelope_labels(make_labels(13)))

    listing = subprocess.run(
        [pdffonts, str(source)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]  # two header lines

    assert listing
    for line in listing:
        # name type [type…] encoding emb sub uni object ID: read emb from the right.
        emb = line.split()[-5]
        assert emb == "yes", line


def test_same_labels_give_byte_identical_pdfs_even_in_a_fresh_process() -> None:
    labels = make_labels(14)
    first = render_envelope_labels(labels)
    script = (
        "import hashlib, sys\n"
        "from tests.pdf.test_labels import make_labels\n"
        "from tracker.pdf.labels import render_envelope_labels\n"
        "sys.stdout.write(hashlib.sha256(render_envelope_labels(make_labels(14))).hexdigest())\n"
    )
    other_process = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout

    assert render_envelope_labels(labels) == first
    assert other_process == hashlib.sha256(first).hexdigest()
    assert render_envelope_labels(make_labels(13)) != first


def test_metadata_names_the_document_but_no_label_data() -> None:
    labels = make_labels(3)
    metadata = PdfReader(io.BytesIO(render_envelope_labels(labels))).metadata

    assert metadata is not None
    assert metadata.title == "返戻郵便 封筒ラベル"
    assert metadata.author == "tracker"
    values = " ".join(str(v) for v in metadata.values())
    for label in labels:
        assert label.control_no not in values
        assert str(label.slot) not in values


@pytest.mark.parametrize("page", [1, 2])
def test_barcodes_scan_back_to_the_control_numbers_on_the_page(page: int, tmp_path: Path) -> None:
    zbarimg = require_tool("zbarimg", "zbar-tools")
    labels = make_labels(14)
    png = render_page(render_envelope_labels(labels), page, tmp_path)

    scan = subprocess.run(
        [zbarimg, "--raw", "-q", "-Scode128.enable", str(png)], capture_output=True, text=True
    )
    assert scan.returncode in (0, 4), scan.stderr  # 4: the image holds no barcode at all
    decoded = scan.stdout.split()

    on_page = labels[(page - 1) * 12 : page * 12]
    assert sorted(decoded) == sorted(label.control_no for label in on_page)


def test_the_location_is_printed_by_its_name_on_a_line_of_its_own(tmp_path: Path) -> None:
    """The long default name fits (shrunk if need be), beside the slot; the barcode still reads."""
    label = EnvelopeLabel("E000000490", date(2018, 6, 1), "H30-06-A001", LOCATIONS[0])
    pdf = render_envelope_labels([label])
    lines = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()

    assert "保管場所 中央区役所1階 熊本市マイナンバーセンター" in lines
    assert "位置 H30-06-A001" in lines
    assert "CHUO" not in " ".join(lines)
    zbarimg = require_tool("zbarimg", "zbar-tools")
    png = render_page(pdf, 1, tmp_path)
    scan = subprocess.run(
        [zbarimg, "--raw", "-q", "-Scode128.enable", str(png)], capture_output=True, text=True
    )
    assert scan.stdout.split() == ["E000000490"]


@pytest.mark.parametrize("skip", [0, 5, 11])
def test_a_start_position_leaves_the_used_cells_blank(skip: int, tmp_path: Path) -> None:
    """Started at position ``skip + 1`` of a partly used sheet: no ink in the cells before it,
    a label in each cell from it, and every barcode still decodes."""
    labels = make_labels(3)
    pdf = render_envelope_labels(labels, skip=skip)
    width, height, pixels = _read_pgm(render_page(pdf, 1, tmp_path, fmt="pgm"))
    px = DPI / 72

    def inked(position: int) -> bool:
        x, y, w, h = A_ONE_12.label_box(position)
        top, bottom = round(height - (y + h) * px), round(height - y * px)
        left, right = round(x * px), round((x + w) * px)
        return any(
            min(pixels[row * width + left : row * width + right]) < 200
            for row in range(top, bottom, 2)
        )

    used = [inked(position) for position in range(A_ONE_12.per_page)]
    first_page = min(3, A_ONE_12.per_page - skip)
    assert used == [False] * skip + [True] * first_page + [False] * (12 - skip - first_page)
    zbarimg = require_tool("zbarimg", "zbar-tools")
    decoded = []
    for page in range(1, len(PdfReader(io.BytesIO(pdf)).pages) + 1):
        png = render_page(pdf, page, tmp_path)
        scan = subprocess.run(
            [zbarimg, "--raw", "-q", "-Scode128.enable", str(png)], capture_output=True, text=True
        )
        decoded += scan.stdout.split()
    assert sorted(decoded) == sorted(label.control_no for label in labels)


def _read_pgm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    magic, width, height, maxval, pixels = data.split(maxsplit=4)
    assert (magic, maxval) == (b"P5", b"255")
    return int(width), int(height), pixels


def test_nothing_is_printed_outside_the_labels_safe_area(tmp_path: Path) -> None:
    """Ink only inside each label minus its padding, so a misfed sheet cuts nothing off."""
    long_slot = "第三書庫 奥の棚 上から二段目 左端の箱 " * 2  # shrunk, then cut with …
    labels = [
        *make_labels(11),
        EnvelopeLabel("E999999999", date(2019, 5, 1), long_slot, "南区役所"),
    ]
    width, height, pixels = _read_pgm(
        render_page(render_envelope_labels(labels), 1, tmp_path, fmt="pgm")
    )
    px = DPI / 72  # pixels per point
    tolerance = 0.3 * MM * px  # anti-aliasing
    safe = []  # (top, bottom, left, right) in pixels, rows counted from the top
    for position in range(A_ONE_12.per_page):
        x, y, w, h = A_ONE_12.label_box(position)
        pad = A_ONE_12.padding * MM
        safe.append(
            (
                height - (y + h - pad) * px - tolerance,
                height - (y + pad) * px + tolerance,
                round((x + pad) * px - tolerance),
                round((x + w - pad) * px + tolerance),
            )
        )

    stray = []
    for row in range(height):
        line = pixels[row * width : (row + 1) * width]
        if min(line) >= 200:
            continue
        edges = [0, width]
        for top, bottom, left, right in safe:
            if top <= row <= bottom:
                edges[-1:-1] = [left, right]
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            if start < end and min(line[start:end]) < 200:
                stray.append(row)

    assert stray == []
    assert (
        "保管場所 南区役所"
        in PdfReader(io.BytesIO(render_envelope_labels(labels))).pages[0].extract_text()
    )


def test_refuses_what_cannot_be_printed_as_a_label() -> None:
    sheet = LabelSheet()
    day = date(2019, 5, 1)

    with pytest.raises(ValueError, match="no labels"):
        sheet.render([])
    with pytest.raises(ValueError, match="Code128"):
        sheet.render([EnvelopeLabel("Ｅ000000123", day, None, None)])  # full-width E
    with pytest.raises(ValueError, match="too long"):
        sheet.render([EnvelopeLabel("E" + "X" * 40, day, None, None)])
    with pytest.raises(ValueError, match="skip"):
        sheet.render(make_labels(1), skip=12)


# --- fonts (tracker.pdf.fonts, shared with receipts and certificates) -----------------------


def test_font_dir_from_the_environment_is_searched_first(tmp_path: Path) -> None:
    system = fonts.locate_fonts({})
    for path in system.values():
        (tmp_path / path.name).symlink_to(path)

    found = fonts.locate_fonts({fonts.FONT_DIR_ENV: str(tmp_path)})

    assert set(found) == {"IPAexGothic", "IPAexMincho"}
    assert all(path.parent == tmp_path for path in found.values())


def test_missing_font_names_the_debian_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = tuple(replace(font, system_dirs=(str(tmp_path),)) for font in fonts._FONTS)
    monkeypatch.setattr(fonts, "_FONTS", nowhere)

    with pytest.raises(fonts.FontNotFoundError) as error:
        fonts.locate_fonts({})

    assert "fonts-ipaexfont-gothic" in str(error.value)
    assert "fonts-ipaexfont-mincho" in str(error.value)
    assert fonts.FONT_DIR_ENV in str(error.value)


def test_register_fonts_returns_the_same_names_every_time() -> None:
    names = fonts.register_fonts()

    assert names == fonts.register_fonts() == fonts.FontNames("IPAexGothic", "IPAexMincho")
