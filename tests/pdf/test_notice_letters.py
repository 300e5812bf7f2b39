"""The merged letters PDF (issue 15 "Must show"): 1,000 letters under two rules with different
return dates render one per page, and the text of specific pages (first, some in the middle,
last) shows each person's own last day to collect in 和暦."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests import factories_notices as fn
from tests.factories import NOW, TODAY
from tracker.db import Database
from tracker.domain.codes import NoticeMethod
from tracker.domain.wareki import format_wareki
from tracker.models import Item, NoticeBatch
from tracker.pdf.notices import LetterPage, LetterTooLong, render_letters, split_postal
from tracker.services import notices

LETTERS = 1000
#: Envelope n is returned on PATTERN[n % 3][0] and its letter shows PATTERN[n % 3][1].
PATTERN = (fn.RETURNED_A, fn.RETURNED_A2, fn.RETURNED_B)


def test_a_thousand_letters_one_per_page_with_each_last_day(
    database: Database, tmp_path: Path
) -> None:
    fn.rules(database)
    ids = fn.many(database, [PATTERN[n % 3][0] for n in range(LETTERS)])
    with database.session_scope() as session:
        numbers = session.scalars(
            select(Item.control_no).where(Item.id.in_(ids)).order_by(Item.control_no)
        ).all()
        sent = notices.send(
            session,
            actor="officer1",
            selection=notices.by_hand("\n".join(numbers)),
            as_of=TODAY,
            sent_on=TODAY,
            method=NoticeMethod.ORDINARY,
            now=NOW,
            today=TODAY,
        )
        assert sent.letters == LETTERS and not sent.excluded
        batch_id = sent.batch.id
    path = tmp_path / "letters.pdf"
    with database.session_scope() as session:
        batch = session.get(NoticeBatch, batch_id)
        assert batch is not None
        with path.open("wb") as out:
            tally = notices.write_letters(session, batch, out)
    reader = PdfReader(path)
    assert len(reader.pages) == tally.letters == LETTERS
    for page in (0, 1, 2, 500, 998, 999):
        text = reader.pages[page].extract_text().replace("\u3000", " ")
        # letters in control-number order: page n is envelope n's person
        assert f"通知 太郎{page} 様" in text, (page, text[:200])
        assert f"{format_wareki(PATTERN[page % 3][1])}までに" in text, page
        assert numbers[page] in text and batch.batch_no in text
    # rule B counts from the sending: without it these items had no last day at all
    assert "令和9年2月27日までに" in reader.pages[2].extract_text()
    assert "令和9年3月31日までに" in reader.pages[0].extract_text()
    assert "令和9年5月31日までに" in reader.pages[1].extract_text()
    assert "令和9年3月31日までに" in reader.pages[999].extract_text()


def test_a_name_beyond_ipaex_and_the_postal_block(tmp_path: Path) -> None:
    out = io.BytesIO()
    pages = [
        LetterPage(
            "𠮷田 太郎", "〒8600001 熊本市中央区千葉城町1-1", "E000000001-1", "表題", "本文"
        ),
    ]
    assert render_letters(out, pages, sent_on=TODAY, sender="熊本市", batch_no="N000000001") == 1
    text = PdfReader(io.BytesIO(out.getvalue())).pages[0].extract_text()
    assert "〒860-0001" in text and "熊本市中央区千葉城町1-1" in text
    assert "田 太郎" in text and "令和8年11月27日" in text
    assert split_postal("熊本市中央区") == (None, "熊本市中央区")


def _send_all(database: Database, ids: list[int]) -> int:
    with database.session_scope() as session:
        numbers = session.scalars(select(Item.control_no).where(Item.id.in_(ids))).all()
        sent = notices.send(
            session,
            actor="officer1",
            selection=notices.by_hand("\n".join(numbers)),
            as_of=TODAY,
            sent_on=TODAY,
            method=NoticeMethod.ORDINARY,
            now=NOW,
            today=TODAY,
        )
        return sent.batch.id


def _letters_text(database: Database, batch_id: int) -> list[str]:
    out = io.BytesIO()
    with database.session_scope() as session:
        batch = session.get(NoticeBatch, batch_id)
        assert batch is not None
        notices.write_letters(session, batch, out)
    reader = PdfReader(io.BytesIO(out.getvalue()))
    return [page.extract_text().replace("\u3000", " ").replace("\n", "") for page in reader.pages]


def test_letters_name_the_documents_and_the_place_where_the_card_is_kept(
    database: Database,
) -> None:
    fn.rules(database)
    at_centre = fn.many(database, [fn.RETURNED_A[0]])
    at_east = fn.many(database, [fn.RETURNED_A[0]], start=1, location="HIGASHI")
    centre, east = _letters_text(database, _send_all(database, at_centre + at_east))
    assert "受け取り場所 東区役所" in east
    assert "中央区役所" not in east.split("受付時間")[0].split("受け取り場所")[1]
    assert "受け取り場所 中央区役所1階 熊本市マイナンバーセンター" in centre
    for text in (centre, east):
        # the documents by name, not the staff shorthand of the handover page
        assert "A群" not in text and "B群" not in text
        assert "マイナンバーカード、運転免許証、運転経歴証明書など" in text
        assert "介護保険証、年金手帳・年金証書など2点" in text
        assert "委任状" in text  # the proxy sentence stays
        assert "問い合わせ先" in text


def test_a_letter_too_long_for_its_page_is_refused_not_cut(database: Database) -> None:
    fn.rules(database)
    ids = fn.many(database, [fn.RETURNED_A[0]])
    fn.long_template(database)
    batch_id = _send_all(database, ids)
    with pytest.raises(LetterTooLong, match=r"1ページに収まりません.*約\d+行はみ出します"):
        _letters_text(database, batch_id)
