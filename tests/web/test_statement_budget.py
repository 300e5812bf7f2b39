"""No N+1 queries (issue 18): every page the access-policy test walks, opened by each role
that may open it, sends at most its budget of SQL statements, with records in the database
that the pages list (a household of 30, handed over, on a disposal batch), so that a query
per listed row would blow the budget.

The count is what the app's engine sends in one request (the login check included, BEGIN,
COMMIT and SAVEPOINT left out), with :func:`tests.helpers.count_statements`.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.helpers import count_statements, csrf_token, login
from tests.web.test_access_policy import POLICY, _sample_path
from tracker.domain.codes import Role
from tracker.domain.identity import Evidence, RecipientKind
from tracker.services import handover

#: Statements one page may send: the login check (2-3), the page's own reads, its audit event
#: (lock, chain head, insert: 3 on PostgreSQL), with room to spare; not a row count.
BUDGET = 25

#: Pages allowed more, and why (each a fixed number of queries, none per row).
EXCEPTIONS: dict[str, int] = {
    # The records' retention page previews ``tracker purge``: a count and an oldest date per
    # purge step (purge.STEPS), a fixed number of summary queries whatever the data.
    "disposal.record_retention": 45,
    "disposal.save_record_retention": 45,
    # The purge's confirm page shows the same preview. Starting it checks it again and queues
    # the job, which the tests' immediate queue then runs in the request: its steps count too.
    "disposal.confirm_purge": 45,
    "disposal.start_purge": 60,
}

HOUSEHOLD = 30


@pytest.fixture
def populated(app: Flask) -> Flask:
    """Envelope 1 with a household of 30 (items 1-30), the first 10 handed over one by one
    (handovers 1-10), and disposal batch 1 over three more items."""
    members = [
        factories.item(f"山田 太郎{n}", "ヤマダ タロウ", birth_date=date(1950 + n, 1, 1))
        for n in range(HOUSEHOLD)
    ]
    ids = factories.envelope(app, 1, series=6, items=members)
    database = factories.database_of(app)
    for item_id in ids[:10]:
        with database.session_scope() as session:
            handover.hand_over(
                session,
                actor="clerk",
                item_ids=[item_id],
                evidence=Evidence(
                    recipient_kind=RecipientKind.HOUSEHOLD,
                    recipient_name="受取 代理子",
                    documents=("passport",),
                    document_last4={"passport": "8642"},
                ),
                now=factories.NOW,
                today=factories.TODAY,
            )
    factories.batch(app, items=3)
    return app


#: Pages the walk's sample paths (every id 1, no query string) would show empty.
LISTS = [
    "/items?status=in_custody",
    "/items?location=1",
    f"/handovers?date={factories.TODAY.isoformat()}",
    "/audit",
]


def _pages(app: Flask, role: Role) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) of every page ``role`` may open, as the access walk has them."""
    pages = []
    for rule in app.url_map.iter_rules():
        allowed = POLICY[rule.endpoint]
        if rule.endpoint == "static" or (allowed is not None and role not in allowed):
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            if rule.endpoint == "auth.logout":
                continue  # would end the walk's session
            pages.append((rule.endpoint, method, _sample_path(rule)))
    for path in LISTS:
        adapter = app.url_map.bind("localhost")
        endpoint, _args = adapter.match(path.split("?")[0], "GET")
        allowed = POLICY[endpoint]
        if allowed is None or role in allowed:
            pages.append((endpoint, "GET", path))
    return pages


@pytest.mark.parametrize("role", list(Role))
def test_every_page_stays_within_its_statement_budget(
    populated: Flask, client: FlaskClient, make_user, role: Role
) -> None:
    assert login(client, make_user(role)).status_code == 302
    engine = populated.extensions["tracker.db"].engine
    over = []
    for endpoint, method, path in _pages(populated, role):
        token = csrf_token(client, "/login") if method == "POST" else ""
        with count_statements(engine) as sent:
            if method == "GET":
                response = client.get(path)
            else:
                response = client.post(path, data={"csrf_token": token})
            response.close()
        assert response.status_code < 500, (endpoint, method, path, response.status_code)
        budget = EXCEPTIONS.get(endpoint, BUDGET)
        if len(sent) > budget:
            over.append((endpoint, method, path, len(sent), budget))
    assert over == [], "\n".join(f"{e} {m} {p}: {n} statements > {b}" for e, m, p, n, b in over)


def test_the_item_page_sends_as_many_statements_for_a_household_of_30_as_for_one(
    populated: Flask, client: FlaskClient, make_user
) -> None:
    """The item page lists the household (the handover form) and its handovers: a query per
    member would show as a difference between envelope 1 (30 members) and a single."""
    (single,) = factories.envelope(populated, 2, series=6)
    assert login(client, make_user(Role.RECORDS_OFFICER)).status_code == 302
    engine = populated.extensions["tracker.db"].engine
    counts = []
    for item_id in (HOUSEHOLD, single):  # both in custody
        client.get(f"/items/{item_id}")  # the first view of a page loads what is cached
        with count_statements(engine) as sent:
            assert client.get(f"/items/{item_id}").status_code == 200
        counts.append(len(sent))
    assert counts[0] == counts[1]


#: What an append sends: the lock (PostgreSQL), the chain's head, the insert.
_APPENDS = re.compile(
    r"pg_advisory_xact_lock|INSERT INTO audit_events"
    r"|SELECT audit_events\.seq, audit_events\.hash\s+FROM audit_events ORDER BY audit_events\.seq DESC"
)


@pytest.mark.parametrize("role", list(Role))
def test_no_page_holds_the_audit_chain_while_it_renders(
    populated: Flask, client: FlaskClient, make_user, role: Role
) -> None:
    """A page's view event is appended at its commit, after rendering (issue 18): appends are
    serialised (PostgreSQL's advisory lock, SQLite's write lock), and a page that appended
    first held every other clerk's append for as long as it rendered (the handover review:
    p95 1.4 s under 8 auditors). So no GET page touches the chain before its template."""
    from flask import before_render_template

    assert login(client, make_user(role)).status_code == 302
    engine = populated.extensions["tracker.db"].engine
    early: list[tuple[str, str]] = []
    current: dict[str, str] = {}

    def rendering(_app: Flask, template: object, context: object, **_extra: object) -> None:
        touched = [s for s in current_sent if _APPENDS.search(s)]
        if touched and current.get("path") and not current.get("seen"):
            current["seen"] = "yes"
            early.append((current["path"], touched[0].split("\n")[0][:80]))

    before_render_template.connect(rendering, populated)
    try:
        for _endpoint, method, path in _pages(populated, role):
            if method != "GET":
                continue
            current.clear()
            current["path"] = path
            with count_statements(engine) as current_sent:
                client.get(path).close()
    finally:
        before_render_template.disconnect(rendering, populated)
    assert early == [], "\n".join(f"{path}: {first}" for path, first in early)
