"""tracker — custody of returned My Number notification cards (返戻通知カード保管管理).

Importing the package imports nothing else: ``tracker.domain`` stays free of Flask and
SQLAlchemy, so the pure rules load in milliseconds (scripts, tests, other systems). The app
factory lives in :mod:`tracker.app`; ``from tracker import create_app`` still works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from tracker.app import create_app

        return create_app
    raise AttributeError(f"module 'tracker' has no attribute {name!r}")
