"""Jinja filters: 和暦 dates with ISO beside them, JST times, code labels (SPEC §6.1, §3)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask import Flask, g

from tracker.clock import to_jst
from tracker.domain.codes import CODE_LISTS, ItemKind
from tracker.domain.pickup import hm
from tracker.domain.record_retention import PLACEHOLDER_BIRTH_DATE
from tracker.domain.tracking import format_tracking_no
from tracker.domain.wareki import format_wareki, format_wareki_with_iso
from tracker.extensions import db
from tracker.services import people
from tracker.web.i18n import gettext
from tracker.web.i18n import lazy_gettext as _l

# Written out here (not taken from the domain tables) so that pybabel extracts them.
KIND_LABELS = {
    ItemKind.NOTIFICATION_CARD: _l("通知カード"),
    ItemKind.NUMBER_NOTICE: _l("個人番号通知書"),
    ItemKind.MYNUMBER_CARD: _l("未受領のマイナンバーカード"),
}


def register_filters(app: Flask) -> None:
    # A purged birth date (issue 16) is a placeholder no form accepts: shown as erased, never
    # as a date in 明治.
    @app.template_filter("wareki")
    def wareki(value: date | None) -> str:
        if value == PLACEHOLDER_BIRTH_DATE:
            return str(gettext("保存期間経過により消去済"))
        return format_wareki(value) if value else "—"

    @app.template_filter("wareki_iso")
    def wareki_iso(value: date | None) -> str:
        if value == PLACEHOLDER_BIRTH_DATE:
            return str(gettext("保存期間経過により消去済"))
        return format_wareki_with_iso(value) if value else "—"

    @app.template_filter("hm")
    def hm_filter(value: time | None) -> str:
        """A slot time as ``9:00`` (:func:`tracker.domain.pickup.hm`)."""
        return hm(value) if value is not None else "—"

    @app.template_filter("jst")
    def jst(value: datetime | None) -> str:
        """``令和8年11月27日 17:05`` in Japan time; stored values are UTC (SPEC §3)."""
        if value is None:
            return "—"
        local = to_jst(value)
        return f"{format_wareki(local.date())} {local:%H:%M}"

    @app.template_filter("tracking")
    def tracking(value: str) -> str:
        return format_tracking_no(value)

    @app.template_filter("reason")
    def reason(value: str) -> str:
        return code_label(value, "return_reason")

    @app.template_filter("kind")
    def kind(value: str) -> str:
        return str(KIND_LABELS[ItemKind(value)])

    @app.template_filter("status")
    def status(value: str) -> str:
        return code_label(value, "item_status")

    app.template_filter("label")(code_label)

    @app.template_filter("person")
    def person(actor: str | None) -> str:
        """``{{ handover.clerk | person }}`` → 窓口 花子: a display name, never a login name.
        The user table is small; it is read once per request."""
        if "display_names" not in g:
            g.display_names = people.display_names(db.session)
        return people.shown_name(actor, g.display_names)


def code_label(value: str | None, code_list: str) -> str:
    """``{{ batch.status | label("batch_status") }}``: a stored code's label in the UI's
    language (the labels and their lists live in tracker.domain.codes)."""
    if value is None:
        return "—"
    try:
        code: Any = CODE_LISTS[code_list](value)
    except ValueError:
        return value  # a value from before the list changed: show it as stored
    return str(gettext(code.label))
