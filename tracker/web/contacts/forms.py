"""Forms of the contact log: a contact by hand, a returned notice, many returned notices.

The field rules are :mod:`tracker.domain.contacts` and :mod:`tracker.services.contacts`;
each refusal is put beside its field, so that a refused form says which field and why.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import TextArea

from tracker.clock import JST
from tracker.domain.codes import MANUAL_CONTACT_KINDS, ContactKind
from tracker.domain.contacts import parse_time
from tracker.domain.errors import InputError
from tracker.domain.records import FIRST_MAILING
from tracker.domain.wareki import format_wareki_with_iso, parse_date
from tracker.services.contacts import check_note
from tracker.web.i18n import lazy_gettext as _l


def _check(field: Any, check: Any) -> Any:
    try:
        return check()
    except InputError as error:
        field.errors = [*field.errors, str(error)]
        return None


def _day(text: str | None, label: str, today: date) -> date:
    value = (text or "").strip()
    if not value:
        raise InputError(f"{label}を入力してください")
    day = parse_date(value)
    if day > today:
        raise InputError(f"{label} {format_wareki_with_iso(day)} は未来の日付です")
    if day < FIRST_MAILING:
        raise InputError(f"{label} {format_wareki_with_iso(day)} は通知カードの発送開始より前です")
    return day


class ContactForm(FlaskForm):
    """One contact by hand: kind, day and time (now in Japan unless changed), an optional note.

    The ids are prefixed (``contact-…``): the item page holds other forms with a ``note``."""

    kind = SelectField(
        _l("種類"),
        choices=[SelectChoice(kind.value, kind.label) for kind in MANUAL_CONTACT_KINDS],
        default=ContactKind.PHONE.value,
        id="contact-kind",
    )
    day = StringField(_l("日付"), id="contact-day", render_kw={"autocomplete": "off", "size": 14})
    at = StringField(_l("時刻"), id="contact-time", render_kw={"autocomplete": "off", "size": 6})
    note = StringField(
        _l("内容（任意）"),
        widget=TextArea(),
        id="contact-note",
        render_kw={"rows": 2, "maxlength": 500},
    )

    def prefill(self, now: datetime) -> None:
        local = now.astimezone(JST)
        self.day.data = local.date().isoformat()
        self.at.data = f"{local:%H:%M}"

    def checked(self, now: datetime) -> tuple[ContactKind, datetime, str | None] | None:
        """Kind, the moment (UTC) and the note, or None with each refusal beside its field."""
        today = now.astimezone(JST).date()
        kind = ContactKind(self.kind.data) if self.kind.data else None
        day = _check(self.day, lambda: _day(self.day.data, "日付", today))
        at = _check(self.at, lambda: parse_time(self.at.data, "時刻"))
        note = _check(self.note, lambda: check_note(self.note.data))
        moment = None
        if day is not None and at is not None:
            moment = datetime.combine(day, at, tzinfo=JST)
            if moment > now:
                self.at.errors = [*self.at.errors, "日時が未来になっています"]
                moment = None
        if kind is None or moment is None or self.note.errors:
            return None
        return kind, moment, note


class NoticeReturnForm(FlaskForm):
    """お知らせが返戻された: which batch (the latest by default) and the day it came back."""

    batch = SelectField(_l("発送番号"), coerce=int, id="notice-return-batch")
    returned_on = StringField(
        _l("返戻日"), id="notice-return-on", render_kw={"autocomplete": "off", "size": 14}
    )

    def checked_day(self, today: date) -> date | None:
        day: date | None = _check(
            self.returned_on, lambda: _day(self.returned_on.data, "返戻日", today)
        )
        return day


class BulkReturnForm(FlaskForm):
    """Many returned notices of one batch at once: control numbers, one per line."""

    batch_no = StringField(
        _l("発送番号"), render_kw={"autocomplete": "off", "autofocus": True, "size": 14}
    )
    returned_on = StringField(_l("返戻日"), render_kw={"autocomplete": "off", "size": 14})
    numbers = StringField(
        _l("管理番号（1行に1件）"),
        widget=TextArea(),
        render_kw={"rows": 12, "spellcheck": "false", "autocomplete": "off"},
    )

    def checked_day(self, today: date) -> date | None:
        day: date | None = _check(
            self.returned_on, lambda: _day(self.returned_on.data, "返戻日", today)
        )
        return day
