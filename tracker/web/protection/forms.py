"""Forms of the 支援措置 flag: place, release, change the review date, and the view purpose.

The texts are checked by :mod:`tracker.services.protection` (free text, never an individual
number); the forms only carry them.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.widgets import TextArea

from tracker.web.i18n import lazy_gettext as _l


class PlaceForm(FlaskForm):
    reason = StringField(
        _l("支援措置の理由"), id="protection_reason", widget=TextArea(), render_kw={"rows": 2}
    )
    review_on = StringField(
        _l("見直し日"),
        id="protection_review_on",
        render_kw={"autocomplete": "off", "placeholder": "R9.11.30"},
    )
    whole_envelope = BooleanField(
        _l("同じ封筒の他の通知物も対象にする"), id="protection_whole_envelope", default=True
    )


class ReleaseForm(FlaskForm):
    reason = StringField(
        _l("解除の理由"), id="protection_release_reason", widget=TextArea(), render_kw={"rows": 2}
    )


class ReviewForm(FlaskForm):
    review_on = StringField(
        _l("新しい見直し日"),
        id="protection_new_review_on",
        render_kw={"autocomplete": "off", "placeholder": "R9.11.30"},
    )


class PurposeForm(FlaskForm):
    purpose = StringField(
        _l("閲覧の目的"), render_kw={"maxlength": 100, "autocomplete": "off", "autofocus": True}
    )
