"""Round trip of nasty names (issue #7, SPEC §6.2: names are stored exactly as given).

Each name goes in through the intake form, is shown unchanged on the item page, comes out
unchanged in the UTF-8 disposal CSV (平成30年度 cohort, as of 2020-04-01), and an import CSV
built from that export's cells brings the very same string back into the database.
"""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from tests.factories import tracking_no
from tests.helpers import csrf_token
from tests.security.support import import_rows, row
from tracker.domain.codes import Role
from tracker.models import Item

NAMES = [
    "𠮷田 花子",
    "髙橋 一郎",
    "﨑山 次郎",
    "葛\U000e0100城 三郎",
    "ﾊﾟﾋﾟﾌﾟ",
    "①② 四郎",
    "㈱ 五郎",
    "佐藤〜六郎",  # WAVE DASH U+301C
    "佐藤～六郎",  # FULLWIDTH TILDE U+FF5E: a different name, kept apart
]


def test_nasty_names_survive_intake_page_export_and_reimport(
    app: Flask, logged_in, tmp_path: Path
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    for n, name in enumerate(NAMES, start=1):
        response = client.post(
            "/envelopes/new",
            data={
                "csrf_token": csrf_token(client, "/envelopes/new"),
                "tracking_no": tracking_no(n),
                "return_date": "H30.6.1",
                "return_reason": "TENKYO_FUMEI",
                "addressee": name,
                "address": "熊本市中央区1",
                "household_code": "",
                "location": "1",
                "slot": "",
                "items-0-name": name,
                "items-0-name_kana": "ヤマダ",
                "items-0-birth_date": "S50.1.1",
                "items-0-relationship": "",
                "items-0-item_kind": "notification_card",
                "save": "1",
            },
        )
        assert response.status_code == 302, (name, response.get_data(as_text=True)[:300])

    with app.extensions["tracker.db"].session_scope() as session:
        stored = {i.name: i.id for i in session.scalars(select(Item))}
    assert set(stored) == set(NAMES)  # stored exactly, none merged or normalised

    for name, item_id in stored.items():
        page = client.get(f"/items/{item_id}").get_data(as_text=True)
        assert name in html.unescape(page), name

    export = client.get("/disposal/eligible.csv?as_of=2020-04-01")
    assert export.status_code == 200
    text = export.data.decode("utf-8-sig")
    exported = {r["name"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(exported) == set(NAMES)

    # an import file made from the export's cells, into a fresh envelope each
    rows = [
        row(100 + n, r["name"], "ヤマダ", return_date=r["return_date"])
        for n, r in enumerate(exported.values())
    ]
    import_rows(app, tmp_path, rows)
    with app.extensions["tracker.db"].session_scope() as session:
        names = list(session.scalars(select(Item.name).where(Item.id > max(stored.values()))))
    assert sorted(names) == sorted(NAMES)
