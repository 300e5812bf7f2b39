"""One commit per request (issue 11): what a view wrote is committed once it has returned, and
nothing of it survives an exception; a refused part (``db.attempt()``) is undone on its own
while the rest of the request, such as the refusal's audit event, is kept."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tracker.extensions import db
from tracker.models import AuditEvent
from tracker.services import audit
from tracker.web.access import public


class Refused(Exception):
    pass


@pytest.fixture
def probe(app: Flask) -> Flask:
    """Three test-only views that write an audit event each way a real view can end."""

    @app.route("/_probe/returns", methods=["POST"])
    @public
    def returns() -> str:
        audit.record(db.session, actor="probe", action="probe.returned")
        return "ok"  # no commit here: the boundary commits

    @app.route("/_probe/raises", methods=["POST"])
    @public
    def raises() -> str:
        audit.record(db.session, actor="probe", action="probe.raised")
        raise RuntimeError("after writing")

    @app.route("/_probe/refused", methods=["POST"])
    @public
    def refused() -> str:
        try:
            with db.attempt():
                audit.record(db.session, actor="probe", action="probe.attempted")
                raise Refused
        except Refused:
            audit.record(db.session, actor="probe", action="probe.refusal")
        return "refused"

    app.config["WTF_CSRF_ENABLED"] = False
    return app


def actions(app: Flask) -> list[str]:
    with app.extensions["tracker.db"].session_scope() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.actor == "probe")
                .order_by(AuditEvent.seq)
            )
        )


def test_a_view_that_returns_is_committed_without_committing_itself(probe: Flask) -> None:
    assert probe.test_client().post("/_probe/returns").status_code == 200
    assert actions(probe) == ["probe.returned"]


def test_nothing_a_failing_view_wrote_survives(probe: Flask) -> None:
    assert probe.test_client().post("/_probe/raises").status_code == 500
    assert actions(probe) == []


def test_a_refused_attempt_is_undone_and_the_refusal_is_kept(probe: Flask) -> None:
    assert probe.test_client().post("/_probe/refused").status_code == 200
    assert actions(probe) == ["probe.refusal"]
    with probe.extensions["tracker.db"].session_scope() as session:
        assert audit.verify_chain(session).ok
