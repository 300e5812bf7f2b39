"""Upload page for the bulk import: the same report as ``tracker import`` (SPEC §6.4)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from tracker.domain.codes import JobKind, Role
from tracker.extensions import db
from tracker.services import importer, jobs
from tracker.web.access import allow
from tracker.web.i18n import lazy_gettext as _l
from tracker.web.jobs.views import queue_upload

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
    """The upload form; a file posted here becomes a background job (issue 17), whose page
    shows its progress and then the same report as ``tracker import``."""
    form = UploadForm()
    if form.validate_on_submit():
        job_id = queue_upload(
            form.file.data,
            kind=JobKind.IMPORT,
            params={
                "dry_run": "commit" not in request.form,
                "encoding": form.encoding.data or "auto",
            },
        )
        return redirect(url_for("jobs.show", job_id=job_id))
    return render_template(
        "imports/upload.html",
        form=form,
        report=None,
        refusal=None,
        columns=importer.COLUMNS,
        limit_mb=current_app.config["TRACKER"].max_upload_mb,
        recent=jobs.recent_jobs(db.session, current_user.username, JobKind.IMPORT),
    )
