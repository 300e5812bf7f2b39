"""Administration: users, storage locations and office settings (SPEC §1, issue 12).

Admins manage accounts, locations and settings but see no personal data: no names of the
people whose cards are kept, and no counts of them either.
"""

from __future__ import annotations

from flask import (
    Blueprint,
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
from sqlalchemy import select

from tracker.clock import now_utc
from tracker.domain.codes import Role
from tracker.domain.directory import parse_group_lines
from tracker.domain.errors import InputError
from tracker.extensions import db, password_hasher
from tracker.models import Location, User
from tracker.services import accounts, location_admin, settings
from tracker.web.access import allow
from tracker.web.admin.forms import (
    WEEKDAY_LABELS,
    ActiveForm,
    DirectoryGroupsForm,
    NewLocationForm,
    NewUserForm,
    RenameLocationForm,
    RoleForm,
    SettingsForm,
    UnlockForm,
)
from tracker.web.auth.forms import EmptyForm
from tracker.web.i18n import gettext as _

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
                    must_change_password=True,  # the initial password is the admin's, not theirs
                )
        except accounts.AccountError as refusal:
            field = {"password": form.password, "display_name": form.display_name}.get(
                refusal.field, form.username
            )
            field.errors = [*field.errors, str(refusal)]
        else:
            flash(
                _(
                    "ユーザー「%(name)s」を作成しました。"
                    "初回のログインで、初期パスワードの変更を求められます。",
                    name=user.username,
                ),
                "info",
            )
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@allow(Role.ADMIN)
def toggle_active(user_id: int) -> ResponseReturnValue:
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if user.id == current_user.user.id:
        flash(_("自分自身のアカウントは無効にできません。"), "error")
        return redirect(url_for("admin.users"))
    wanted = {"1": True, "0": False}.get(form.active.data or "", not user.active)
    if wanted != user.active:
        try:
            with db.attempt():
                accounts.set_active(
                    db.session,
                    actor=current_user.username,
                    user=user,
                    active=wanted,
                    now=now_utc(),
                )
        except accounts.AccountError as refusal:
            flash(str(refusal), "error")
            return redirect(url_for("admin.users"))
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


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>")
@allow(Role.ADMIN)
def user(user_id: int) -> ResponseReturnValue:
    """One account: its role, state and the actions on it."""
    account = _user_or_404(user_id)
    role_form = RoleForm(role=account.role)
    locked = account.id in accounts.locked_user_ids(db.session, now_utc())
    return render_template(
        "admin/user.html",
        account=account,
        role_form=role_form,
        form=EmptyForm(),
        unlock_form=UnlockForm(),
        locked=locked,
        is_self=account.id == current_user.user.id,
    )


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@allow(Role.ADMIN)
def change_role(user_id: int) -> ResponseReturnValue:
    """Another role for an account (audited before/after); its sessions end."""
    account = _user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("役割を選んでください。"), "error")
        return redirect(url_for("admin.user", user_id=account.id))
    try:
        with db.attempt():
            accounts.change_role(
                db.session,
                actor=current_user.username,
                user=account,
                role=Role(form.role.data),
                now=now_utc(),
            )
    except accounts.AccountError as refusal:
        flash(str(refusal), "error")
        return redirect(url_for("admin.user", user_id=account.id))
    flash(
        _(
            "ユーザー「%(name)s」の役割を「%(role)s」に変更しました。"
            "このユーザーは次のログインから新しい役割になります。",
            name=account.username,
            role=_(Role(account.role).label_ja),
        ),
        "info",
    )
    if account.id == current_user.user.id:  # demoted themselves: that session has ended
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.user", user_id=account.id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@allow(Role.ADMIN)
def reset_password(user_id: int) -> ResponseReturnValue:
    """A one-time password, shown on this response only (never flashed: the flash message
    travels in the cookie); the account must replace it at its next login."""
    account = _user_or_404(user_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if account.id == current_user.user.id:
        flash(_("自分のパスワードは「パスワードの変更」画面で変更してください。"), "error")
        return redirect(url_for("admin.user", user_id=account.id))
    password = accounts.reset_password(
        db.session, password_hasher, actor=current_user.username, user=account, now=now_utc()
    )
    return render_template("admin/password_reset.html", account=account, password=password)


# --- office settings -----------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
@allow(Role.ADMIN)
def settings_page() -> ResponseReturnValue:
    """Municipality, office, receipt addressee and counter hours (audited before/after)."""
    current = settings.load(db.session)
    form = SettingsForm()
    if request.method == "GET":
        form.municipality.data = current.municipality
        form.office.data = current.office
        form.receipt_addressee.data = current.receipt_addressee
        form.notice_contact.data = current.notice_contact
        form.remail_close_days.data = current.remail_close_days
        form.stock_check_interval_months.data = current.stock_check_interval_months
        for day, entry in enumerate(form.days):
            open_hours = current.opening_hours.get(day)
            entry.form.closed.data = open_hours is None
            entry.form.opens.data, entry.form.closes.data = open_hours or (None, None)
    elif form.validate_on_submit():
        hours: settings.OpeningHours = {}
        for day, entry in enumerate(form.days):
            if not entry.form.closed.data:
                hours[day] = (entry.form.opens.data, entry.form.closes.data)
        new = settings.OfficeSettings(
            municipality=form.municipality.data or "",
            office=form.office.data or "",
            receipt_addressee=form.receipt_addressee.data or "",
            notice_contact=form.notice_contact.data or "",
            opening_hours=hours,
            remail_close_days=form.remail_close_days.data or 0,
            stock_check_interval_months=form.stock_check_interval_months.data or 0,
        )
        try:
            with db.attempt():
                changed = settings.save(db.session, new, actor=current_user.username, now=now_utc())
        except settings.SettingsError as refusal:
            target = getattr(form, refusal.field, None)
            if refusal.field.startswith("hours-"):
                target = form.days[int(refusal.field.removeprefix("hours-"))].form.closes
            if target is None:
                flash(str(refusal), "error")
            else:
                target.errors = [*target.errors, str(refusal)]
        else:
            if changed:
                flash(_("設定を保存しました。"), "info")
            else:
                flash(_("変更はありませんでした。"), "info")
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form, weekdays=WEEKDAY_LABELS)


