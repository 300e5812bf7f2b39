"""Every screen fits an office monitor (issue 12, part 10): at 1280×800 and 1366×768, with the
demo data, no page scrolls sideways, the header and the menu stay on one line each, no short
label or table header breaks inside a word (結/果) and no select cuts its chosen option off.

The same check runs against a real demo server with ``scripts/screenshots.py``, which also keeps
the screenshots for the eye test.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import LiveServer
from tests.e2e.layout import CHECK_JS, SCREENS, resolve
from tests.e2e.pages import ARTIFACTS, log_in
from tests.helpers import Account
from tracker.clock import JST, now_utc, today_jst
from tracker.domain.codes import Role
from tracker.services.demo import (
    create_demo_pickup_days,
    create_demo_returns,
    create_demo_rules,
    create_demo_users,
)

#: The demo's "today": its returns (2016–2021) are all past their retention.
TODAY = date(2026, 11, 30)
SIZES = [(1280, 800), (1366, 768)]


def demo_accounts(live_server: LiveServer) -> dict[str, Account]:
    """The demo users and 150 of the demo's returns, through the real import path."""
    app = live_server.app
    hasher = app.extensions["tracker.password_hasher"]
    with app.extensions["tracker.db"].session_scope() as session:
        credentials = create_demo_users(session, hasher, actor="cli:test")
        create_demo_returns(
            session,
            actor="cli:test",
            today=TODAY,
            now=datetime(2026, 11, 30, 10, 0, tzinfo=JST),
            rows=150,
        )
        create_demo_rules(session, actor="cli:test")
        # issue 15: the coming weekends, from the real today so that /pickup/days lists them
        create_demo_pickup_days(session, actor="cli:test", today=today_jst(), now=now_utc())
    return {name: Account(name, password, Role(role)) for name, role, password in credentials}


@pytest.mark.parametrize("role", list(SCREENS))
def test_every_screen_fits_1280_and_1366(page: Page, live_server: LiveServer, role: str) -> None:
    account = demo_accounts(live_server)[role]
    log_in(page, account)
    problems: list[str] = []
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    for target in SCREENS[role]:
        path = resolve(page, live_server.url, target)
        if path is None:
            problems.append(f"nothing to open for {target}")
            continue
        response = page.goto(f"{live_server.url}{path}")
        if response is None or response.status >= 400:
            problems.append(f"{path}: HTTP {response.status if response else '?'}")
            continue
        # Each page is loaded once and checked at every size: a resize lays it out again.
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            found = page.evaluate(CHECK_JS)
            if found:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shot = ARTIFACTS / f"layout-{role}-{width}-{len(problems)}.png"
                page.screenshot(path=str(shot), full_page=True)
                problems += [f"{width} {path}: {line} ({shot})" for line in found]
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    assert not problems, "\n".join(problems)
