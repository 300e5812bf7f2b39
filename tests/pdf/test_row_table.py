"""Long lists (tracker.pdf.row_table): the shortcut for short ASCII cells lays them out exactly
as the full line breaker does (issue 18: 100,000 certificate rows measured every cell twice)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.pdf.fonts import register_fallback_font, register_fonts
from tracker.pdf.row_table import TextSetter


def setter() -> TextSetter:
    return TextSetter(register_fonts().mincho, register_fallback_font(), 9)


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=30)
    | st.from_regex(r"E[0-9]{9}-[0-9]{1,2}|[0-9]{12}|[0-9]{1,6}", fullmatch=True),
    width=st.floats(min_value=5, max_value=200),
)
def test_a_short_ascii_cell_is_laid_out_as_the_line_breaker_would(text: str, width: float) -> None:
    cells = setter()
    full = cells.cell(text, width)

    assert cells.line_count(text, width) == len(full)
    left = cells.left_cell(text, width)
    assert [line.runs for line in left] == [line.runs for line in full]


def test_codes_and_numbers_of_a_certificate_row_fit_without_measuring() -> None:
    cells = setter()
    # 管理番号 30 mm and お問い合わせ番号 36 mm, less 4 pt of padding each side
    assert cells.fits_unmeasured("E700000000-1", 30 * 72 / 25.4 - 8)
    assert cells.fits_unmeasured("500000000000", 36 * 72 / 25.4 - 8)
    assert not cells.fits_unmeasured("髙橋○○", 200)  # measured: not ASCII
    assert not cells.fits_unmeasured("E700000000-1", 20)  # wraps
