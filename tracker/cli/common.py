"""What every command shares: the lazily built configuration and database, the refusal that
exits 1, and the check of ``--actor`` (SPEC §7)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NoReturn

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.config import Config
from tracker.db import Database, warn_if_not_durable
from tracker.domain.codes import Role
from tracker.models import User
from tracker.services import audit


@dataclass
class CliState:
    """Built lazily so ``tracker --help`` needs no database."""

    _config: Config | None = None
    _database: Database | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config.from_env()
        return self._config

    @property
    def database(self) -> Database:
        if self._database is None:
            audit.use_digest_key(self.config.digest_key())
            self._database = Database(self.config.database_url)
            warn_if_not_durable(self._database.engine)
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None


def fail(message: str) -> NoReturn:
    """A refusal: message on stderr, exit 1 (SPEC §7)."""
    click.echo(f"エラー: {message}", err=True)
    sys.exit(1)


def resolve_actor(session: Session, username: str | None, allowed: Iterable[Role]) -> str:
    """``--actor USER`` must name an active user whose role may run the command (SPEC §7)."""
    if username is None:
        return audit.cli_actor()
    # Only these columns: init-db checks the actor before upgrading an older schema.
    user = session.execute(
        select(User.username, User.role, User.active).where(User.username == username)
    ).first()
    if user is None or not user.active:
        fail(f"--actor: 有効なユーザー「{username}」が見つかりません")
    allowed_values = {role.value for role in allowed}
    if user.role not in allowed_values:
        fail(
            f"--actor: ユーザー「{username}」の役割（{user.role}）ではこの操作はできません"
            f"（許可される役割: {', '.join(sorted(allowed_values))}）"
        )
    name: str = user.username
    return name


pass_state = click.make_pass_decorator(CliState)
