"""Deny-by-default access control (SPEC §1).

Every view declares who may use it with :func:`allow` (roles) or :func:`public`. A
``before_request`` hook refuses anything else: an endpoint nobody declared is a 403 for
everyone, and a test walks the whole ``url_map`` against the policy table in
``tests/web/test_access_policy.py`` so that such a route also fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from tracker.domain.codes import Role
from tracker.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = frozenset({"public"})
#: Flask's own endpoints that cannot carry an attribute.
BUILTIN_PUBLIC_ENDPOINTS = frozenset({"static"})
#: What a person who must replace their password may still open (issue 12); public views
#: (logout, login, language) are open anyway.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password"})


def allow(*roles: Role) -> Callable[[F], F]:
    """Declare the roles allowed to use a view."""
    if not roles:
        raise ValueError("allow() needs at least one role; use public() for open views")

    def decorate(view: F) -> F:
        view.allowed_roles = frozenset(role.value for role in roles)  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: F) -> F:
    """Declare a view open to anyone, logged in or not (login page, health check)."""
    view.allowed_roles = PUBLIC  # type: ignore[attr-defined]
    return view


def declared_roles(app: Flask, endpoint: str) -> frozenset[str] | None:
    """The roles a view declared, :data:`PUBLIC`, or ``None`` when it declared nothing."""
    if endpoint in BUILTIN_PUBLIC_ENDPOINTS:
        return PUBLIC
    view = app.view_functions.get(endpoint)
    roles: frozenset[str] | None = getattr(view, "allowed_roles", None)
    return roles


def enforce_access() -> Any:
    """``before_request``: anonymous → login page, wrong role or undeclared → 403; a person
    who must replace their password (new account, admin reset) → the change page."""
    if request.endpoint is None:
        return None  # no such route: the 404 handler answers
    roles = declared_roles(current_app, request.endpoint)
    if roles is None:
        current_app.logger.error("endpoint %s declares no roles: refused", request.endpoint)
        abort(403)
    if roles is PUBLIC:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("auth.change_password"))
    if current_user.role not in roles:
        abort(403)
    return None
