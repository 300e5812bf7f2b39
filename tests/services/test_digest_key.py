"""The audit digest key lives in a file outside the database (issue 16), made on first need."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tracker.config import Config, load_or_create_key


def test_the_key_file_is_made_once_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit_digest_key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_the_environment_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere"
    config = Config.from_env(
        {
            "TRACKER_DATABASE_URL": "sqlite://",
            "TRACKER_SECRET_KEY": "k",
            "TRACKER_AUDIT_KEY_FILE": str(path),
        }
    )
    assert config.audit_key_file == path
    assert config.digest_key() == bytes.fromhex(path.read_text())


def test_a_damaged_key_file_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "audit_digest_key"
    path.write_text("not hex")
    with pytest.raises(ValueError, match="not hexadecimal"):
        load_or_create_key(path)
