"""Factories for the identity-policy version 2 tests (issue 14)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import update

from tracker.models import Item


def make_unclaimed_card(app: Flask, item_id: int) -> None:
    """Turn a stocked item into an unclaimed My Number card (the kind has its own ID rule)."""
    with app.extensions["tracker.db"].session_scope() as session:
        session.execute(update(Item).where(Item.id == item_id).values(kind="mynumber_card"))