@bp.route("/settings/directory", methods=["GET", "POST"])
@allow(Role.ADMIN)
def directory_groups() -> ResponseReturnValue:
    """The directory groups that give each role at a directory login (issue 17), audited."""
    form = DirectoryGroupsForm()
    fields = {role: getattr(form, role.value) for role in Role}
    if request.method == "GET":
        for role, groups in accounts.load_group_roles(db.session).items():
            fields[role].data = "\n".join(groups)
    elif form.validate_on_submit():
        table: dict[Role, tuple[str, ...]] = {}
        refused = False
        for role, field in fields.items():
            try:
                table[role] = parse_group_lines(field.data or "", role.label_ja)
            except InputError as refusal:
                field.errors = [*field.errors, str(refusal)]
                refused = True
        if not refused:
            try:
                with db.attempt():
                    changed = accounts.save_group_roles(
                        db.session, table, actor=current_user.username, now=now_utc()
                    )
            except InputError as refusal:
                flash(str(refusal), "error")
            else:
                message = _("設定を保存しました。") if changed else _("変更はありませんでした。")
                flash(message, "info")
                return redirect(url_for("admin.directory_groups"))
    ldap = current_app.config["TRACKER"].ldap
    return render_template(
        "admin/directory_groups.html",
        form=form,
        fields=fields,
        ldap_urls=ldap.urls if ldap is not None else (),
    )


# --- storage locations ---------------------------------------------------------------------


def _location_or_404(location_id: int) -> Location:
    location = db.session.get(Location, location_id)
    if location is None:
        abort(404)
    return location


@bp.route("/locations", methods=["GET", "POST"])
@allow(Role.ADMIN)
def locations() -> ResponseReturnValue:
    """Every location (retired ones too, marked) and a form to add one."""
    form = NewLocationForm()
    if form.validate_on_submit():
        try:
            with db.attempt():
                location = location_admin.add_location(
                    db.session,
                    actor=current_user.username,
                    code=form.code.data or "",
                    name=form.name.data or "",
                )
        except location_admin.LocationError as refusal:
            field = form.code if refusal.field == "code" else form.name
            field.errors = [*field.errors, str(refusal)]
        else:
            flash(_("保管場所「%(name)s」を追加しました。", name=location.name), "info")
            return redirect(url_for("admin.locations"))
    rows = db.session.scalars(
        select(Location).order_by(Location.active.desc(), Location.sort_order, Location.id)
    ).all()
    return render_template(
        "admin/locations.html", locations=rows, form=form, retire_form=EmptyForm()
    )


@bp.route("/locations/<int:location_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_location(location_id: int) -> ResponseReturnValue:
    """Rename a location (its code stays: import files use it)."""
    location = _location_or_404(location_id)
    form = RenameLocationForm()
    if request.method == "GET":
        form.name.data = location.name
        form.expected_name.data = location.name
    elif form.validate_on_submit():
        try:
            with db.attempt():
                renamed = location_admin.rename_location(
                    db.session,
                    actor=current_user.username,
                    location=location,
                    name=form.name.data or "",
                    expected_name=form.expected_name.data or "",
                )
        except location_admin.LocationError as refusal:
            form.name.errors = [*form.name.errors, str(refusal)]
        else:
            if renamed:
                flash(_("保管場所の名前を「%(name)s」に変更しました。", name=location.name), "info")
            else:
                flash(_("変更はありませんでした。"), "info")
            return redirect(url_for("admin.locations"))
    return render_template(
        "admin/location_edit.html", location=location, form=form, retire_form=EmptyForm()
    )


@bp.route("/locations/<int:location_id>/retire", methods=["POST"])
@allow(Role.ADMIN)
def retire_location(location_id: int) -> ResponseReturnValue:
    """Take an empty location out of the intake and move selects (old records keep it)."""
    location = _location_or_404(location_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.attempt():
            location_admin.retire_location(
                db.session, actor=current_user.username, location=location
            )
    except location_admin.LocationError as refusal:
        flash(str(refusal), "error")
    else:
        flash(_("保管場所「%(name)s」を廃止しました。", name=location.name), "info")
    return redirect(url_for("admin.locations"))


@bp.route("/locations/<int:location_id>/reactivate", methods=["POST"])
@allow(Role.ADMIN)
def reactivate_location(location_id: int) -> ResponseReturnValue:
    """Undo a retirement (a mistaken one, or a place used again)."""
    location = _location_or_404(location_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    location_admin.reactivate_location(db.session, actor=current_user.username, location=location)
    flash(_("保管場所「%(name)s」を再び使用できるようにしました。", name=location.name), "info")
    return redirect(url_for("admin.locations"))
