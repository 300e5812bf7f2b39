"""Home page and health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import func, select, text
from werkzeug.wrappers import Response

from tracker.domain.codes import ItemStatus, Role
from tracker.extensions import db
from tracker.models import Item
from tracker.web.access import allow, public

bp = Blueprint("main", __name__)


@bp.route("/")
@allow(Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR, Role.ADMIN)
def index() -> str:
    """A role-aware start page. Admins see no counts of personal data holdings."""
    in_custody = None
    if not _is_admin():
        in_custody = db.session.scalar(
            select(func.count()).select_from(Item).where(Item.status == ItemStatus.IN_CUSTODY)
        )
    return render_template("main/index.html", in_custody=in_custody)


def _is_admin() -> bool:
    from flask_login import current_user

    return bool(current_user.role == Role.ADMIN.value)


@bp.route("/healthz")
@public
def healthz() -> tuple[Response, int]:
    """For load balancers: 200 when the database answers, 503 otherwise. Says nothing more."""
    try:
        with db.read_session() as session:  # never queues behind SQLite's write lock
            session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 — any database failure means "not healthy"
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok"), 200
