"""住基照合 on the web: the upload (validate only writes nothing), the entry on the item page
(a bad date is refused beside its field, nothing written), the result on the item, envelope
and search pages, and the 実態調査依頼 list with its CSV and PDF."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from datetime import date
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories, factories_register
from tests.helpers import csrf_token, search
from tracker.domain.codes import RegisterOutcome, Role
from tracker.models import AuditEvent, Item, RegisterResult
from tracker.services import register

#: The outcome as the item page states it (the entry form lists every outcome too).
OUTCOME = '<strong class="register-outcome">{}</strong>'


def upload(client: FlaskClient, content: bytes, *, commit: bool):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf_token(client, "/register-checks"),
        "encoding": "auto",
        "file": (io.BytesIO(content), "juki.csv"),
        ("commit" if commit else "validate_only"): "1",
    }
    return client.post(
        "/register-checks", data=data, content_type="multipart/form-data", follow_redirects=True
    )


def stored(app: Flask) -> dict[int, tuple[str, date | None]]:
    with app.extensions["tracker.db"].session_scope() as session:
        return {r.item_id: (r.outcome, r.event_on) for r in session.scalars(select(RegisterResult))}


def actions(app: Flask, action: str) -> list[dict[str, object]]:
    with app.extensions["tracker.db"].session_scope() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        return [json.loads(event.details) for event in events]


def test_upload_validate_only_writes_nothing_then_import_shows_on_the_item_page(
    app: Flask, logged_in
) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_register.household(app)
    numbers = [factories_register.control_no(app, i) for i in ids]
    content = "\r\n".join(
        [
            "管理番号,異動区分,異動日,備考",
            f"{numbers[0]},死亡,令和5年1月10日,",
            f"{numbers[2]},現住,,",
        ]
    ).encode("cp932")
    page = upload(client, content, commit=False).get_data(as_text=True)
    assert "検証のみ（書き込みなし）" in page and "新規 2件" in page
    assert stored(app) == {}
    page = upload(client, content, commit=True).get_data(as_text=True)
    assert "取込が完了しました" in page
    assert stored(app) == {ids[0]: ("deceased", date(2023, 1, 10)), ids[2]: ("resident", None)}
    item_page = client.get(f"/items/{ids[0]}").get_data(as_text=True)
    assert OUTCOME.format("死亡") in item_page and "令和5年1月10日 (2023-01-10)" in item_page
    assert "ファイル取込" in item_page  # the source, as its label
    again = upload(client, content, commit=True).get_data(as_text=True)
    assert "新規 0件、変更 0件、変更なし 2件" in again


def test_upload_with_a_bad_row_lists_it_and_writes_nothing(app: Flask, logged_in) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_register.household(app)
    number = factories_register.control_no(app, ids[0])
    content = f"control_no,register_outcome,register_event_on\r\n{number},転出,H31.5.1\r\n".encode()
    page = upload(client, content, commit=True).get_data(as_text=True)
    assert "取込を中止しました: 1件のエラー" in page
    assert "register_event_on" in page and "H31.5.1" in page
    assert stored(app) == {}


def test_the_item_page_entry_records_a_result_and_refuses_a_bad_date(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    ids = factories_register.household(app)
    token = csrf_token(client, f"/items/{ids[1]}")
    refused = client.post(
        f"/items/{ids[1]}/register",
        data={"csrf_token": token, "outcome": "moved_out", "event_on": "令和2年2月30日"},
    )
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "何も登録していません" in text and "存在しない日付" in text
    assert 'value="令和2年2月30日"' in text  # what was typed stays in the field
    assert stored(app) == {}
    missing = client.post(
        f"/items/{ids[1]}/register", data={"csrf_token": token, "outcome": "deceased"}
    )
    assert missing.status_code == 400 and "異動日を入力してください" in missing.get_data(
        as_text=True
    )
    done = client.post(
        f"/items/{ids[1]}/register",
        data={
            "csrf_token": token,
            "outcome": "moved_out",
            "event_on": "R2.2.3",
            "note": "福岡市へ",
        },
        follow_redirects=True,
    )
    page = done.get_data(as_text=True)
    assert "住基照合の結果を登録しました" in page
    assert (
        OUTCOME.format("転出") in page
        and "令和2年2月3日 (2020-02-03)" in page
        and "福岡市へ" in page
    )
    assert stored(app) == {ids[1]: ("moved_out", date(2020, 2, 3))}
    [event] = actions(app, "register.record")
    assert event == {
        "control_no": factories_register.control_no(app, ids[1]),
        "register_outcome": "moved_out",
        "register_source": "counter",
        "register_change": "new",
    }


def test_the_result_shows_on_the_envelope_page_and_in_search_results(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    ids = factories_register.household(app)
    factories_register.result(app, ids[0], RegisterOutcome.DECEASED, event_on=date(2023, 1, 10))
    with app.extensions["tracker.db"].session_scope() as session:
        envelope_id = session.scalar(select(Item.envelope_id).where(Item.id == ids[0]))
    envelope = client.get(f"/envelopes/{envelope_id}").get_data(as_text=True)
    assert envelope.count('data-testid="register-badge"') == 1
    assert "住基: 死亡 令和5年1月10日" in envelope
    results = search(client, "タカハシ").get_data(as_text=True)
    assert results.count('data-testid="register-badge"') == 1 and "住基: 死亡" in results


def test_the_investigation_list_page_csv_and_pdf(app: Flask, logged_in, tmp_path: Path) -> None:
    client = logged_in(Role.RECORDS_OFFICER)
    ids = factories_register.household(app)
    factories.user(app, Role.RECORDS_OFFICER, "kiroku", display_name="記録 太郎")
    factories_register.result(app, ids[0], RegisterOutcome.RESIDENT, actor="kiroku")
    factories_register.result(app, ids[1], RegisterOutcome.MOVED_OUT, event_on=date(2020, 1, 5))
    factories_register.result(app, ids[2], RegisterOutcome.RESIDENT, note="実態調査へ")
    page = client.get("/register/investigation").get_data(as_text=True)
    assert "髙橋 一郎" in page and "髙橋 次郎" in page and "髙橋 花子" not in page
    assert actions(app, "register.investigation_view") == [{"items": 2}]

    response = client.get("/register/investigation.csv")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == [
        "control_no",
        "name",
        "name_kana",
        "birth_date",
        "address",
        "household_code",
        "return_date",
        "register_checked_on",
        "checked_by",
    ]
    assert [(r[0], r[1], r[3], r[5]) for r in rows[1:]] == [
        (factories_register.control_no(app, ids[0]), "髙橋 一郎", "1960-05-01", "0012345"),
        (factories_register.control_no(app, ids[2]), "髙橋 次郎", "1990-01-20", "0012345"),
    ]
    assert rows[1][8] == "記録 太郎"  # the display name, not the login name

    cp932 = client.get("/register/investigation.csv?encoding=cp932")
    assert cp932.status_code == 200 and not cp932.data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(cp932.data.decode("cp932")))) == rows  # 髙 is in CP932

    pdf = client.get("/register/investigation.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    path = tmp_path / "list.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "実態調査依頼一覧" in text and "髙橋 一郎" in text and "髙橋 花子" not in text
    assert re.search(r"1 ?/ ?1", text)
    exports = actions(app, "register.investigation_export")
    assert [(e["format"], e.get("encoding")) for e in exports] == [
        ("csv", "utf-8-sig"),
        ("csv", "cp932"),
        ("pdf", None),
    ]
    assert all("髙橋" not in json.dumps(e, ensure_ascii=False) for e in exports)


def test_clerks_cannot_import_or_list(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    assert client.get("/register-checks").status_code == 403
    assert client.get("/register/investigation.csv").status_code == 403


def test_the_audit_log_reads_register_events_in_words(
    app: Flask, logged_in, tmp_path: Path
) -> None:
    ids = factories_register.household(app)
    factories_register.result(app, ids[0], RegisterOutcome.DECEASED, event_on=date(2023, 1, 10))
    path = tmp_path / "juki.csv"
    path.write_text(f"管理番号,異動区分\n{factories_register.control_no(app, ids[1])},現住\n")
    with app.extensions["tracker.db"].session_scope() as session:
        settled = register.check_file(
            session, path, actor="cli:test", today=factories.TODAY, now=factories.NOW
        )
        assert settled.ok
    client = logged_in(Role.AUDITOR)
    page = client.get("/audit").get_data(as_text=True)
    body = re.sub(
        r'<details class="raw">.*?</details>', " ", page[page.find("<main") :], flags=re.S
    )
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    assert (
        "住基照合結果の登録" in shown
        and "異動区分 死亡" in shown
        and "照合の方法 画面入力" in shown
    )
    assert "住基照合結果の一括取込 住基照合結果の取込" in shown
    assert "新規 1 変更 0 変更なし 0" in shown
    for code in ("deceased", "register_outcome", "results_new", "counter"):
        assert code not in shown, code


def test_the_item_page_section_reads_in_english(app: Flask, logged_in) -> None:
    client = logged_in(Role.CLERK)
    ids = factories_register.household(app)
    factories_register.result(app, ids[0], RegisterOutcome.DECEASED, event_on=date(2023, 1, 10))
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en"})
    page = client.get(f"/items/{ids[0]}").get_data(as_text=True)
    assert "Resident-register check" in page and "Event date" in page
    assert OUTCOME.format("Deceased") in page
    assert "Record check result" in page
    assert "住基照合の結果" not in page
