"""Resident-register results (住基照合): the file upload (the same report as ``tracker
register-check``, SPEC §7.1), the entry on the item page, and the 実態調査依頼 list with its
CSV (SPEC §6.5) and PDF."""

from __future__ import annotations

from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import AuditAction, JobKind, RegisterOutcome, Role
from tracker.domain.export import ENCODINGS, ExportEncodingError, encode_csv
from tracker.domain.register import COLUMNS
from tracker.extensions import db
from tracker.models import Item
from tracker.pdf.investigation import (
    InvestigationEntry,
    InvestigationList,
    render_investigation_list,
)
from tracker.services import audit, notice_returns, people, register, settings
from tracker.web.access import allow
from tracker.web.i18n import gettext as _
from tracker.web.jobs.views import queue_upload
from tracker.web.register.forms import RegisterResultForm, UploadForm

bp = Blueprint("register", __name__)

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR

#: The CSV export's header (English names, like the other exports, SPEC §6.5).
INVESTIGATION_HEADER = (
    "control_no",
    "name",
    "name_kana",
    "birth_date",
    "address",
    "household_code",
    "return_date",
    "register_checked_on",
    "checked_by",
)


@bp.route("/register-checks", methods=["GET", "POST"])
@allow(R)
def upload() -> ResponseReturnValue:
    """Upload a register file: validate only, or import (all or nothing), as a background
    job (issue 17) whose page shows the same report as ``tracker register-check``."""
    form = UploadForm()
    if form.validate_on_submit():
        job_id = queue_upload(
            form.file.data,
            kind=JobKind.REGISTER_CHECK,
            params={"dry_run": not form.commit.data, "encoding": form.encoding.data or "auto"},
        )
        return redirect(url_for("jobs.show", job_id=job_id))
    return render_template(
        "register/upload.html",
        form=form,
        report=None,
        refusal=None,
        columns=COLUMNS,
        outcomes=list(RegisterOutcome),
        limit_mb=current_app.config["TRACKER"].max_upload_mb,
    )


def _item_or_404(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None:
        abort(404)
    return item


@bp.route("/items/<int:item_id>/register", methods=["GET", "POST"])
@allow(C, R)
def record(item_id: int) -> ResponseReturnValue:
    """Record the result of a check for one item (the form on the item page posts here).

    A refused entry comes back on this page (control number only: no personal data) with
    each reason beside its field; nothing is written.
    """
    item = _item_or_404(item_id)
    form = RegisterResultForm()
    today = today_jst()
    if request.method == "GET":
        form.checked_on.data = today.isoformat()
    if form.validate_on_submit():
        checked = form.entry(today)
        if checked is not None:
            entry, checked_on = checked
            change = register.record(
                db.session,
                item=item,
                entry=entry,
                checked_on=checked_on,
                actor=current_user.username,
                now=now_utc(),
            )
            messages = {
                register.Change.NEW: _("住基照合の結果を登録しました。"),
                register.Change.CHANGED: _("住基照合の結果を更新しました。"),
                register.Change.UNCHANGED: _("前回と同じ照合結果です（変更はありません）。"),
            }
            flash(messages[change], "success")
            return redirect(url_for("counter.item", item_id=item.id) + "#register-result")
    status = 400 if request.method == "POST" else 200
    return render_template("register/record.html", item=item, form=form), status


# --- 実態調査依頼 ---------------------------------------------------------------------------------


@bp.route("/register/investigation")
@allow(R, A)
def investigation() -> ResponseReturnValue:
    """Items in custody whose addressee is still registered (現住): names, so the view is
    logged (SPEC §8)."""
    rows = register.investigation_list(db.session)
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.INVESTIGATION_LIST_VIEW,
        details={"items": len(rows)},
    )
    return render_template("register/investigation.html", rows=rows)


