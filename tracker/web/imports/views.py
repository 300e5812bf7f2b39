"""Upload page for the bulk import: the same report as ``tracker import`` (SPEC §6.4)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import Role
from tracker.extensions import db
from tracker.services import importer
from tracker.web.access import allow

bp = Blueprint("imports", __name__)


class UploadForm(FlaskForm):
    file = FileField(_l("CSVファイル"), validators=[FileRequired(_l("ファイルを選んでください"))])
    encoding = SelectField(
        _l("文字コード"),
        choices=[
            SelectChoice("auto", _l("自動判別（UTF-8 / Shift_JIS）")),
            SelectChoice("utf-8", "UTF-8"),
            SelectChoice("cp932", "Shift_JIS (CP932)"),
        ],
    )


@bp.route("/imports", methods=["GET", "POST"])
@allow(Role.RECORDS_OFFICER)
def upload() -> ResponseReturnValue:
    form = UploadForm()
    report: importer.ImportReport | None = None
    refusal: str | None = None
    if form.validate_on_submit():
        dry_run = "commit" not in request.form
        with tempfile.TemporaryDirectory(prefix="tracker-import-") as folder:
            path = Path(folder) / "upload.csv"
            form.file.data.save(path)
            # Its own unit of work: validation and staging run without SQLite's write lock.
            with db.session_scope(read_first=True) as session:
                settled = importer.import_file(
                    session,
                    path,
                    actor=current_user.username,
                    today=today_jst(),
                    now=now_utc(),
                    encoding=form.encoding.data or "auto",
                    dry_run=dry_run,
                )
            report, refusal = settled.report, settled.refusal
    return render_template(
        "imports/upload.html",
        form=form,
        report=report,
        refusal=refusal,
        columns=importer.COLUMNS,
        limit_mb=current_app.config["TRACKER"].max_upload_mb,
    )
