"""The main menu, rendered once per role, language and mount point (issue 18).

Every page showed it, and building it cost ~25 URL builds and ~25 translations per request.
Its HTML depends on nothing else: the template sees only the role (:class:`RoleOnly`), so a
menu kept for one user is right for every user of that role.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from tracker.domain.codes import Role

TEMPLATE = "_main_menu.html"


@dataclass(frozen=True)
class RoleOnly:
    """What the menu template may know of the user: the role."""

    role: str

    def has_role(self, *roles: Role) -> bool:
        return self.role in {role.value for role in roles}


def main_menu() -> Markup:
    """The menu of the signed-in user's role, in the request's language."""
    role = str(current_user.user.role)
    key = (role, str(get_locale() or ""), request.script_root)
    menus: dict[tuple[str, str, str], Markup] = current_app.extensions["tracker.menus"]
    menu = menus.get(key)
    if menu is None:
        template = current_app.jinja_env.get_template(TEMPLATE)
        menu = Markup(template.render(current_user=RoleOnly(role), Role=Role))  # noqa: S704
        menus[key] = menu
    return menu


def install(app: Flask) -> None:
    app.extensions["tracker.menus"] = {}
    app.jinja_env.globals["main_menu"] = main_menu
