"""Notices (お知らせ, issue 15): the batch list with the selection form, the preview, the
sending, a batch's page with its letters PDF and mailing list, and the letter template editor.

Who: records officers choose, preview, send and edit the template; auditors and clerks see
the batches, reprint and export (an auditor changes nothing: the preview, a POST that writes
its audit event, is the officers'). Every page or file that shows
names or addresses writes its audit event (preview, print, list export), never the values.
"""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import ContactKind, JobKind, NoticeMethod, Role
from tracker.domain.errors import InputError
from tracker.domain.export import ENCODINGS, ExportEncodingError, encode_csv
from tracker.domain.wareki import format_wareki, parse_date
from tracker.extensions import db
from tracker.models import Contact, Item, NoticeBatch
from tracker.pdf.notices import LetterTooLong
from tracker.services import jobs, notice_templates, notices, retention
from tracker.web.access import allow
from tracker.web.i18n import gettext as _
from tracker.web.jobs.views import queue_job
from tracker.web.notices.forms import LettersJobForm, SelectionForm, SendForm, TemplateForm
from tracker.web.params import InvalidParameter

bp = Blueprint("notices", __name__)

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR


def _rule_choices() -> list[tuple[str, str]]:
    return [(str(s.row_id), s.rule.label) for s in retention.load_rules(db.session)]


def _selection_form(form_class: type[SelectionForm] = SelectionForm) -> SelectionForm:
    form = form_class()
    form.rule_id.choices = _rule_choices()
    return form


def _date(text: str | None, label: str) -> date:
    if not (text or "").strip():
        return today_jst()
    try:
        return parse_date(text or "")
    except InputError as error:
        raise notices.NoticeError(f"{label}: {error}") from None


#: What a field's refusal says, by field (the form's own messages are English WTForms text).
_FIELD_PROBLEMS = {
    "mode": "選び方を選んでください",
    "rule_id": "廃棄基準を選んでください",
    "days": "日数は整数で入力してください",
    "control_nos": "管理番号を確認してください",
    "as_of": "基準日を確認してください",
    "sent_on": "発送日を確認してください",
    "method": "発送方法を選んでください",
}


def _validated(form: SelectionForm) -> None:
    """The form's checks; a missing or wrong CSRF token stays a 400, any other refusal is a
    :class:`NoticeError` naming the field (the page answers 422)."""
    valid = form.validate()
    if form.csrf_token.errors:
        abort(400)
    for name, field in form._fields.items():
        value = field.raw_data[0] if field.raw_data else ""
        if isinstance(value, str) and "\x00" in value:
            raise notices.NoticeError(
                f"{_FIELD_PROBLEMS.get(name, name)}（制御文字が含まれています）"
            )
    if not valid:
        names = [name for name, field in form._fields.items() if field.errors]
        raise notices.NoticeError(
            "、".join(_FIELD_PROBLEMS.get(name, name) for name in names) or "入力を確認してください"
        )


def _selection(form: SelectionForm) -> notices.Selection:
    mode = form.mode.data
    if mode == "rule":
        return notices.by_rule(db.session, form.rule_id.data or "")
    if mode == "within":
        if form.days.data is None:
            raise notices.NoticeError("日数を入力してください")
        return notices.within(form.days.data)
    if mode == "items":
        return notices.by_hand(form.control_nos.data or "")
    raise notices.NoticeError("選び方を選んでください")


@bp.route("/notices")
@allow(C, R, A)
def index() -> ResponseReturnValue:
    """The batches sent so far (no names) and, for records officers, the selection form."""
    form = _selection_form()
    form.as_of.data = format_wareki(today_jst())
    form.sent_on.data = format_wareki(today_jst())
    return render_template(
        "notices/index.html",
        batches=notices.batches(db.session),
        form=form,
        can_select=current_user.has_role(R),
    )


@bp.route("/notices/preview", methods=["POST"])
@allow(R)
def preview() -> ResponseReturnValue:
    """Counts, exclusions and the first letters (names: logged as NOTICE_PREVIEW)."""
    form = _selection_form()
    try:
        _validated(form)
        as_of = _date(form.as_of.data, "基準日")
        sent_on = _date(form.sent_on.data, "発送日")
        selection = _selection(form)
        result = notices.preview(
            db.session,
            actor=current_user.username,
            selection=selection,
            as_of=as_of,
            sent_on=sent_on,
            today=today_jst(),
        )
    except notices.NoticeError as refusal:
        form.mode.errors = [*form.mode.errors, str(refusal)]
        return render_template(
            "notices/index.html",
            batches=notices.batches(db.session),
            form=form,
            can_select=True,
        ), 422
    send_form = _selection_form(SendForm)
    send_form.expected.data = str(result.letters)
    return render_template(
        "notices/preview.html",
        result=result,
        form=send_form,
        as_of=as_of,
        sent_on=sent_on,
        can_send=current_user.has_role(R) and result.letters > 0,
    )


