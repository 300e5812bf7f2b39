"""Forms of the access-request pages (開示請求). Values are checked by the service
(:mod:`tracker.services.access_requests`), which names what is wrong; the forms bound their
length and carry the CSRF token. The name and birth date are posted, never put in a URL."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectMultipleField, StringField
from wtforms.validators import Length

from tracker.web.i18n import lazy_gettext as _l

#: The longest name or date a person types here.
TYPED_MAX = 100


class NewRequestForm(FlaskForm):
    """The person search and, under its results, the request: ``action`` is the button pressed
    (``search`` or ``create``); the name and birth date travel with the request's post so
    that the results can be shown again, in the body, never in a URL."""

    name = StringField(
        _l("氏名（漢字またはフリガナ）"),
        validators=[Length(max=TYPED_MAX, message=_l("氏名は100文字以内で入力してください。"))],
    )
    birth_date = StringField(
        _l("生年月日"),
        validators=[Length(max=TYPED_MAX, message=_l("生年月日は100文字以内で入力してください。"))],
    )
    reference_no = StringField(_l("受付番号"))
    received_on = StringField(_l("受付日"))
    items = SelectMultipleField(_l("この方の通知物"), choices=[], validate_choice=False)
    action = StringField()


class ApproveForm(FlaskForm):
    password = PasswordField(_l("パスワード"))


class ExportForm(FlaskForm):
    #: ``pdf`` or ``csv`` (checked by the service).
    format = StringField()


class CancelForm(FlaskForm):
    pass
