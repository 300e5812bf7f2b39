"""Rules kept as data: retention rules (SPEC §3) and the identity policy (SPEC §4)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.domain.codes import PeriodUnit, RuleAnchor, RuleKind, sql_in
from tracker.models.base import Base, UTCDateTime, utcnow


class RetentionRule(Base):
    """A 廃棄基準 over an inclusive window of return dates (SPEC §3)."""

    __tablename__ = "retention_rules"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(RuleKind)})", name="kind"),
        CheckConstraint("returned_from <= returned_to", name="window"),
        CheckConstraint(
            "(kind = 'fixed' AND retain_until IS NOT NULL AND years IS NULL AND months IS NULL)"
            " OR (kind = 'fiscal_year' AND years IS NOT NULL AND years >= 0"
            "     AND retain_until IS NULL AND months IS NULL)"
            " OR (kind = 'months_after' AND months IS NOT NULL AND months >= 0"
            "     AND retain_until IS NULL AND years IS NULL)"
            " OR (kind = 'period_from' AND anchor IS NOT NULL AND period_count IS NOT NULL"
            "     AND period_count >= 0 AND period_unit IS NOT NULL"
            "     AND retain_until IS NULL AND years IS NULL AND months IS NULL)"
            " OR (kind = 'later_of' AND sub_rules IS NOT NULL AND retain_until IS NULL"
            "     AND years IS NULL AND months IS NULL AND anchor IS NULL"
            "     AND period_count IS NULL)",
            name="parameters",
        ),
        CheckConstraint(f"anchor IS NULL OR anchor IN ({sql_in(RuleAnchor)})", name="anchor"),
        CheckConstraint(
            f"period_unit IS NULL OR period_unit IN ({sql_in(PeriodUnit)})", name="period_unit"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    returned_from: Mapped[date] = mapped_column(Date)
    returned_to: Mapped[date] = mapped_column(Date)
    #: ``fixed``: the last day of custody for every item in the window.
    retain_until: Mapped[date | None] = mapped_column(Date)
    #: ``fiscal_year``: k, as in 31 March of FY(R) + 1 + k.
    years: Mapped[int | None] = mapped_column(Integer)
    #: ``months_after``: m, as in the last day of the m-th month after R's month.
    months: Mapped[int | None] = mapped_column(Integer)
    #: ``period_from`` (SPEC §3, issue 13): the date counted from, and the period (民法 140–143).
    anchor: Mapped[str | None] = mapped_column(String(30))
    period_count: Mapped[int | None] = mapped_column(Integer)
    period_unit: Mapped[str | None] = mapped_column(String(10))
    #: ``register_event_on`` rules: the register outcomes they apply to, comma-separated codes
    #: (``deceased,emigrated``); empty: every outcome with an event date.
    register_outcomes: Mapped[str | None] = mapped_column(String(200))
    #: The item kinds the rule applies to, comma-separated codes; empty: every kind (issue 14).
    item_kinds: Mapped[str | None] = mapped_column(String(100))
    #: ``later_of`` (issue 14): canonical JSON ``{"rules": [sub-rule, …], "cap_anchor": …}``,
    #: sub-rules without label and window in the shape of docs/rules-format.md; ``cap_anchor``
    #: (optional, ``card_expires_on``): "or that date, whichever is first".
    sub_rules: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityPolicy(Base):
    """One immutable version of the ID-document catalogue and combination rule (SPEC §4).

    A change makes a new version; each handover stores the version it was checked against.
    """

    __tablename__ = "identity_policies"
    __table_args__ = (CheckConstraint("version >= 1", name="version"),)

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: Canonical JSON: ``{"documents": [{"code", "name", "group"}], "group_a_required": 1,
    #: "group_b_required": 2, "proxy_letter_valid_months": 3}``.
    policy_json: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
