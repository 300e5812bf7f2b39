"""Forms of the stock-check area: they read and type what was sent; the rules (one open check
per location, four eyes, free text without individual numbers) live in
tracker.services.stock_checks."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from tracker.web.i18n import lazy_gettext as _l


class StartForm(FlaskForm):
    location = SelectField(_l("保管場所"), coerce=int)
    slot_from = StringField(_l("保管位置（から）"))
    slot_to = StringField(_l("保管位置（まで）"))


class ScanForm(FlaskForm):
    code = StringField(_l("ラベルのバーコード・お問い合わせ番号"))


class SlotForm(FlaskForm):
    """「ここへ移動を記録」: the slot inside the checked location (may be empty)."""

    slot = StringField(_l("保管位置"))


class ConfirmForm(FlaskForm):
    """A button and nothing else (close, sign off): the CSRF token is the whole form."""


class CancelForm(FlaskForm):
    reason = StringField(_l("取消の理由"))


class FoundForm(FlaskForm):
    note = StringField(_l("発見の状況"))
    location = SelectField(_l("保管場所"), coerce=int)
    slot = StringField(_l("保管位置"))


class LostForm(FlaskForm):
    circumstances = TextAreaField(_l("紛失の状況・捜索の経過"))
