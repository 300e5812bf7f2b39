"""Intake at the counter, envelope pages, edits, moves, locations, labels and the scan box."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import ItemStatus, Role
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text, check_return_date
from tracker.domain.tracking import normalize_tracking_no
from tracker.domain.wareki import format_wareki
from tracker.extensions import db
from tracker.models import Envelope, Item, Location
from tracker.services import intake, lookup
from tracker.web.access import allow
from tracker.web.custody.forms import EnvelopeEditForm, IntakeForm, ItemEditForm, MoveForm
from tracker.web.params import id_arg, id_args

bp = Blueprint("custody", __name__)

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR


def _location_choices() -> list[tuple[int, str]]:
    rows = db.session.scalars(
        select(Location).where(Location.active.is_(True)).order_by(Location.sort_order)
    )
    return [(loc.id, loc.name) for loc in rows]


def _default_location_id() -> int | None:
    return db.session.scalar(select(Location.id).where(Location.is_default.is_(True)))


def _envelope_or_404(envelope_id: int) -> Envelope:
    envelope = db.session.scalar(
        select(Envelope)
        .where(Envelope.id == envelope_id)
        .options(selectinload(Envelope.items), selectinload(Envelope.location))
    )
    if envelope is None:
        abort(404)
    return envelope


@bp.route("/envelopes/new", methods=["GET", "POST"])
@allow(C, R)
def new_envelope() -> ResponseReturnValue:
    """One screen for one envelope and its cards; keyboard-first for a barcode scanner."""
    form = IntakeForm()
    form.location.choices = _location_choices()
    today = today_jst()
    if request.method == "GET":
        # The last envelope's return date: a day's returns are logged together (issue 12).
        form.return_date.data = format_wareki(_last_return_date(today) or today)
        form.location.data = id_arg("location") or _default_location_id()
        form.slot.data = request.args.get("slot", "")
    duplicate: Envelope | None = None
    if request.method == "POST" and form.validate():
        if "add_item" in request.form:
            form.items.append_entry()
            return render_template(  # focus goes to the new row's name, for the keyboard
                "custody/intake.html", form=form, duplicate=None, focus_row=len(form.items)
            )
        if "remove_item" in request.form and len(form.items) > 1:
            index = request.form.get("remove_item", type=int)
            if index is not None and 0 <= index < len(form.items):
                form.items.entries.pop(index)
            return render_template("custody/intake.html", form=form, duplicate=None, focus_row=None)
        values = form.checked_values(today)
        if values is not None and not form.tracking_confirmed(values[0].tracking_no):
            values = None  # shown again with the warning and the box to tick; nothing saved
        elif values is None and form.tracking_warning is not None:
            digits = normalize_tracking_no(form.tracking_no.data or "")
            form.tracking_confirmed(digits)  # offer the box beside the other errors
        if values is not None:
            envelope_fields, item_fields = values
            try:
                with db.attempt():
                    envelope = intake.log_envelope(
                        db.session,
                        actor=current_user.username,
                        fields=envelope_fields,
                        location_id=form.location.data,
                        items=item_fields,
                        now=now_utc(),
                    )
            except intake.DuplicateEnvelope as refusal:
                duplicate = refusal.envelope
                form.tracking_no.errors = [*form.tracking_no.errors, str(refusal)]
            except IntegrityError:  # a colleague registered the same number a moment ago
                duplicate = intake.find_by_tracking_no(db.session, envelope_fields.tracking_no)
                form.tracking_no.errors = [
                    *form.tracking_no.errors,
                    _("このお問い合わせ番号は登録済みです"),
                ]
            except intake.IntakeError as refusal:
                form.items.errors = [str(refusal)]
            else:
                flash(
                    _(
                        "登録しました: 管理番号 %(control)s（%(count)d件）",
                        control=envelope.control_no,
                        count=len(item_fields),
                    ),
                    "info",
                )
                return redirect(
                    url_for(
                        "custody.new_envelope",
                        location=envelope.location_id,
                        slot=envelope.slot or "",
                        last=envelope.id,
                        returned=envelope.returned_on.isoformat(),
                    )
                )
    last = id_arg("last")
    return render_template(
        "custody/intake.html",
        form=form,
        duplicate=duplicate,
        focus_row=None,
        last=db.session.get(Envelope, last) if last else None,
    )


def _last_return_date(today: date) -> date | None:
    """The return date carried over from the envelope just registered (``?returned=``);
    None when absent or not a date intake would accept (a hand-edited URL)."""
    try:
        return check_return_date(request.args.get("returned"), today)
    except InputError:
        return None


@bp.route("/envelopes/<int:envelope_id>")
@allow(C, R, A)
def envelope(envelope_id: int) -> ResponseReturnValue:
    """The envelope and its items: personal data, so every opening is logged (SPEC §8)."""
    record = _envelope_or_404(envelope_id)
    intake.record_view(db.session, actor=current_user.username, envelope=record)
    move_form = MoveForm()
    move_form.location.choices = _location_choices()
    move_form.location.data = record.location_id
    move_form.slot.data = record.slot or ""
    can_change = current_user.has_role(C, R)
    return render_template(
        "custody/envelope.html",
        envelope=record,
        move_form=move_form,
        can_change=can_change,
        can_hand_over=can_change,  # the same roles hand over (counter.hand_over)
    )


@bp.route("/envelopes/<int:envelope_id>/edit", methods=["GET", "POST"])
@allow(C, R)
def edit_envelope(envelope_id: int) -> ResponseReturnValue:
    record = _envelope_or_404(envelope_id)
    form = EnvelopeEditForm()
    if request.method == "GET":
        form.tracking_no.data = record.tracking_no
        form.return_date.data = format_wareki(record.returned_on)
        form.return_reason.data = record.return_reason
        form.addressee.data = record.addressee
        form.address.data = record.address
        form.household_code.data = record.household_code or ""
    elif form.validate():
        fields = form.checked_values(today_jst(), record.slot)
        if fields is not None and fields.tracking_no == record.tracking_no:
            form.tracking_warning = None  # unchanged: confirmed (or imported) before
        if fields is not None and not form.tracking_confirmed(fields.tracking_no):
            fields = None  # shown again with the warning and the box to tick; nothing saved
        if fields is not None:
            try:
                with db.attempt():
                    changed = intake.edit_envelope(
                        db.session, actor=current_user.username, envelope=record, fields=fields
                    )
            except intake.DuplicateEnvelope as refusal:
                form.tracking_no.errors = [*form.tracking_no.errors, str(refusal)]
            else:
                flash(_("修正しました。") if changed else _("変更はありません。"), "info")
                return redirect(url_for("custody.envelope", envelope_id=record.id))
    return render_template("custody/envelope_edit.html", form=form, envelope=record)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@allow(C, R)
def edit_item(item_id: int) -> ResponseReturnValue:
    item = db.session.get(Item, item_id)
    if item is None:
        abort(404)
    form = ItemEditForm()
    if request.method == "GET":
        form.name.data = item.name
        form.name_kana.data = item.name_kana
        form.birth_date.data = format_wareki(item.birth_date)
        form.relationship.data = item.relationship_to_head or ""
        form.item_kind.data = item.kind
    elif form.validate():
        fields = form.checked_values(today_jst(), item.envelope.returned_on)
        if fields is not None:
            try:
                with db.attempt():
                    changed = intake.edit_item(
                        db.session, actor=current_user.username, item=item, fields=fields
                    )
            except intake.IntakeError as refusal:
                flash(str(refusal), "error")
            else:
                flash(_("修正しました。") if changed else _("変更はありません。"), "info")
                return redirect(url_for("custody.envelope", envelope_id=item.envelope_id))
    return render_template("custody/item_edit.html", form=form, item=item)


@bp.route("/envelopes/<int:envelope_id>/move", methods=["POST"])
@allow(C, R)
def move_envelope(envelope_id: int) -> ResponseReturnValue:
    record = _envelope_or_404(envelope_id)
    form = MoveForm()
    form.location.choices = _location_choices()
    if not form.validate():
        abort(400)
    try:
        slot = check_free_text(form.slot.data, "slot", required=False, label="保管位置")
    except InputError as error:
        flash(str(error), "error")
        return redirect(url_for("custody.envelope", envelope_id=record.id))
    try:
        with db.attempt():
            move = intake.move_envelope(
                db.session,
                actor=current_user.username,
                envelope=record,
                location_id=form.location.data,
                slot=slot,
            )
    except intake.IntakeError as refusal:
        flash(str(refusal), "error")
    else:
        flash(_("保管位置を変更しました。") if move else _("変更はありません。"), "info")
    return redirect(url_for("custody.envelope", envelope_id=record.id))


@bp.route("/locations")
@allow(C, R, A)
def locations() -> ResponseReturnValue:
    in_custody = (
        select(Envelope.location_id, func.count(Item.id).label("item_count"))
        .join(Item, Item.envelope_id == Envelope.id)
        .where(Item.status == ItemStatus.IN_CUSTODY.value)
        .group_by(Envelope.location_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Location, func.coalesce(in_custody.c.item_count, 0))
        .outerjoin(in_custody, in_custody.c.location_id == Location.id)
        .order_by(Location.sort_order)
    ).all()
    return render_template("custody/locations.html", rows=rows)


PAGE_SIZE = 100


@bp.route("/locations/<int:location_id>")
@allow(C, R, A)
def location(location_id: int) -> ResponseReturnValue:
    """What is held at one location, by slot: control numbers and dates, no names."""
    place = db.session.get(Location, location_id)
    if place is None:
        abort(404)
    after = request.args.get("after", default="", type=str)
    held = (
        select(
            Envelope,
            func.count(Item.id).label("items"),
        )
        .join(Item, Item.envelope_id == Envelope.id)
        .where(Envelope.location_id == place.id, Item.status == ItemStatus.IN_CUSTODY.value)
        .group_by(Envelope.id)
    )
    if after:
        held = held.where(Envelope.control_no > after)
    rows = db.session.execute(held.order_by(Envelope.control_no).limit(PAGE_SIZE + 1)).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_template(
        "custody/location.html",
        place=place,
        rows=rows,
        next_after=rows[-1][0].control_no if more else None,
    )


@bp.route("/labels.pdf")
@allow(C, R)
def labels() -> ResponseReturnValue:
    """A sheet of envelope labels (barcode of the control number, date, slot; no names)."""
    from tracker.pdf.labels import EnvelopeLabel, render_envelope_labels

    ids = id_args("id", limit=600)
    if not ids:
        abort(400)
    envelopes = db.session.scalars(
        select(Envelope)
        .where(Envelope.id.in_(ids))
        .options(selectinload(Envelope.location))
        .order_by(Envelope.control_no)
    ).all()
    if not envelopes:
        abort(404)
    pdf = render_envelope_labels(
        [EnvelopeLabel(e.control_no, e.returned_on, e.slot, e.location.code) for e in envelopes],
        skip=min(max(request.args.get("skip", 0, type=int), 0), 11),
    )
    intake.record_label_print(db.session, actor=current_user.username, envelopes=envelopes)
    name = envelopes[0].control_no if len(envelopes) == 1 else "labels"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


@bp.route("/search")
@allow(C, R, A)
def search() -> ResponseReturnValue:
    """The scan box: a label barcode or a tracking number opens the envelope at once, an
    item's control number (``E000000490-2``) the item."""
    query = request.args.get("q", "").strip()
    if not query:
        return redirect(url_for("main.index"))
    hit = lookup.find_scanned(db.session, query)
    if hit is not None and hit.item_id is not None:
        return redirect(url_for("counter.item", item_id=hit.item_id))
    if hit is not None:
        return redirect(url_for("custody.envelope", envelope_id=hit.envelope_id))
    return render_template("custody/search_none.html", query=query), 404
