"""Background jobs (issue 17): work run by ``tracker worker``, with its progress and report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.domain.codes import JobKind, JobState, sql_in
from tracker.models.base import Base, UTCDateTime


class Job(Base):
    """One queued piece of work: who asked, its state, progress counters and final report.

    The progress columns are written by the job itself in short transactions of their own
    (never in the import's transaction), so a page can read them while the work runs;
    ``heartbeat_at`` moves with them and tells a job whose worker died from a slow one.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(JobKind)})", name="kind"),
        CheckConstraint(f"state IN ({sql_in(JobState)})", name="state"),
        Index("ix_jobs_state_heartbeat_at", "state", "heartbeat_at"),
        Index("ix_jobs_requested_by_queued_at", "requested_by", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(100))
    #: What the job was asked to do, as JSON (e.g. ``{"dry_run": true, "encoding": "auto"}``).
    params: Mapped[str] = mapped_column(Text, default="{}")
    #: The uploaded file: a private file in the jobs folder, deleted when the job ends.
    file_path: Mapped[str | None] = mapped_column(String(500))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phase: Mapped[str | None] = mapped_column(String(20))
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_validated: Mapped[int] = mapped_column(Integer, default=0)
    rows_staged: Mapped[int] = mapped_column(Integer, default=0)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)
    #: The final report as JSON: the counts and problems by line that the command prints.
    report: Mapped[str | None] = mapped_column(Text)
    #: Why a failed job failed, in Japanese, for the person who queued it.
    failure: Mapped[str | None] = mapped_column(Text)
