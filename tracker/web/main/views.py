"""Home page and health check."""

from __future__ import annotations

import functools
import hmac
import logging
import threading
import time
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from alembic.runtime.migration import MigrationContext
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from tracker.clock import today_jst
from tracker.domain.codes import Role
from tracker.domain.wareki import era_of
from tracker.extensions import db
from tracker.services import pickup, settings, stats, stock_checks
from tracker.web.access import allow, public
from tracker.web.i18n import gettext as _

bp = Blueprint("main", __name__)
log = logging.getLogger(__name__)


@bp.route("/")
@allow(Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR, Role.ADMIN)
def index() -> ResponseReturnValue:
    """A role-aware start page: the office dashboard for staff (issue 6).

    Admins see no figures at all: even counts of personal data holdings are not theirs to see
    (SPEC §1, PPC: 事務取扱担当者の明確化).
    """
    if _is_admin():
        return render_template("main/index.html", dashboard=None, in_custody=None)
    dashboard = _cached_dashboard()
    return render_template(
        "main/index.html",
        dashboard=dashboard,
        in_custody=dashboard.totals.in_custody,
        charts=_charts(dashboard),
        week_label=_week_label,
        month_label=_month_label,
        stock_overdue=_stock_overdue(),
        pickup=_pickup_week(today_jst()),
    )


def _pickup_week(today: date) -> dict[str, Any]:
    """The pickup card (issue 15): today's slots and this week's (Monday–Sunday) per day, counts
    only; a few dozen rows, not cached (bookings move during the day)."""
    monday = today - timedelta(days=today.weekday())
    rows = pickup.slots_between(db.session, monday, monday + timedelta(days=6))
    week = [(day, list(slots)) for day, slots in groupby(rows, key=lambda row: row.day)]
    return {
        "today": today,
        "today_slots": [row for row in rows if row.day == today],
        "week": week,
    }


def _stock_overdue() -> list[stock_checks.LocationSchedule]:
    """Locations whose stock check (棚卸) is due or overdue (issue 13); a few rows, not cached."""
    interval = settings.load(db.session).stock_check_interval_months
    return stock_checks.overdue(db.session, today=today_jst(), interval_months=interval)


#: The dashboard aggregates over every item; at a million items that takes a second or two on
#: SQLite, so each app process keeps the figures for a minute ("the stock at a glance").
DASHBOARD_TTL_SECONDS = 60.0
_dashboard_cache: dict[date, tuple[float, stats.Dashboard]] = {}
_dashboard_lock = threading.Lock()


def _cached_dashboard() -> stats.Dashboard:
    today = today_jst()
    now = time.monotonic()
    with _dashboard_lock:
        hit = _dashboard_cache.get(today)
        if hit is not None and now - hit[0] < DASHBOARD_TTL_SECONDS and not current_app.testing:
            return hit[1]
    with db.read_session() as session:
        figures = stats.dashboard(session, today)
    with _dashboard_lock:
        _dashboard_cache.clear()
        _dashboard_cache[today] = (now, figures)
    return figures


def _week_label(monday: date) -> str:
    """``11/24〜``: the Monday (JST) that starts the week."""
    return f"{monday.month}/{monday.day}〜"


def _month_label(first: date) -> str:
    """``令和8年11月``."""
    era = era_of(first)
    year = era.year_of(first)
    return f"{era.name}{'元' if year == 1 else year}年{first.month}月"


def _charts(dashboard: stats.Dashboard) -> dict[str, Any]:
    """What ``static/dashboard.js`` draws; the same figures are in the tables on the page."""
    return {
        "by_location": {
            "labels": [row.name for row in dashboard.by_location],
            "series": [
                {"label": _("保管中"), "data": [row.count for row in dashboard.by_location]}
            ],
        },
        "by_fiscal_year": {
            "labels": [row.label for row in dashboard.by_fiscal_year],
            "series": [
                {"label": _("保管中"), "data": [row.count for row in dashboard.by_fiscal_year]}
            ],
        },
        "handovers_by_week": {
            "labels": [_week_label(row.monday) for row in dashboard.handovers_by_week],
            "series": [
                {
                    "label": _("交付件数"),
                    "data": [row.handovers for row in dashboard.handovers_by_week],
                },
                {
                    "label": _("交付した通知物"),
                    "data": [row.items for row in dashboard.handovers_by_week],
                },
            ],
        },
        "eligible_by_month": {
            "labels": [_month_label(row.month) for row in dashboard.eligible_by_month],
            "series": [
                {
                    "label": _("廃棄対象となる通知物"),
                    "data": [row.count for row in dashboard.eligible_by_month],
                }
            ],
        },
    }


def _is_admin() -> bool:
    from flask_login import current_user

    return bool(current_user.role == Role.ADMIN.value)


@bp.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """For load balancers and monitoring (issue 17): 200 when the database answers a trivial
    query and is at the migration head of this code, else 503 with the reason. No login, no
    session, no audit event; says nothing about the data."""
    head = _head_revision()
    try:
        with db.read_session() as session:  # never queues behind SQLite's write lock
            session.execute(text("SELECT 1"))
            current = MigrationContext.configure(session.connection()).get_current_revision()
    except Exception:  # any database failure means "not healthy"
        log.warning("health check: the database does not answer", exc_info=True)
        return jsonify(status="unavailable", reason="database", head=head), 503
    body = {"status": "ok", "database": "ok", "revision": current, "head": head}
    if current != head:
        return jsonify({**body, "status": "unavailable", "reason": "migration"}), 503
    return jsonify(body), 200


@functools.cache
def _head_revision() -> str | None:
    """The newest migration of the code this process runs (read once: it cannot change)."""
    from tracker.schema import head_revision

    return head_revision()


_LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
_FORWARDED = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")


@bp.route("/metrics")
@public
def metrics() -> ResponseReturnValue:
    """Prometheus metrics (issue 17), for requests from this host or carrying
    ``Authorization: Bearer <TRACKER_METRICS_TOKEN>``; to anyone else this page does not exist
    (404). A request relayed by a reverse proxy on this host is not "from this host" unless
    the proxy is trusted (``TRACKER_TRUSTED_PROXIES``), when the address is the client's."""
    if not _may_read_metrics():
        abort(404)
    from tracker.metrics import exposition
    from tracker.services.jobs import counts_by_kind_and_state

    with db.read_session() as session:  # never queues behind SQLite's write lock
        jobs = counts_by_kind_and_state(session)
    body, content_type = exposition(jobs)
    return Response(body, content_type=content_type)


def _may_read_metrics() -> bool:
    config = current_app.config["TRACKER"]
    token = config.metrics_token
    if token:
        scheme, _space, offered = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            offered.strip().encode(), token.encode()
        ):
            return True
    relayed = any(header in request.headers for header in _FORWARDED)
    if relayed and not config.trusted_proxies:
        return False
    return request.remote_addr in _LOOPBACK
