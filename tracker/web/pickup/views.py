"""Pickup days and slots (受取予約日・予約枠): counts only, never names. Clerks, records officers
and auditors read; records officers change. Every change goes through
:mod:`tracker.services.pickup` (audited, conditional on ``booked``)."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import Role
from tracker.domain.errors import InputError
from tracker.domain.pickup import SEED_WEEKEND_RANGES, Range, SlotSpec, day_slots, hm
from tracker.domain.wareki import format_wareki, parse_date
from tracker.extensions import db
from tracker.models import Location, PickupDay, PickupSlot
from tracker.services import pickup, slot_import
from tracker.web.access import allow
from tracker.web.i18n import gettext as _
from tracker.web.params import date_arg
from tracker.web.pickup.forms import (
    AddSlotForm,
    CapacityForm,
    ConfirmForm,
    CopyDayForm,
    CopyWeekForm,
    OpenDayForm,
    UploadForm,
)

bp = Blueprint("pickup", __name__)

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR

#: The list shows this many weeks from its first day (at most :data:`MAX_WEEKS`).
DEFAULT_WEEKS = 8
MAX_WEEKS = 26


def _locations() -> list[Location]:
    return list(
        db.session.scalars(
            select(Location)
            .where(Location.active.is_(True))
            .order_by(Location.is_default.desc(), Location.sort_order, Location.id)
        )
    )


def _location_choices(form_field: Any) -> list[Location]:
    locations = _locations()
    form_field.choices = [(loc.id, loc.name) for loc in locations]
    if form_field.data is None and locations:
        form_field.data = locations[0].id
    return locations


def _chosen_location(form_field: Any, locations: list[Location]) -> Location | None:
    found = next((loc for loc in locations if loc.id == form_field.data), None)
    if found is None:
        form_field.errors = [*form_field.errors, _("受取場所を選んでください")]
    return found


def _date(field: Any, label: str) -> date | None:
    text = (field.data or "").strip()
    if not text:
        field.errors = [*field.errors, _("%(label)sを入力してください", label=label)]
        return None
    try:
        return parse_date(text)
    except InputError as error:
        field.errors = [*field.errors, str(error)]
        return None


def _value(field: Any, parse: Any) -> Any:
    try:
        return parse(field.data or "")
    except InputError as error:
        field.errors = [*field.errors, str(error)]
        return None


def _minutes(text: str) -> int:
    return slot_import.parse_count(text, _("枠の長さ（分）"), 5, 480)


def _capacity(text: str) -> int:
    return slot_import.parse_count(text, _("定員"), 0, 999)


# --- the list -----------------------------------------------------------------------------------


def _week_forms() -> tuple[CopyWeekForm, UploadForm]:
    copy_form = CopyWeekForm(formdata=None)
    _location_choices(copy_form.location)
    upload_form = UploadForm(formdata=None)
    _location_choices(upload_form.location)
    return copy_form, upload_form


@bp.route("/pickup/days")
@allow(C, R, A)
def days() -> ResponseReturnValue:
    """The open days from ``from`` (default today) for ``weeks`` weeks, with booked/capacity."""
    today = today_jst()
    first = date_arg("from", _("表示の開始日"), today) or today
    try:
        weeks = max(1, min(MAX_WEEKS, int(request.args.get("weeks", DEFAULT_WEEKS))))
    except ValueError:
        weeks = DEFAULT_WEEKS
    last = first + timedelta(weeks=weeks) - timedelta(days=1)
    copy_form, upload_form = _week_forms()
    return _render_days(first, last, weeks, copy_form, upload_form, 200)


def _render_days(
    first: date,
    last: date,
    weeks: int,
    copy_form: CopyWeekForm,
    upload_form: UploadForm,
    status: int,
    **extra: Any,
) -> ResponseReturnValue:
    return render_template(
        "pickup/days.html",
        days=pickup.days_between(db.session, first, last),
        first=first,
        last=last,
        weeks=weeks,
        earlier=first - timedelta(weeks=weeks),
        later=last + timedelta(days=1),
        can_change=current_user.has_role(R),
        copy_form=copy_form,
        upload_form=upload_form,
        columns=slot_import.COLUMNS,
        limit_mb=current_app.config["TRACKER"].max_upload_mb,
        hm=hm,
        **extra,
    ), status


# --- opening a day ------------------------------------------------------------------------------


def _pattern_slots(form: OpenDayForm) -> list[SlotSpec] | None:
    """The slots the form asks for, or None with the errors on the fields (row and column)."""
    if form.pattern.data != "custom":
        return day_slots(SEED_WEEKEND_RANGES)
    ranges: list[Range] = []
    bad = False
    for number, entry in enumerate(form.ranges.entries, start=1):
        row = entry.form
        texts = [row.start.data, row.end.data, row.minutes.data, row.capacity.data, row.breaks.data]
        if not any((t or "").strip() for t in texts):
            continue
        start = _value(row.start, slot_import.parse_time)
        end = _value(row.end, slot_import.parse_time)
        minutes = _value(row.minutes, _minutes)
        capacity = _value(row.capacity, _capacity)
        breaks = _value(row.breaks, slot_import.parse_breaks)
        if None in (start, end, minutes, capacity, breaks):
            bad = True
            continue
        span = Range(start, end, minutes, capacity, breaks)
        try:
            day_slots([span])
        except InputError as error:
            row.end.errors = [*row.end.errors, _("%(n)d行目: %(e)s", n=number, e=str(error))]
            bad = True
            continue
        ranges.append(span)
    if bad:
        return None
    if not ranges:
        form.pattern.errors = [*form.pattern.errors, _("予約枠の行を1行以上入力してください")]
        return None
    try:
        return day_slots(ranges)
    except InputError as error:
        form.pattern.errors = [*form.pattern.errors, str(error)]
        return None


@bp.route("/pickup/days/open", methods=["GET", "POST"])
@allow(R)
def open_day() -> ResponseReturnValue:
    """Open a day: the seed's weekend pattern or a custom one, with a preview before saving."""
    form = OpenDayForm()
    locations = _location_choices(form.location)
    slots: list[SlotSpec] | None = None
    error: str | None = None
    if request.method == "GET":
        # the custom table starts as the weekend pattern, to be edited
        for entry, span in zip(form.ranges.entries, SEED_WEEKEND_RANGES, strict=False):
            entry.form.start.data, entry.form.end.data = hm(span.start), hm(span.end)
            entry.form.minutes.data, entry.form.capacity.data = (
                str(span.minutes),
                str(span.capacity),
            )
    if request.method == "POST" and form.validate():
        day = _date(form.day, _("日付"))
        location = _chosen_location(form.location, locations)
        slots = _pattern_slots(form)
        today = today_jst()
        if day is not None and day < today:
            form.day.errors = [*form.day.errors, _("過去の日付は指定できません")]
            day = None
        if day is not None and location is not None and slots is not None and form.save.data:
            try:
                with db.attempt():
                    opened = pickup.open_day(
                        db.session,
                        actor=current_user.username,
                        day=day,
                        location=location,
                        slots=slots,
                        note=form.note.data,
                        now=now_utc(),
                    )
            except InputError as refusal:
                error = str(refusal)
            else:
                flash(
                    _(
                        "%(day)sを受取予約日にしました（%(n)d枠、%(places)d人）。",
                        day=format_wareki(day),
                        n=len(slots),
                        places=sum(s.capacity for s in slots),
                    ),
                    "info",
                )
                return redirect(url_for("pickup.day", day_id=opened.id))
        if day is not None and location is not None and slots is not None and error is None:
            # a preview: everything is fine, nothing written yet
            return render_template(
                "pickup/open.html", form=form, slots=slots, error=None, hm=hm
            ), 200
    return render_template("pickup/open.html", form=form, slots=None, error=error, hm=hm), (
        422 if request.method == "POST" else 200
    )


