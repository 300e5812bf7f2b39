"""URL rules whose URL builders are compiled when first used, not when the app is made.

Werkzeug compiles two Python functions (by AST and ``compile``) for every rule as it is added,
to build its URLs; for this app's ~140 rules that is ~85 % of :func:`tracker.create_app`
(0.16 s of 0.19 s on the 2-core CI machine), paid again by every gunicorn worker and by
every test that makes an app, although a page builds URLs for only a few dozen endpoints.
:class:`LazyBuilderRule` keeps everything Werkzeug does at ``bind`` (parsing, the matcher)
and defers the builder to the first ``url_for`` of that rule. Werkzeug's own builder does the
work, so URLs are exactly Werkzeug's (``tests/web/test_url_rules.py`` compares every rule).
Written against Werkzeug 3.1 (``Rule._compile_builder``, called twice from ``Rule.compile``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

Builder = Callable[..., tuple[str, str]]


class LazyBuilderRule(Rule):
    """A Werkzeug rule that compiles its URL builders on first use."""

    def _compile_builder(self, append_unknown: bool = True) -> Builder:
        compiled: list[Builder] = []
        lock = threading.Lock()
        eager = super()._compile_builder

        # positional-only: a URL value may itself be called ``rule`` (e.g. a query parameter)
        def build(rule: Rule, /, **values: Any) -> tuple[str, str]:
            if not compiled:
                with lock:
                    if not compiled:
                        compiled.append(eager(append_unknown))
            return compiled[0](rule, **values)

        return build
