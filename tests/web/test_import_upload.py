"""The upload page shows the same report as the CLI and follows the same all-or-nothing rule."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import func, select

from tests.helpers import csrf_token
from tracker.domain.codes import Role
from tracker.models import Item

HEADER = "お問い合わせ番号,返戻日,還付事由,宛名,住所,氏名,フリガナ,生年月日"
ROW = "123456789015,H30.4.1,転居先不明,山田 太郎,熊本市中央区1,山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,S50.1.1"


def upload(client, content: bytes, *, commit: bool):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf_token(client, "/imports"),
        "encoding": "auto",
        "file": (io.BytesIO(content), "returns.csv"),
    }
    data["commit" if commit else "dry_run"] = "1"
    return client.post(
        "/imports", data=data, content_type="multipart/form-data", follow_redirects=True
    )


def item_count(app: Flask) -> int:
    with app.extensions["tracker.db"].session_scope() as session:
        return session.scalar(select(func.count()).select_from(Item)) or 0


def test_dry_run_then_import_a_cp932_file(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    content = f"{HEADER}\r\n{ROW}\r\n".encode("cp932")
    page = upload(client, content, commit=False).get_data(as_text=True)
    assert "検証のみ（書き込みなし）" in page and "通知物 1件、封筒 1件" in page and "cp932" in page
    assert item_count(app) == 0
    page = upload(client, content, commit=True).get_data(as_text=True)
    assert "取込が完了しました" in page and item_count(app) == 1
    page = upload(client, content, commit=True).get_data(as_text=True)
    assert "重複 1件" in page and item_count(app) == 1


def test_bad_rows_are_listed_and_nothing_is_written(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    bad = ROW.replace("H30.4.1", "2018-02-30")
    page = upload(client, f"{HEADER}\n{ROW}\n{bad}\n".encode(), commit=True).get_data(as_text=True)
    assert "取込を中止しました" in page and "存在しない日付" in page and "2018-02-30" in page
    assert item_count(app) == 0


def test_a_file_without_required_columns_is_refused(logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    page = upload(client, "氏名,住所\nx,y\n".encode(), commit=True).get_data(as_text=True)
    assert "必須の列がありません" in page