# --- one day ------------------------------------------------------------------------------------


def _day_or_404(day_id: int) -> PickupDay:
    found = db.session.get(PickupDay, day_id)
    if found is None:
        abort(404)
    return found


def _slot_or_404(day: PickupDay, slot_id: int) -> PickupSlot:
    found = db.session.get(PickupSlot, slot_id)
    if found is None or found.day_id != day.id:
        abort(404)
    return found


def _render_day(day: PickupDay, status: int = 200, **forms: Any) -> ResponseReturnValue:
    capacity_forms = {}
    for slot in day.slots:
        given = forms.get("capacity_form")
        if given is not None and forms.get("capacity_slot") == slot.id:
            capacity_forms[slot.id] = given
            continue
        blank = CapacityForm(formdata=None, prefix=f"s{slot.id}")
        blank.capacity.data = str(slot.capacity)
        capacity_forms[slot.id] = blank
    return render_template(
        "pickup/day.html",
        day=day,
        today=today_jst(),
        can_change=current_user.has_role(R),
        capacity_forms=capacity_forms,
        add_form=forms.get("add_form") or AddSlotForm(formdata=None),
        copy_form=forms.get("copy_form") or CopyDayForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        error=forms.get("error"),
        hm=hm,
    ), status


@bp.route("/pickup/days/<int:day_id>")
@allow(C, R, A)
def day(day_id: int) -> ResponseReturnValue:
    return _render_day(_day_or_404(day_id))


