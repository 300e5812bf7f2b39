"""Pickup reservation forms (受取予約): booking on the phone, cancel, no-show."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from tracker.web.i18n import lazy_gettext as _l


class BookForm(FlaskForm):
    """The slot (radio buttons drawn by the template: full ones are disabled), who comes, the
    call-back number and a note. The fields are checked by the service."""

    slot = HiddenField()
    name = StringField(_l("来庁者の氏名"), render_kw={"autocomplete": "off"})
    phone = StringField(
        _l("折り返しの電話番号"),
        render_kw={"autocomplete": "off", "inputmode": "tel", "placeholder": "096-328-2111"},
    )
    note = StringField(_l("備考"), render_kw={"autocomplete": "off"})


class CancelForm(FlaskForm):
    reason = StringField(_l("取消の理由"), render_kw={"autocomplete": "off"})


class NoShowForm(FlaskForm):
    """不来庁: nothing to type; the button is the decision."""
