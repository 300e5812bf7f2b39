"""Flask extensions, created unbound and attached in ``create_app``."""

from __future__ import annotations

from typing import cast

from argon2 import PasswordHasher
from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from werkzeug.local import LocalProxy

from tracker.db import Database

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def _current_db() -> Database:
    return cast(Database, current_app.extensions["tracker.db"])


def _current_hasher() -> PasswordHasher:
    return cast(PasswordHasher, current_app.extensions["tracker.password_hasher"])


#: The app's :class:`~tracker.db.Database`; ``db.session`` is the request's session.
db: Database = cast(Database, LocalProxy(_current_db))
password_hasher: PasswordHasher = cast(PasswordHasher, LocalProxy(_current_hasher))