@bp.route("/pickup/days/<int:day_id>/slots/<int:slot_id>/capacity", methods=["POST"])
@allow(R)
def change_capacity(day_id: int, slot_id: int) -> ResponseReturnValue:
    """Change a slot's capacity; below its bookings is refused (409 from the service)."""
    found = _day_or_404(day_id)
    slot = _slot_or_404(found, slot_id)
    form = CapacityForm(prefix=f"s{slot.id}")
    if not form.validate():
        abort(400)
    capacity = _value(form.capacity, _capacity)
    if capacity is None:
        return _render_day(found, 422, capacity_form=form, capacity_slot=slot.id)
    span = f"{hm(slot.starts_at)}–{hm(slot.ends_at)}"
    pickup.change_capacity(
        db.session, actor=current_user.username, slot=slot, capacity=capacity, now=now_utc()
    )
    flash(_("%(span)s の定員を%(n)d人にしました。", span=span, n=capacity), "info")
    return redirect(url_for("pickup.day", day_id=found.id))


@bp.route("/pickup/days/<int:day_id>/slots", methods=["POST"])
@allow(R)
def add_slot(day_id: int) -> ResponseReturnValue:
    found = _day_or_404(day_id)
    form = AddSlotForm()
    if not form.validate():
        abort(400)
    start = _value(form.start, slot_import.parse_time)
    end = _value(form.end, slot_import.parse_time)
    capacity = _value(form.capacity, _capacity)
    if start is None or end is None or capacity is None:
        return _render_day(found, 422, add_form=form)
    try:
        with db.attempt():
            pickup.add_slot(
                db.session,
                actor=current_user.username,
                day=found,
                spec=SlotSpec(start, end, capacity),
                now=now_utc(),
            )
    except InputError as refusal:
        form.start.errors = [*form.start.errors, str(refusal)]
        db.session.refresh(found)
        return _render_day(found, 422, add_form=form)
    flash(_("%(span)s の枠を追加しました。", span=f"{hm(start)}–{hm(end)}"), "info")
    return redirect(url_for("pickup.day", day_id=found.id))


@bp.route("/pickup/days/<int:day_id>/slots/<int:slot_id>/remove", methods=["POST"])
@allow(R)
def remove_slot(day_id: int, slot_id: int) -> ResponseReturnValue:
    found = _day_or_404(day_id)
    slot = _slot_or_404(found, slot_id)
    if not ConfirmForm().validate():
        abort(400)
    span = f"{hm(slot.starts_at)}–{hm(slot.ends_at)}"
    try:
        with db.attempt():
            pickup.remove_slot(db.session, actor=current_user.username, slot=slot, now=now_utc())
    except pickup.PickupError as refusal:
        db.session.refresh(found)
        return _render_day(found, 422, error=str(refusal))
    flash(_("%(span)s の枠を削除しました。", span=span), "info")
    return redirect(url_for("pickup.day", day_id=found.id))


@bp.route("/pickup/days/<int:day_id>/close", methods=["POST"])
@allow(R)
def close(day_id: int) -> ResponseReturnValue:
    found = _day_or_404(day_id)
    if not ConfirmForm().validate():
        abort(400)
    label = format_wareki(found.day)
    pickup.close_day(db.session, actor=current_user.username, day=found, now=now_utc())
    flash(_("%(day)sの受取予約日を取り消しました。", day=label), "info")
    return redirect(url_for("pickup.days"))


