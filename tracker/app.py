"""The Flask app: create_app(config), extensions, blueprints, access hook, headers, errors."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from tracker.config import Config
from tracker.db import Database, warn_if_not_durable
from tracker.extensions import babel, csrf, login_manager
from tracker.services import audit
from tracker.services.accounts import make_hasher
from tracker.services.transitions import Conflict
from tracker.web import menu, template_cache
from tracker.web.i18n import gettext as _
from tracker.web.rules import LazyBuilderRule

log = logging.getLogger(__name__)


class TrackerFlask(Flask):
    """Flask in which every request is one unit of work (indico's ``RH.process``).

    The request's database session commits once, after the view has returned; any exception
    (an error page, an abort, a conflict) skips the commit, and the teardown rolls back. Views
    never commit. URL builders are compiled on first use (:mod:`tracker.web.rules`).
    """

    url_rule_class = LazyBuilderRule

    def dispatch_request(self) -> ResponseReturnValue:
        result = super().dispatch_request()
        self.extensions["tracker.db"].commit_request()
        return result


def create_app(config: Config | None = None) -> Flask:
    """Build the app from an explicit config (``Config.from_env()`` when none is given)."""
    config = config or Config.from_env()
    app = TrackerFlask(__name__)
    app.config.update(
        TRACKER=config,
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.session_cookie_secure,
        SESSION_COOKIE_NAME="tracker_session",
        # Flask-Login: no "remember me" cookie; the server-side session is the only login.
        REMEMBER_COOKIE_DURATION=0,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-ended) session
        # Referrer-Policy: no-referrer means browsers send no Referer, which Flask-WTF's strict
        # HTTPS check would require: the token plus SameSite=Lax cookies are the defence.
        WTF_CSRF_SSL_STRICT=False,
        BABEL_DEFAULT_LOCALE=config.default_locale,
        BABEL_DEFAULT_TIMEZONE=config.timezone,
        # TRACKER_MAX_UPLOAD_MB (issue 10): the whole request body, multipart overhead included.
        MAX_CONTENT_LENGTH=config.max_upload_mb * 1024 * 1024,
    )
    if config.trusted_proxies:
        # Believe X-Forwarded-For only as far as the named proxies set it (issue 10): the
        # client address keys the login lockout, and anyone can send the header.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.trusted_proxies
        )
    register_extensions(app, config)
    register_converters(app)
    register_blueprints(app)
    register_hooks(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask, config: Config) -> None:
    database = Database(config.database_url)
    app.extensions["tracker.db"] = database
    warn_if_not_durable(database.engine)  # PostgreSQL with fsync off and the like (issue 17)
    from tracker.jobs import JobQueue

    app.extensions["tracker.jobs"] = JobQueue(config, database)
    audit.use_digest_key(config.digest_key())
    hashing = config.password_hashing
    app.extensions["tracker.password_hasher"] = make_hasher(
        hashing.time_cost, hashing.memory_cost, hashing.parallelism
    )
    app.teardown_appcontext(database.remove_session)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = ""  # set per request in the unauthorized handler
    login_manager.session_protection = None  # the server-side session is the protection
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    from tracker.web import i18n

    i18n.install(app)  # the templates' gettext: translations resolved once per request

    import tracker.web.principal  # noqa: F401  (registers the user loader)


def select_locale() -> str:
    from tracker.web.auth.views import SUPPORTED_LANGUAGES

    language = session.get("lang")
    if language in SUPPORTED_LANGUAGES:
        return str(language)
    from flask import current_app

    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def register_converters(app: Flask) -> None:
    """Before any route exists: every ``<int:…>`` is a row id, range-checked (issue 10)."""
    from tracker.web.params import IdConverter

    app.url_map.converters["int"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from tracker.web.access_requests.views import bp as access_requests_bp
    from tracker.web.admin.views import bp as admin_bp
    from tracker.web.audit.views import bp as audit_bp
    from tracker.web.auth.views import bp as auth_bp
    from tracker.web.contacts.views import bp as contacts_bp
    from tracker.web.counter.views import bp as counter_bp
    from tracker.web.custody.views import bp as custody_bp
    from tracker.web.disposal.views import bp as disposal_bp
    from tracker.web.imports.views import bp as imports_bp
    from tracker.web.jobs.views import bp as jobs_bp
    from tracker.web.main.views import bp as main_bp
    from tracker.web.notices.views import bp as notices_bp
    from tracker.web.pickup.views import bp as pickup_bp
    from tracker.web.policy.views import bp as policy_bp
    from tracker.web.protection.views import bp as protection_bp
    from tracker.web.register.views import bp as register_bp
    from tracker.web.remail.views import bp as remail_bp
    from tracker.web.reservations.views import bp as reservations_bp
    from tracker.web.stock.views import bp as stock_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(custody_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(counter_bp)
    app.register_blueprint(policy_bp)
    app.register_blueprint(disposal_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(register_bp)
    app.register_blueprint(remail_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(stock_bp)
    app.register_blueprint(protection_bp)
    app.register_blueprint(contacts_bp)
    app.register_blueprint(pickup_bp)
    app.register_blueprint(reservations_bp)
    app.register_blueprint(access_requests_bp)


#: Content-Security-Policy: same-origin scripts and styles only, no plugins, no framing.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register_hooks(app: Flask) -> None:
    from tracker.web import requestlog
    from tracker.web.access import enforce_access
    from tracker.web.guards import keep_search_words_out_of_urls, refuse_control_characters

    requestlog.init_app(app)  # first: its clock starts before the other hooks run
    app.before_request(refuse_control_characters)
    app.before_request(keep_search_words_out_of_urls)
    app.before_request(enforce_access)

    @login_manager.unauthorized_handler
    def unauthorized() -> Response:
        from flask import flash, redirect, url_for

        if g.get("session_expired"):
            flash(
                _("15分間操作がなかったため、ログアウトしました。もう一度ログインしてください。"),
                "info",
            )
        else:
            flash(_("ログインしてください。"), "info")
        target = request.full_path if request.method == "GET" else None
        if target and target.endswith("?"):
            target = target[:-1]
        return redirect(url_for("auth.login", next=target))

    @app.after_request
    def security_headers(response: Response) -> Response:
        """Set by hand (issue #2): flask-talisman is stale and forces HTTPS redirects."""
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.endpoint != "static":
            # Personal data must not linger in browser or proxy caches.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        if app.config["SESSION_COOKIE_SECURE"]:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        return response


def register_errorhandlers(app: Flask) -> None:
    from tracker.web.params import InvalidParameter

    config: Config = app.config["TRACKER"]

    def render_error(
        status: int, title: str, message: str, back: str | None = None
    ) -> tuple[str, int]:
        page = render_template("error.html", status=status, title=title, message=message, back=back)
        return page, status

    @app.errorhandler(Conflict)
    def conflict(error: Conflict) -> tuple[str, int]:
        """Someone else changed the record first (a double click, a colleague): nothing of
        this request is kept, and the page says who did what and when."""
        app.extensions["tracker.db"].remove_session()
        return render_error(409, _("他の操作と重なりました"), str(error), _page_behind_form())

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400,
            _("フォームを送信できませんでした"),
            _(
                "画面の有効期限が切れたか、不正な送信です。画面を開き直してからもう一度操作してください。"
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        code = error.code or 500
        if code == 403:
            return render_error(
                403,
                _("この操作は許可されていません"),
                _("あなたの役割ではこの画面を利用できません。"),
            )
        if code == 404:
            return render_error(404, _("ページが見つかりません"), _("URLを確かめてください。"))
        if code == 405:
            return render_error(
                405, _("この方法では操作できません"), _("画面のボタンから操作してください。")
            )
        if code == 400 and getattr(error, "description", "") == "control":
            return render_error(
                400,
                _("入力に使えない文字があります"),
                _(
                    "制御文字（NULなど）を含む入力や、長すぎる入力は受け付けられません。"
                    "入力内容を確かめてください。"
                ),
            )
        if isinstance(error, InvalidParameter):  # says which parameter and why
            return render_error(400, _("入力が正しくありません"), error.description or "")
        if code == 400:
            return render_error(400, _("入力が正しくありません"), _("入力内容を確かめてください。"))
        if code == 413:
            return render_error(
                413,
                _("ファイルが大きすぎます"),
                _(
                    "アップロードできるのは %(mb)d MB までです。ファイルを分けて取り込むか、"
                    "サーバーで tracker import を使ってください。",
                    mb=config.max_upload_mb,
                ),
            )
        return error

    @app.errorhandler(Exception)
    def internal_error(error: Exception) -> tuple[str, int]:
        if isinstance(error, HTTPException):
            return http_error(error)  # type: ignore[no-any-return]
        # The traceback goes to the server log; the person sees a generic page (issue #2).
        log.exception("unhandled error on %s %s", request.method, request.path)
        # Nothing the failed view flushed may be committed later in this request (and on
        # SQLite its write lock must go), and the page must not need the database, which may
        # be what failed: roll back first, then a standalone template with no user or menu.
        try:
            app.extensions["tracker.db"].remove_session()
        except Exception:
            log.warning("could not roll back after an error", exc_info=True)
        return render_template("error_500.html"), 500


def _page_behind_form() -> str | None:
    """For a POST to ``/things/7/verb``, the page ``/things/7`` if there is one (the link back
    to the record on a conflict page)."""
    if request.method != "POST":
        return None
    parent = request.path.rsplit("/", 1)[0]
    adapter = current_app.create_url_adapter(request)
    if not parent or adapter is None:
        return None
    try:
        adapter.match(parent, "GET")
    except HTTPException:
        return None
    return parent


def register_template_helpers(app: Flask) -> None:
    from tracker.domain.codes import Role
    from tracker.web.auth.forms import EmptyForm
    from tracker.web.filters import register_filters

    register_filters(app)
    menu.install(app)
    app.jinja_env.bytecode_cache = template_cache.SHARED  # compiled once per process

    @app.context_processor
    def inject() -> dict[str, Any]:
        from flask_babel import get_locale

        return {
            "Role": Role,
            "current_user": current_user,
            "current_language": str(get_locale() or "ja"),
            # Only rendered (set_language validates its own): formdata=None keeps it from
            # reading the request body, which an over-large upload's 413 page must not do.
            "language_form": EmptyForm(formdata=None),
        }
