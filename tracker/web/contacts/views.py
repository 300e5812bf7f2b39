"""The contact log (接触記録, issue 15) on the item and envelope pages, and returned notices.

A contact records that someone called, came or was visited, never what was said about the
card: the return status is not told by phone (SPEC §4). Its note stays out of the audit log
(:func:`tracker.services.contacts.record`). A refused form comes back on a page of its own that
shows the control number only (no personal data, so nothing to log and nothing of a protected
person to leak), with each reason beside its field: HTTP 422, nothing written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import Role
from tracker.domain.wareki import format_wareki
from tracker.extensions import db
from tracker.models import Contact, Envelope, Item, NoticeBatch
from tracker.services import contacts, notice_returns, protection
from tracker.web.access import allow
from tracker.web.contacts.forms import BulkReturnForm, ContactForm, NoticeReturnForm
from tracker.web.i18n import gettext as _

bp = Blueprint("contacts", __name__)

C, R = Role.CLERK, Role.RECORDS_OFFICER


def _contact_form() -> ContactForm:
    form = ContactForm(formdata=None)
    form.prefill(now_utc())
    return form


def _return_form(batches: list[NoticeBatch]) -> NoticeReturnForm:
    form = NoticeReturnForm(formdata=None)
    _batch_choices(form, batches)
    form.batch.data = batches[0].id if batches else None
    form.returned_on.data = format_wareki(today_jst())
    return form


def _batch_choices(form: NoticeReturnForm, batches: list[NoticeBatch]) -> None:
    form.batch.choices = [
        (batch.id, f"{batch.batch_no}（{format_wareki(batch.sent_on)}）") for batch in batches
    ]


def hidden_notes(
    rows: Sequence[Contact], protected_items: set[int], *, shown_item: int | None = None
) -> set[int]:
    """The contacts whose note a page must not show (支援措置, issue 14): an item-level
    contact of a protected item, and a household contact (no item) of an envelope that holds
    a protected item. ``shown_item``: the page is that protected item's own page, which asked
    for a purpose, so its own and its household's notes may be shown there."""
    if shown_item is not None and shown_item in protected_items:
        return {c.id for c in rows if c.item_id in protected_items and c.item_id != shown_item}
    return {
        c.id
        for c in rows
        if (c.item_id in protected_items) or (c.item_id is None and protected_items)
    }


def item_section(item: Item) -> dict[str, Any]:
    """What the item page's 接触記録 section shows: the item's and its household's contacts,
    and the forms the user may use. Called by ``counter.item``, which has logged the view.
    Household notes are hidden on an unprotected sibling's page (:func:`hidden_notes`)."""
    can_record = current_user.has_role(C, R)
    batches = notice_returns.mailed_batches(db.session, item) if can_record else []
    rows = contacts.of_item(db.session, item)
    protected_items = protection.protected_item_ids(db.session, (i.id for i in item.envelope.items))
    return {
        "contacts": rows,
        "contact_hidden_notes": hidden_notes(rows, protected_items, shown_item=item.id),
        "contact_note_masked": _("支援措置の対象のため表示しません"),
        "contact_form": _contact_form() if can_record else None,
        "notice_return_form": _return_form(batches) if batches else None,
    }


def envelope_section(envelope: Envelope, protected_items: set[int]) -> dict[str, Any]:
    """The envelope page's household contacts. Notes about a protected person (an item-level
    contact of a protected item, or a household contact of an envelope that holds one) are
    not shown: the envelope page asks for no purpose (issue 14)."""
    rows = contacts.of_envelope(db.session, envelope)
    return {
        "contacts": rows,
        "contact_hidden_notes": hidden_notes(rows, protected_items),
        "contact_note_masked": _("支援措置の対象のため表示しません"),
        "contact_form": _contact_form() if current_user.has_role(C, R) else None,
    }


def _item_or_404(item_id: int) -> Item:
    item = db.session.scalar(
        select(Item).where(Item.id == item_id).options(selectinload(Item.envelope))
    )
    if item is None:
        abort(404)
    return item


def _refused(form: Any, *, item: Item | None, envelope: Envelope, template: str) -> tuple[str, int]:
    return render_template(template, form=form, item=item, envelope=envelope), 422


