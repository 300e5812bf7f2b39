"""Forms of the 支援措置 flag: place, release, change the review date, and the view purpose.

The texts are checked by :mod:`tracker.services.protection` (free text, never an individual
number); the forms only carry them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField
from wtforms.widgets import TextArea


class PlaceForm(FlaskForm):
    reason = StringField(_l("支援措置の理由"), widget=TextArea(), render_kw={"rows": 2})
    review_on = DateField(_l("見直し日"))
    whole_envelope = BooleanField(_l("同じ封筒の他の通知物も対象にする"), default=True)


class ReleaseForm(FlaskForm):
    reason = StringField(_l("解除の理由"), widget=TextArea(), render_kw={"rows": 2})


class ReviewForm(FlaskForm):
    review_on = DateField(_l("新しい見直し日"))


class PurposeForm(FlaskForm):
    purpose = StringField(
        _l("閲覧の目的"), render_kw={"maxlength": 100, "autocomplete": "off", "autofocus": True}
    )
