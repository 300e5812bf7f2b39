"""Office settings kept as data (issue 12): one row per key, the value as canonical JSON."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.models.base import Base, UTCDateTime


class Setting(Base):
    """A setting an admin may change (municipality, office, receipt addressee, opening hours).

    A key without a row takes its default from ``tracker.services.settings``.
    """

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    #: Canonical JSON of the value.
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
