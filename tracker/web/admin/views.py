"""User administration (SPEC §1: admins manage users but see no personal data)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tracker.clock import now_utc
from tracker.domain.codes import Role
from tracker.extensions import db, password_hasher
from tracker.models import User
from tracker.services import accounts
from tracker.web.access import allow
from tracker.web.admin.forms import NewUserForm, UnlockForm
from tracker.web.auth.forms import EmptyForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@allow(Role.ADMIN)
def users() -> ResponseReturnValue:
    rows = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    locked = accounts.locked_user_ids(db.session, now_utc())
    return render_template(
        "admin/users.html", users=rows, form=EmptyForm(), unlock_form=UnlockForm(), locked=locked
    )


@bp.route("/users/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_user() -> ResponseReturnValue:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            with db.attempt():
                user = accounts.create_user(
                    db.session,
                    password_hasher,
                    actor=current_user.username,
                    username=form.username.data or "",
                    role=Role(form.role.data),
                    password=form.password.data or "",
                    display_name=form.display_name.data,
                )
        except accounts.AccountError as refusal:
            field = {"password": form.password, "display_name": form.display_name}.get(
                refusal.field, form.username
            )
            field.errors = [*field.errors, str(refusal)]
        else:
            flash(_("ユーザー「%(name)s」を作成しました。", name=user.username), "info")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@allow(Role.ADMIN)
def toggle_active(user_id: int) -> ResponseReturnValue:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if user.id == current_user.user.id:
        flash(_("自分自身のアカウントは無効にできません。"), "error")
        return redirect(url_for("admin.users"))
    accounts.set_active(
        db.session, actor=current_user.username, user=user, active=not user.active, now=now_utc()
    )
    if user.active:
        flash(_("ユーザー「%(name)s」を有効にしました。", name=user.username), "info")
    else:
        flash(_("ユーザー「%(name)s」を無効にしました。", name=user.username), "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@allow(Role.ADMIN)
def unlock(user_id: int) -> ResponseReturnValue:
    """Lift the login locks on an account, from every address (issue 10), audited."""
    form = UnlockForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    accounts.unlock(db.session, actor=current_user.username, user=user, now=now_utc())
    flash(_("ユーザー「%(name)s」のロックを解除しました。", name=user.username), "info")
    return redirect(url_for("admin.users"))
