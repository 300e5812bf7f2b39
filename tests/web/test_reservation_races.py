"""Two live ``tracker serve`` processes on one PostgreSQL (the harness of
tests/web/test_transition_races.py): two clerks booking the last place of a slot get one
booking and one 「満席」 page; a cancel racing a no-show gets one winner and a 409 page."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.factories_reservations import book, fill, open_day
from tests.web.test_transition_races import Browser, all_at_once, two_servers  # noqa: F401
from tracker.db import Database
from tracker.domain.codes import Role
from tracker.models import PickupSlot, Reservation

#: One xdist worker runs every test of this module: the two servers start once for them all
#: instead of once per worker (each start takes seconds on a busy machine).
pytestmark = pytest.mark.xdist_group("two_servers_reservations")

#: Far from any clock: the servers run on the machine's clock, which tests do not pin.
FUTURE_DAY = date(2099, 1, 3)
PAST_DAY = date(2020, 1, 4)


def clerks(database: Database, servers: list[str]) -> list[Browser]:
    browsers = []
    for n, server in enumerate(servers, start=2):
        factories.user(database, Role.CLERK, f"clerk{n}", display_name=f"窓口 担当{n}")
        browser = Browser.open(server)
        browser.login(f"clerk{n}")
        browsers.append(browser)
    return browsers


def test_two_clerks_one_last_place_one_booking(postgres_url: str, two_servers: list[str]) -> None:  # noqa: F811
    database = Database(postgres_url)
    try:
        browsers = clerks(database, two_servers)
        first, second = factories.envelope(
            database, 1, items=[factories.item(), factories.item("乙")]
        )
        slot_id = open_day(database, FUTURE_DAY)["9:00"]
        fill(database, slot_id, 14)  # one place left of 15
        paths = [f"/reservations/new?item={first}", f"/reservations/new?item={second}"]
        fields = [
            {
                "csrf_token": b.token(p),
                "slot": str(slot_id),
                "name": "来庁 者",
                "phone": "0963282111",
            }
            for b, p in zip(browsers, paths, strict=True)
        ]
        results = all_at_once(browsers, "", fields, actions=paths)
        assert sorted(status for status, _ in results) == [302, 422], results
        refused = next(body for status, body in results if status == 422)
        assert "この枠は満席です（定員15人）" in refused
        with database.session_scope() as session:
            assert session.scalar(select(func.count(Reservation.id))) == 1
            slot = session.get(PickupSlot, slot_id)
            assert slot is not None and slot.booked == 15
    finally:
        database.dispose()


def test_cancel_racing_no_show_one_wins_and_the_other_gets_409(
    postgres_url: str,
    two_servers: list[str],  # noqa: F811
) -> None:
    database = Database(postgres_url)
    try:
        browsers = clerks(database, two_servers)
        slot_id = open_day(database, PAST_DAY)["9:00"]
        for n in range(1, 4):
            (item_id,) = factories.envelope(database, n)
            made = book(database, slot_id, [item_id], today=PAST_DAY)
            page = f"/reservations/{made}"
            results = all_at_once(
                browsers,
                page,
                [
                    {"csrf_token": browsers[0].token(page), "reason": "都合"},
                    {"csrf_token": browsers[1].token(page)},
                ],
                actions=["/cancel", "/no-show"],
            )
            assert sorted(status for status, _ in results) == [302, 409], results
            with database.session_scope() as session:
                found = session.get(Reservation, made)
                assert found is not None and found.status in ("cancelled", "no_show")
    finally:
        database.dispose()