@bp.route("/register/investigation.csv")
@allow(R, A)
def investigation_csv() -> ResponseReturnValue:
    """SPEC §6.5: UTF-8 with BOM by default, CP932 on request (unencodable characters are
    reported and nothing is sent), formulas neutralised."""
    encoding = request.args.get("encoding", "utf-8-sig")
    if encoding not in ENCODINGS:
        abort(400)
    rows = register.investigation_list(db.session)
    names = people.display_names(db.session, (row.checked_by for row in rows))

    def cells() -> Iterator[list[str]]:
        for row in rows:
            yield [
                row.control_no,
                row.name,
                row.name_kana,
                row.birth_date.isoformat(),
                row.address,
                row.household_code or "",
                row.returned_on.isoformat(),
                row.checked_on.isoformat(),
                people.shown_name(row.checked_by, names),
            ]

    try:
        body = b"".join(encode_csv(INVESTIGATION_HEADER, cells(), encoding))
    except ExportEncodingError as error:
        flash(str(error), "error")
        return redirect(url_for("register.investigation"))
    _record_export("csv", len(rows), encoding)
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="investigation-list-{today_jst().isoformat()}.csv"'
            )
        },
    )


@bp.route("/register/investigation.pdf")
@allow(R, A)
def investigation_pdf() -> ResponseReturnValue:
    rows = register.investigation_list(db.session)
    office = settings.load(db.session)
    today = today_jst()
    document = InvestigationList(
        municipality=office.municipality,
        office=office.office,
        made_on=today,
        made_by=people.name_of(db.session, current_user.username),
        entries=[
            InvestigationEntry(
                control_no=row.control_no,
                name=row.name,
                name_kana=row.name_kana,
                birth_date=row.birth_date,
                address=row.address,
                household_code=row.household_code,
                returned_on=row.returned_on,
                checked_on=row.checked_on,
            )
            for row in rows
        ],
    )
    _record_export("pdf", len(rows))
    return Response(
        render_investigation_list(document),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="investigation-list-{today.isoformat()}.pdf"'
        },
    )


def _record_export(kind: str, count: int, encoding: str | None = None) -> None:
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.INVESTIGATION_LIST_EXPORT,
        details={
            "format": kind,
            "items": count,
            **({"encoding": encoding} if encoding else {}),
        },
    )


# --- 住基照合依頼 (issue 15) ----------------------------------------------------------------------

#: The results-file header (SPEC §7.1) with the outcome columns left empty: the resident-records
#: section fills them in and the office imports the file back with ``tracker register-check``.
REQUEST_HEADER = ("管理番号", "氏名", "生年月日", "異動区分", "異動日", "備考")


@bp.route("/register/requests")
@allow(R, A)
def requests() -> ResponseReturnValue:
    """Items whose notice (お知らせ) came back and whose register has not been checked since:
    names, so the view is logged (SPEC §8). No address on this list (so nothing to mask for a
    protected person, as the 実態調査依頼一覧 masks only the address)."""
    rows = notice_returns.register_requests(db.session)
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.REGISTER_REQUEST_VIEW,
        details={"items": len(rows)},
    )
    return render_template("register/requests.html", rows=rows)


@bp.route("/register/requests.csv")
@allow(R, A)
def requests_csv() -> ResponseReturnValue:
    """The list in the results-file format (SPEC §7.1, §6.5): UTF-8 with BOM by default, CP932
    on request, formulas neutralised."""
    encoding = request.args.get("encoding", "utf-8-sig")
    if encoding not in ENCODINGS:
        abort(400)
    rows = notice_returns.register_requests(db.session)
    cells = ([row.control_no, row.name, row.birth_date.isoformat(), "", "", ""] for row in rows)
    try:
        body = b"".join(encode_csv(REQUEST_HEADER, cells, encoding))
    except ExportEncodingError as error:
        flash(str(error), "error")
        return redirect(url_for("register.requests"))
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.REGISTER_REQUEST_EXPORT,
        details={"format": "csv", "items": len(rows), "encoding": encoding},
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="register-requests-{today_jst().isoformat()}.csv"'
            )
        },
    )