@bp.route("/notices/send", methods=["POST"])
@allow(R)
def send() -> ResponseReturnValue:
    """Record the sending: one batch, a contact per item, one audit event (exactly once: the
    service locks and a resubmit finds the items already notified on that date)."""
    form = _selection_form(SendForm)
    try:
        _validated(form)
        expected = int(form.expected.data) if (form.expected.data or "").isdigit() else None
        with db.attempt():
            sent = notices.send(
                db.session,
                actor=current_user.username,
                selection=_selection(form),
                as_of=_date(form.as_of.data, "基準日"),
                sent_on=_date(form.sent_on.data, "発送日"),
                method=NoticeMethod(form.method.data),
                now=now_utc(),
                today=today_jst(),
                expected=expected,
            )
    except (notices.NoticeError, ValueError) as refusal:
        flash(str(refusal), "error")
        return render_template(
            "notices/index.html",
            batches=notices.batches(db.session),
            form=form,
            can_select=True,
        ), 422
    flash(
        _(
            "お知らせ %(n)d通の発送を記録しました（発送番号 %(no)s）。",
            n=sent.letters,
            no=sent.batch.batch_no,
        ),
        "info",
    )
    return redirect(url_for("notices.batch", batch_id=sent.batch.id))


def _batch_or_404(batch_id: int) -> NoticeBatch:
    batch = db.session.get(NoticeBatch, batch_id)
    if batch is None:
        abort(404)
    return batch


@bp.route("/notices/<int:batch_id>")
@allow(C, R, A)
def batch(batch_id: int) -> ResponseReturnValue:
    """One mailing: when, how, how chosen, and its items by control number (no names)."""
    found = _batch_or_404(batch_id)
    rows = db.session.execute(
        select(Item.id, Item.control_no)
        .join(Contact, Contact.item_id == Item.id)
        .where(
            Contact.notice_batch_id == found.id,
            Contact.kind == ContactKind.NOTICE_MAIL.value,
        )
        .order_by(Item.control_no)
        .limit(1000)
    ).all()
    return render_template(
        "notices/batch.html",
        batch=found,
        rows=rows,
        in_background=in_background(found),
        job_form=LettersJobForm(),
        recent=[
            job
            for job in jobs.recent_jobs(db.session, current_user.username, JobKind.NOTICES, 20)
            if jobs.params_of(job).get("batch_id") == found.id
        ][:5],
    )


#: Letters drawn inside the request at most (about 1.5 s at the measured 7.5 ms a letter).
#: A larger batch's PDF is made by a background job (issue 17): a 10,000-letter batch takes
#: minutes, past a reverse proxy's timeout, and would hold a server thread all that time.
LETTERS_IN_REQUEST = 200


def in_background(found: NoticeBatch) -> bool:
    return found.item_count > LETTERS_IN_REQUEST


@bp.route("/notices/<int:batch_id>/letters.pdf")
@allow(C, R, A)
def letters_pdf(batch_id: int) -> ResponseReturnValue:
    """The batch's letters again (reprint), audited as NOTICE_PRINT. A batch of more than
    :data:`LETTERS_IN_REQUEST` letters is made in the background: its page offers that."""
    found = _batch_or_404(batch_id)
    if in_background(found):
        flash(_("通数が多いため、PDFはバックグラウンドで作成します。"), "info")
        return redirect(url_for("notices.batch", batch_id=found.id))
    out = io.BytesIO()
    try:
        tally = notices.write_letters(db.session, found, out)
    except LetterTooLong as error:
        raise InvalidParameter(description=str(error)) from None
    notices.record_print(
        db.session, actor=current_user.username, batch=found, letters=tally.letters
    )
    return Response(
        out.getvalue(),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="notices-{found.batch_no}.pdf"'},
    )