def _copy_message(result: pickup.CopyResult) -> str:
    opened = "、".join(format_wareki(d) for d in result.opened) or _("なし")
    message: str = _("受取予約日にした日: %(days)s。", days=opened)
    if result.skipped:
        skipped = "、".join(format_wareki(d) for d in result.skipped)
        message += _("既に受取予約日のため飛ばした日（変更していません）: %(days)s。", days=skipped)
    return message


@bp.route("/pickup/days/<int:day_id>/copy", methods=["POST"])
@allow(R)
def copy_day(day_id: int) -> ResponseReturnValue:
    """This day's slots to another date at the same location (an open date is skipped)."""
    found = _day_or_404(day_id)
    form = CopyDayForm()
    if not form.validate():
        abort(400)
    target = _date(form.target, _("コピー先の日付"))
    if target is None:
        return _render_day(found, 422, copy_form=form)
    try:
        with db.attempt():
            result = pickup.copy_day(
                db.session,
                actor=current_user.username,
                source=found,
                target=target,
                today=today_jst(),
                now=now_utc(),
            )
    except pickup.PickupError as refusal:
        form.target.errors = [*form.target.errors, str(refusal)]
        return _render_day(found, 422, copy_form=form)
    flash(_copy_message(result), "info")
    return redirect(url_for("pickup.day", day_id=found.id))


@bp.route("/pickup/weeks/copy", methods=["POST"])
@allow(R)
def copy_week() -> ResponseReturnValue:
    """Every open day of one ISO week to the same weekdays of another (open dates skipped)."""
    form = CopyWeekForm()
    locations = _location_choices(form.location)
    today = today_jst()
    if not form.validate():
        abort(400)
    source = _date(form.source, _("コピー元の週"))
    target = _date(form.target, _("コピー先の週"))
    location = _chosen_location(form.location, locations)
    if source is not None and target is not None and location is not None:
        try:
            with db.attempt():
                result = pickup.copy_week(
                    db.session,
                    actor=current_user.username,
                    location=location,
                    source_week=source,
                    target_week=target,
                    today=today,
                    now=now_utc(),
                )
        except pickup.PickupError as refusal:
            form.target.errors = [*form.target.errors, str(refusal)]
        else:
            flash(_copy_message(result), "info")
            monday = pickup.monday_of(target).isoformat()
            return redirect(url_for("pickup.days") + f"?from={monday}")
    upload_form = UploadForm(formdata=None)
    _location_choices(upload_form.location)
    last = today + timedelta(weeks=DEFAULT_WEEKS) - timedelta(days=1)
    return _render_days(today, last, DEFAULT_WEEKS, form, upload_form, 422)


# --- the CSV upload -----------------------------------------------------------------------------


@bp.route("/pickup/days/import", methods=["GET", "POST"])
@allow(R)
def upload() -> ResponseReturnValue:
    """Upload a slots file: validate only, or import (all or nothing), like the CLI."""
    form = UploadForm()
    locations = _location_choices(form.location)
    report: slot_import.SlotImportReport | None = None
    refusal: str | None = None
    status = 200
    if form.validate_on_submit():
        location = _chosen_location(form.location, locations)
        if location is not None:
            with tempfile.TemporaryDirectory(prefix="tracker-slots-") as folder:
                path = Path(folder) / "upload.csv"
                form.file.data.save(path)
                settled = slot_import.import_file(
                    db.session,
                    path,
                    actor=current_user.username,
                    today=today_jst(),
                    now=now_utc(),
                    location_code=location.code,
                    encoding=form.encoding.data or "auto",
                    dry_run=not form.commit.data,
                )
            report, refusal = settled.report, settled.refusal
        if report is None or not report.ok:
            status = 422
    elif request.method == "POST":
        status = 422
    return render_template(
        "pickup/upload.html",
        form=form,
        report=report,
        refusal=refusal,
        columns=slot_import.COLUMNS,
        limit_mb=current_app.config["TRACKER"].max_upload_mb,
    ), status
