"""``python -m bench.server ARGS``: ``tracker serve ARGS`` (gunicorn, the production server)
with one extra route, ``GET /bench/ping``, registered only here, when the app is built for
benchmarking: the trivial route every HTTP measure is compared with (a "hello world" of the
same app on the same server: the same hooks, session, access policy and request log run, and
no database is touched). The app's own routes are unchanged.
"""

from __future__ import annotations

import sys
from typing import Any

PING_PATH = "/bench/ping"


def _with_ping(create_app: Any) -> Any:
    def build(*args: Any, **kwargs: Any) -> Any:
        from tracker.web.access import public

        app = create_app(*args, **kwargs)

        @public
        def bench_ping() -> tuple[str, int, dict[str, str]]:
            return "ok", 200, {"Content-Type": "text/plain"}

        app.add_url_rule(PING_PATH, "bench_ping", bench_ping)
        return app

    return build


def main(argv: list[str]) -> None:
    import tracker
    from tracker.cli import main as tracker_main

    # ``tracker serve`` builds its app with ``from tracker import create_app`` at start-up.
    tracker.create_app = _with_ping(tracker.create_app)
    tracker_main(["serve", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
