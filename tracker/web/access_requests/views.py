"""Access requests (開示請求, issue 16 item 3): the list, a new request (the person search posts;
its results are in the response, never behind a URL holding the name), a request's page with
the second officer's approval, the export (PDF or CSV bundle) and the cancellation.

Records officers do everything; auditors read the list and the requests; clerks and admins
are refused (SPEC §1).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import AccessRequestStatus, Role
from tracker.domain.disclosure import csv_bundle
from tracker.domain.masking import mask_address
from tracker.extensions import db
from tracker.models import AccessRequest, AccessRequestItem
from tracker.pdf.access_request import render_access_request
from tracker.services import access_requests
from tracker.web.access import allow
from tracker.web.access_requests.forms import (
    ApproveForm,
    CancelForm,
    ExportForm,
    NewRequestForm,
)
from tracker.web.auth.views import password_reentered
from tracker.web.i18n import gettext as _
from tracker.web.params import is_id

bp = Blueprint("access_requests", __name__)

R, A = Role.RECORDS_OFFICER, Role.AUDITOR


@bp.route("/access-requests")
@allow(R, A)
def index() -> ResponseReturnValue:
    """Every request, newest first: reference numbers, dates, statuses and counts (no names)."""
    rows = db.session.execute(
        select(AccessRequest, func.count(AccessRequestItem.item_id))
        .outerjoin(AccessRequestItem, AccessRequestItem.request_id == AccessRequest.id)
        .group_by(AccessRequest.id)
        .order_by(AccessRequest.id.desc())
    ).all()
    return render_template(
        "access_requests/index.html", rows=rows, can_edit=current_user.has_role(R)
    )


@bp.route("/access-requests/new", methods=["GET", "POST"])
@allow(R)
def new() -> ResponseReturnValue:
    """Find the person (name and birth date, posted), tick their items, record the request."""
    if request.method == "GET" and request.args:
        # Nothing is read from a query string here: a name typed into one goes no further.
        return redirect(url_for("access_requests.new"), 303)
    form = NewRequestForm()
    context = {"form": form, "today": today_jst(), "found": None, "problem": None}
    if not form.is_submitted():
        return render_template("access_requests/new.html", **context)
    if not form.validate():
        problem = next(
            (errors[0] for errors in form.errors.values() if errors),
            _("もう一度操作してください"),
        )
        return render_template("access_requests/new.html", **{**context, "problem": problem}), 422
    try:
        query = access_requests.person_query(form.name.data, form.birth_date.data)
    except access_requests.AccessRequestError as error:
        return render_template(
            "access_requests/new.html", **{**context, "problem": str(error)}
        ), 422
    found = access_requests.find_person(db.session, actor=current_user.username, query=query)
    context.update(found=found, mask_address=mask_address)
    if (form.action.data or "") != "create":
        return render_template("access_requests/new.html", **context)
    ticked = [value for value in form.items.data or [] if is_id(value)]
    shown = {item.id for item in found.items}
    if len(ticked) != len(form.items.data or []) or not {int(v) for v in ticked} <= shown:
        problem = _("選んだ通知物が検索結果にありません。もう一度検索してください。")
        return render_template("access_requests/new.html", **{**context, "problem": problem}), 422
    try:
        with db.attempt():
            made = access_requests.create(
                db.session,
                actor=current_user.username,
                reference_no=form.reference_no.data,
                received_on=form.received_on.data,
                item_ids=[int(value) for value in ticked],
                now=now_utc(),
                today=today_jst(),
            )
    except access_requests.AccessRequestError as error:
        return render_template(
            "access_requests/new.html", **{**context, "problem": str(error)}
        ), 422
    if made.requires_approval:
        flash(
            _(
                "開示請求 %(no)s を受け付けました。"
                "支援措置の記録がある方のため、別の記録管理担当者の承認が必要です。",
                no=made.reference_no,
            ),
            "warning",
        )
    else:
        flash(_("開示請求 %(no)s を受け付けました。", no=made.reference_no), "info")
    return redirect(url_for("access_requests.show", request_id=made.id), 303)


def _request_or_404(request_id: int) -> AccessRequest:
    return access_requests.load(db.session, request_id) or abort(404)


@bp.route("/access-requests/<int:request_id>")
@allow(R, A)
def show(request_id: int) -> ResponseReturnValue:
    """The request: its items (control numbers and statuses), who did what; a view, logged."""
    record = _request_or_404(request_id)
    access_requests.record_view(db.session, actor=current_user.username, request=record)
    return render_template(
        "access_requests/show.html",
        request_row=record,
        can_edit=current_user.has_role(R),
        protected=access_requests.ever_protected(db.session, (i.item_id for i in record.items)),
        Status=AccessRequestStatus,
    )


@bp.route("/access-requests/<int:request_id>/approve", methods=["POST"])
@allow(R)
def approve(request_id: int) -> ResponseReturnValue:
    """Four eyes for a protected person's request: another officer, who types their password
    again (counted like a login); a colleague who approved first gets the 409 page."""
    record = _request_or_404(request_id)
    back = redirect(url_for("access_requests.show", request_id=request_id), 303)
    if record.created_by == current_user.username:
        flash(
            _("受け付けた本人は承認できません。別の記録管理担当者に承認を依頼してください。"),
            "error",
        )
        return back
    if not password_reentered(
        ApproveForm().password.data or "", first=lambda s: access_requests.lock(s, request_id)
    ):
        access_requests.record_refused_approval(
            db.session, actor=current_user.username, request=record
        )
        flash(_("パスワードが正しくありません。承認していません。"), "error")
        return back
    try:
        with db.attempt():
            access_requests.approve(
                db.session, actor=current_user.username, request=record, now=now_utc()
            )
    except access_requests.AccessRequestError as error:
        flash(str(error), "error")
    else:
        flash(_("承認しました。開示する情報を出力できます。"), "info")
    return back


@bp.route("/access-requests/<int:request_id>/export", methods=["POST"])
@allow(R)
def export(request_id: int) -> ResponseReturnValue:
    """The PDF or the CSV bundle; each export is audited with the reference number and the
    counts. Refused (and audited as refused) while the request waits for approval."""
    record = _request_or_404(request_id)
    fmt = (ExportForm().format.data or "").strip()
    back = redirect(url_for("access_requests.show", request_id=request_id), 303)
    # A 支援措置 placed since the request was recorded: back to approval, outside the export's
    # savepoint so that the move and its audit event are kept (a lost race is the 409 page).
    if fmt in access_requests.FORMATS and access_requests.recheck_approval(
        db.session, actor=current_user.username, request=record, fmt=fmt, now=now_utc()
    ):
        flash(access_requests.approval_now_needed(record), "error")
        return back
    try:
        with db.attempt():
            disclosure = access_requests.export(
                db.session,
                actor=current_user.username,
                request=record,
                fmt=fmt,
                now=now_utc(),
                today=today_jst(),
            )
    except access_requests.AccessRequestError as error:
        if fmt in access_requests.FORMATS:
            access_requests.record_refused_export(
                db.session, actor=current_user.username, request=record, fmt=fmt
            )
        flash(str(error), "error")
        return redirect(url_for("access_requests.show", request_id=request_id), 303)
    if fmt == "pdf":
        body, mimetype, name = render_access_request(disclosure), "application/pdf", "pdf"
    else:
        body, mimetype, name = csv_bundle(disclosure), "application/zip", "zip"
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="access-request-{record.id}.{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/access-requests/<int:request_id>/cancel", methods=["POST"])
@allow(R)
def cancel(request_id: int) -> ResponseReturnValue:
    """A request entered by mistake, before its first export."""
    CancelForm()
    record = _request_or_404(request_id)
    access_requests.cancel(db.session, actor=current_user.username, request=record, now=now_utc())
    flash(_("開示請求 %(no)s を取り消しました。", no=record.reference_no), "info")
    return redirect(url_for("access_requests.show", request_id=request_id), 303)
