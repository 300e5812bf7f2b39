"""The auditor's one form: confirm a value against a keyed digest in an event (issue 16)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from tracker.web.i18n import lazy_gettext as _l


class DigestCheckForm(FlaskForm):
    #: A digest's path in the event's details (``changes.name.old_digest``); choices per event.
    field = SelectField(_l("照合する項目"), id="digest_field", choices=[])
    candidate = StringField(
        _l("照合する値"),
        id="digest_candidate",
        validators=[DataRequired(message=_l("照合する値を入力してください")), Length(max=500)],
        render_kw={"autocomplete": "off", "autofocus": True},
    )
