"""支援措置 pages: place, release and change the flag (records officers, from the item page),
and the list of flags by review date (records officers; auditors read it)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import Role
from tracker.domain.errors import InputError
from tracker.extensions import db
from tracker.models import Item
from tracker.models.custody import Protection
from tracker.services import protection
from tracker.web.access import allow
from tracker.web.i18n import gettext as _
from tracker.web.protection.forms import PlaceForm, ReleaseForm, ReviewForm

bp = Blueprint("protection", __name__)

R, A = Role.RECORDS_OFFICER, Role.AUDITOR


def _back(item_id: int) -> ResponseReturnValue:
    return redirect(url_for("counter.item", item_id=item_id) + "#protection")


def _first_error(form: PlaceForm | ReleaseForm | ReviewForm) -> str:
    for name, errors in form.errors.items():
        if name == "csrf_token":
            return str(_("もう一度操作してください"))
        if errors:
            return f"{getattr(form, name).label.text}: {errors[0]}"
    return str(_("もう一度操作してください"))


@bp.route("/items/<int:item_id>/protection", methods=["POST"])
@allow(R)
def place(item_id: int) -> ResponseReturnValue:
    if db.session.get(Item, item_id) is None:
        abort(404)
    form = PlaceForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return _back(item_id)
    try:
        with db.attempt():
            flags = protection.place(
                db.session,
                actor=current_user.username,
                item_id=item_id,
                reason=form.reason.data,
                review_on=form.review_on.data,
                whole_envelope=bool(form.whole_envelope.data),
                now=now_utc(),
                today=today_jst(),
            )
    except InputError as refusal:
        flash(str(refusal), "error")
        return _back(item_id)
    flash(_("支援措置を設定しました（%(n)d件）。", n=len(flags)), "info")
    return _back(item_id)


def _flag_or_404(protection_id: int) -> Protection:
    row = db.session.get(Protection, protection_id)
    if row is None:
        abort(404)
    return row


@bp.route("/protections/<int:protection_id>/release", methods=["POST"])
@allow(R)
def release(protection_id: int) -> ResponseReturnValue:
    row = _flag_or_404(protection_id)
    form = ReleaseForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return _back(row.item_id)
    try:
        with db.attempt():
            protection.release(
                db.session,
                actor=current_user.username,
                protection_id=row.id,
                reason=form.reason.data,
                now=now_utc(),
            )
    except InputError as refusal:
        flash(str(refusal), "error")
        return _back(row.item_id)
    flash(_("支援措置を解除しました。"), "info")
    return _back(row.item_id)


@bp.route("/protections/<int:protection_id>/review", methods=["POST"])
@allow(R)
def review(protection_id: int) -> ResponseReturnValue:
    row = _flag_or_404(protection_id)
    form = ReviewForm()
    if not form.validate():
        flash(_first_error(form), "error")
        return _back(row.item_id)
    try:
        with db.attempt():
            protection.change_review(
                db.session,
                actor=current_user.username,
                protection_id=row.id,
                review_on=form.review_on.data,
                now=now_utc(),
                today=today_jst(),
            )
    except InputError as refusal:
        flash(str(refusal), "error")
        return _back(row.item_id)
    flash(_("見直し日を変更しました。"), "info")
    return _back(row.item_id)


@bp.route("/protections")
@allow(R, A)
def index() -> ResponseReturnValue:
    """Active flags, earliest review date first; no names, no reasons (control numbers)."""
    today = today_jst()
    rows = protection.due_for_review(db.session)
    return render_template("protection/index.html", rows=rows, today=today)