@bp.route("/notices/<int:batch_id>/letters", methods=["POST"])
@allow(C, R, A)
def letters_job(batch_id: int) -> ResponseReturnValue:
    """Queue a job that draws the batch's letters; its page shows the progress and then
    offers the PDF to the requester (audited as NOTICE_PRINT when downloaded)."""
    if not LettersJobForm().validate_on_submit():
        abort(400)
    # Read apart from the request's session: on SQLite a POST's session holds the write lock
    # from its first statement, and a job run at once (TRACKER_JOBS_URL=immediate) would wait.
    with db.read_session() as reader:
        found = reader.get(NoticeBatch, batch_id)
        if found is None:
            abort(404)
        params = {"batch_id": found.id, "batch_no": found.batch_no, "role": current_user.role}
    job_id = queue_job(JobKind.NOTICES, params)
    return redirect(url_for("jobs.show", job_id=job_id))


@bp.route("/notices/<int:batch_id>/list.csv")
@allow(C, R, A)
def list_csv(batch_id: int) -> ResponseReturnValue:
    """発送リスト (UTF-8 with BOM, CP932 on request; formula-safe), audited."""
    found = _batch_or_404(batch_id)
    encoding = request.args.get("encoding", "utf-8-sig")
    if encoding not in ENCODINGS:
        raise InvalidParameter(description=_("文字コード（encoding）を選んでください。"))
    try:
        body = b"".join(
            encode_csv(notices.LIST_HEADER, notices.mailing_rows(db.session, found), encoding)
        )
    except ExportEncodingError as error:
        raise InvalidParameter(description=str(error)) from None
    notices.record_list_export(
        db.session, actor=current_user.username, batch=found, encoding=encoding
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="notices-{found.batch_no}.csv"'},
    )


# --- the letter template ---------------------------------------------------------------------


def _sample() -> notice_templates.LetterFields:
    return notices.sample_fields(db.session, sent_on=today_jst())


def _template_page(
    form: TemplateForm, rendered: str | None = None, status: int = 200
) -> tuple[str, int]:
    current = notice_templates.current(db.session)
    return render_template(
        "notices/template.html",
        form=form,
        current=current,
        fields=notice_templates.FIELDS,
        rendered=rendered,
        can_edit=current_user.has_role(R),
    ), status


@bp.route("/notices/template")
@allow(C, R, A)
def template() -> ResponseReturnValue:
    """The current wording, the fields it may use, and (records officers) the editor."""
    form = TemplateForm(formdata=None)
    current = notice_templates.current(db.session)
    if current is not None:
        form.title.data, form.body.data = current.title, current.body
    rendered = None
    if current is not None:
        try:
            rendered = notice_templates.render_body(current.body, _sample())
        except notice_templates.TemplateError as error:
            rendered = str(error)
    return _template_page(form, rendered)


@bp.route("/notices/template/preview", methods=["POST"])
@allow(R)
def template_preview() -> ResponseReturnValue:
    """The draft rendered for the synthetic sample person (never real data); nothing saved.
    «見本のPDF» returns one sample letter as PDF."""
    form = TemplateForm()
    if not form.validate():
        abort(400)
    sample = _sample()
    try:
        title, body = notice_templates.check(form.title.data, form.body.data, sample)
        rendered = notice_templates.render_body(body, sample)
    except notice_templates.TemplateError as refusal:
        form.body.errors = [*form.body.errors, str(refusal)]
        return _template_page(form, None, 422)
    if "as_pdf" in request.form:
        from tracker.pdf.notices import LetterPage, render_letters

        out = io.BytesIO()
        render_letters(
            out,
            [LetterPage(sample.name, sample.address, sample.control_no, title, rendered)],
            sent_on=today_jst(),
            sender=sample.office,
            batch_no=sample.batch_no,
        )
        return Response(
            out.getvalue(),
            mimetype="application/pdf",
            headers={"Content-Disposition": 'inline; filename="notice-sample.pdf"'},
        )
    return _template_page(form, rendered)


@bp.route("/notices/template/save", methods=["POST"])
@allow(R)
def template_save() -> ResponseReturnValue:
    """Save the draft as a new version (refused with the line number on a template error)."""
    form = TemplateForm()
    if not form.validate():
        abort(400)
    try:
        with db.attempt():
            row = notice_templates.save(
                db.session,
                actor=current_user.username,
                title=form.title.data,
                body=form.body.data,
                sample=_sample(),
                now=now_utc(),
            )
    except notice_templates.TemplateError as refusal:
        form.body.errors = [*form.body.errors, str(refusal)]
        return _template_page(form, None, 422)
    flash(_("お知らせの文面を保存しました（第%(v)d版）。", v=row.version), "info")
    return redirect(url_for("notices.template"))


__all__ = ["bp"]
