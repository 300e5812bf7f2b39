"""Login, logout and the UI language. Stable paths: ``/login``, ``/logout`` (issue #2)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import Session

from tracker.clock import now_utc
from tracker.domain.codes import Role
from tracker.extensions import db, password_hasher
from tracker.services import accounts
from tracker.web.access import allow, public
from tracker.web.auth.forms import ChangePasswordForm, EmptyForm, LoginForm
from tracker.web.i18n import gettext as _
from tracker.web.principal import Principal

bp = Blueprint("auth", __name__)

SUPPORTED_LANGUAGES = ("ja", "en")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        now = now_utc()
        ldap = current_app.config["TRACKER"].ldap
        if ldap is not None:  # directory login (issue 17); local passwords still log in
            result = accounts.authenticate_with_directory(
                db.read_session,
                db.session,
                password_hasher,
                login_policy(),
                ldap,
                username=form.username.data or "",
                password=form.password.data or "",
                client=client_address(),
                now=now,
            )
        else:
            result = accounts.authenticate(
                db.read_session,
                db.session,
                password_hasher,
                login_policy(),
                username=form.username.data or "",
                password=form.password.data or "",
                client=client_address(),
                now=now,
            )
        if result.user is not None:
            token = accounts.start_session(db.session, result.user, now)
            language = session.get("lang")
            session.clear()  # a fresh session: nothing carried over from before login
            if language:
                session["lang"] = language
            login_user(Principal(result.user, token))
            return redirect(_safe_next(form.next.data) or url_for("main.index"))
        if result.outcome is accounts.LoginOutcome.UNAVAILABLE:
            flash(
                _(
                    "ディレクトリサーバー（LDAP）に接続できないため、ログインできませんでした。"
                    "しばらくしてからもう一度お試しください。"
                    "続く場合はシステム管理者に連絡してください。"
                ),
                "error",
            )
            return render_template("auth/login.html", form=form)
        # One message for unknown user, wrong password, disabled and locked (issue #2).
        flash(
            _(
                "ユーザー名またはパスワードが正しくありません。"
                "続けて5回失敗すると、この端末からはそのアカウントに15分間ログインできなくなります。"
            ),
            "error",
        )
    elif request.method == "GET":
        form.next.data = request.args.get("next", "")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
@public
def logout() -> ResponseReturnValue:
    """GET shows a confirmation button (logging out changes state, so it is a POST)."""
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        if current_user.is_authenticated:
            accounts.end_session(db.session, current_user.get_id(), now_utc())
        logout_user()
        session.clear()
        flash(_("ログアウトしました。"), "info")
        return redirect(url_for("auth.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@allow(Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR, Role.ADMIN)
def change_password() -> ResponseReturnValue:
    """Everyone changes their own password here; a new account or one an admin has reset is
    sent here until it has (issue 12). The person's other sessions end."""
    form = ChangePasswordForm()
    forced = current_user.user.must_change_password
    if current_user.user.password_hash is None:  # a directory account: its password is there
        return render_template("auth/change_password.html", form=None, forced=False)
    if form.validate_on_submit():
        db.session.rollback()  # the password checks run outside any transaction
        try:
            accounts.change_own_password(
                db.read_session,
                db.session,
                password_hasher,
                login_policy(),
                user_id=current_user.user.id,
                current_password=form.current_password.data or "",
                new_password=form.password.data or "",
                client=client_address(),
                now=now_utc(),
                keep_token=current_user.token,
            )
        except accounts.AccountError as refusal:
            # a wrong current password was counted as a failed login: that still commits
            target = form.current_password if refusal.field == "current_password" else form.password
            target.errors = [*target.errors, str(refusal)]
        else:
            flash(_("パスワードを変更しました。ほかの端末でのログインは終了しました。"), "info")
            return redirect(url_for("main.index"))
    return render_template("auth/change_password.html", form=form, forced=forced)


@bp.route("/language", methods=["POST"])
@public
def set_language() -> ResponseReturnValue:
    form = EmptyForm()
    if form.validate_on_submit():
        language = request.form.get("lang", "")
        if language in SUPPORTED_LANGUAGES:
            session["lang"] = language
    return redirect(_safe_next(request.form.get("next")) or url_for("main.index"))


def login_policy() -> accounts.LoginPolicy:
    config = current_app.config["TRACKER"]
    return accounts.LoginPolicy(
        threshold=config.lockout_threshold,
        window=config.lockout_window,
        lock_for=config.lockout_duration,
        slowdown_after=config.login_slowdown_after,
        slowdown=config.login_slowdown,
    )


def client_address() -> str:
    """The address lockouts are kept for: the TCP peer, or X-Forwarded-For as far as the
    configured trusted proxies set it (ProxyFix in create_app, issue 10)."""
    return request.remote_addr or "unknown"


def password_reentered(password: str, *, first: Callable[[Session], None] | None = None) -> bool:
    """The logged-in person typed their password again (four-eyes approval, issue 10).

    Counts exactly like a login: failures, lockout (per address) and audit. The request's
    transaction is ended first, so nothing may have been written before this is asked: the
    Argon2 check runs outside any transaction. The bookkeeping is flushed; the caller commits
    (on refusal too). Wrong and locked look the same to the caller.
    """
    db.session.rollback()
    ldap = current_app.config["TRACKER"].ldap
    if ldap is not None and current_user.user.password_hash is None:  # a directory account
        result = accounts.confirm_with_directory(
            db.read_session,
            db.session,
            password_hasher,
            login_policy(),
            ldap,
            user=current_user.user,
            password=password,
            client=client_address(),
            now=now_utc(),
            first=first,
        )
    else:
        result = accounts.confirm_password(
            db.read_session,
            db.session,
            password_hasher,
            login_policy(),
            user=current_user.user,
            password=password,
            client=client_address(),
            now=now_utc(),
            first=first,
        )
    return result.ok


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never redirect to another host after login (open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target