def _record(form: ContactForm, envelope: Envelope, item: Item | None) -> Contact | None:
    """The contact, recorded; or None with the refusals on the form."""
    if not form.validate():
        return None
    now = now_utc()
    checked = form.checked(now)
    if checked is None:
        return None
    kind, moment, note = checked
    try:
        with db.attempt():
            return contacts.record(
                db.session,
                actor=current_user.username,
                envelope=envelope,
                item=item,
                kind=kind,
                occurred_at=moment,
                note=note,
                now=now,
            )
    except contacts.ContactError as refusal:
        form.note.errors = [*form.note.errors, str(refusal)]
        return None


@bp.route("/items/<int:item_id>/contacts", methods=["POST"])
@allow(C, R)
def record_item(item_id: int) -> ResponseReturnValue:
    """Record a contact about one item (the form on the item page posts here)."""
    item = _item_or_404(item_id)
    form = ContactForm()
    if _record(form, item.envelope, item) is None:
        return _refused(form, item=item, envelope=item.envelope, template="contacts/record.html")
    flash(_("接触記録を登録しました。"), "success")
    return redirect(url_for("counter.item", item_id=item.id) + "#contacts")


@bp.route("/envelopes/<int:envelope_id>/contacts", methods=["POST"])
@allow(C, R)
def record_envelope(envelope_id: int) -> ResponseReturnValue:
    """Record a contact about the whole household (item empty): it shows on every item page."""
    envelope = db.session.get(Envelope, envelope_id)
    if envelope is None:
        abort(404)
    form = ContactForm()
    if _record(form, envelope, None) is None:
        return _refused(form, item=None, envelope=envelope, template="contacts/record.html")
    flash(_("世帯への接触記録を登録しました。"), "success")
    return redirect(url_for("custody.envelope", envelope_id=envelope.id) + "#contacts")


@bp.route("/items/<int:item_id>/notice-returns", methods=["POST"])
@allow(C, R)
def notice_return(item_id: int) -> ResponseReturnValue:
    """お知らせが返戻された, for one item: the batch (one that mailed it) and the day."""
    item = _item_or_404(item_id)
    batches = notice_returns.mailed_batches(db.session, item)
    form = NoticeReturnForm()
    _batch_choices(form, batches)
    if form.validate():
        day = form.checked_day(today_jst())
        batch = next((b for b in batches if b.id == form.batch.data), None)
        if day is not None and batch is not None:
            try:
                with db.attempt():
                    notice_returns.record_return(
                        db.session,
                        actor=current_user.username,
                        item=item,
                        batch=batch,
                        returned_on=day,
                        today=today_jst(),
                        now=now_utc(),
                    )
            except notice_returns.ReturnError as refusal:
                form.returned_on.errors = [*form.returned_on.errors, str(refusal)]
            else:
                flash(_("お知らせの返戻を記録しました。"), "success")
                return redirect(url_for("counter.item", item_id=item.id) + "#contacts")
    return _refused(form, item=item, envelope=item.envelope, template="contacts/return.html")


@bp.route("/notices/returns", methods=["GET", "POST"])
@allow(R)
def bulk_returns() -> ResponseReturnValue:
    """Many returned notices of one batch: control numbers pasted or scanned, one per line.
    All or nothing; every bad line is listed with its number, value and reason."""
    form = BulkReturnForm()
    today = today_jst()
    errors: list[notice_returns.LineError] = []
    problem: str | None = None
    if not form.is_submitted():
        form.returned_on.data = format_wareki(today)
    elif form.validate():
        day = form.checked_day(today)
        batch = notice_returns.find_batch(db.session, form.batch_no.data or "")
        if batch is None:
            form.batch_no.errors = [
                *form.batch_no.errors,
                _("発送番号「%(no)s」のお知らせはありません", no=(form.batch_no.data or "")[:20]),
            ]
        if day is not None and batch is not None:
            try:
                with db.attempt():
                    count = notice_returns.record_returns(
                        db.session,
                        actor=current_user.username,
                        batch=batch,
                        returned_on=day,
                        pasted=form.numbers.data or "",
                        today=today,
                        now=now_utc(),
                    )
            except notice_returns.BulkRefused as refusal:
                errors = refusal.errors
            except notice_returns.ReturnError as refusal:
                problem = str(refusal)
            else:
                flash(
                    _(
                        "お知らせの返戻を%(n)d件記録しました（発送番号 %(no)s）。",
                        n=count,
                        no=batch.batch_no,
                    ),
                    "success",
                )
                return redirect(url_for("contacts.bulk_returns"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "contacts/bulk_returns.html", form=form, errors=errors, problem=problem
    ), status
