"""URL builders compiled on first use (tracker/web/rules.py) build exactly Werkzeug's URLs."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter, BaseConverter, NumberConverter, PathConverter

from tests.conftest import make_config
from tracker import create_app
from tracker.app import TrackerFlask
from tracker.web.rules import LazyBuilderRule


def _sample(converter: BaseConverter) -> object:
    if isinstance(converter, NumberConverter):
        return 7
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, PathConverter):
        return "a/b c"
    return "x 髙"


def _values(rule: Rule) -> dict[str, object]:
    # unknown values go to the query string; "rule" and "self" are names a builder might take
    values: dict[str, object] = {"extra": "q&r", "rule": "2", "self": "s"}
    for name in rule.arguments:
        values[name] = _sample(rule._converters[name])  # Werkzeug keeps them there
    return values


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_rule_builds_werkzeugs_url(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lazy_app = create_app(make_config(database_url))
    monkeypatch.setattr(TrackerFlask, "url_rule_class", Rule)
    eager_app: Flask = create_app(make_config(database_url))
    lazy_rules = list(lazy_app.url_map.iter_rules())
    assert all(isinstance(rule, LazyBuilderRule) for rule in lazy_rules)
    assert not any(isinstance(rule, LazyBuilderRule) for rule in eager_app.url_map.iter_rules())
    eager = {(rule.endpoint, rule.rule): rule for rule in eager_app.url_map.iter_rules()}
    assert len(eager) == len(lazy_rules) > 100
    for rule in lazy_rules:
        twin = eager[(rule.endpoint, rule.rule)]
        values = _values(rule)
        for append_unknown in (True, False):
            assert rule.build(values, append_unknown) == twin.build(values, append_unknown), rule
    for application in (lazy_app, eager_app):
        application.extensions["tracker.db"].dispose()
