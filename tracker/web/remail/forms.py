"""Re-mailing forms (再送付): request, mail, cancel, the return at intake, closing."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from tracker.domain.codes import REMAIL_ADDRESS_KIND_LABELS
from tracker.web.custody.forms import REASON_CHOICES, TrackingConfirmation
from tracker.web.i18n import lazy_gettext as _l

ADDRESS_KIND_CHOICES = [
    SelectChoice(kind.value, label) for kind, label in REMAIL_ADDRESS_KIND_LABELS.items()
]


class RequestForm(FlaskForm):
    """依頼: who asked, why, and where to mail it (free text, checked by the service)."""

    requested_by_whom = StringField(
        _l("依頼者"), render_kw={"autocomplete": "off", "placeholder": _l("例: 本人、家族、代理人")}
    )
    reason = StringField(
        _l("再送付の理由"),
        render_kw={"autocomplete": "off", "list": "remail-reasons"},
    )
    address_kind = SelectField(_l("送付先の種類"), choices=ADDRESS_KIND_CHOICES)
    address = StringField(_l("送付先住所"), render_kw={"autocomplete": "off"})


class MailForm(TrackingConfirmation, FlaskForm):
    """郵送: the new tracking number (a doubtful one is confirmed like at intake) and the day."""

    tracking_no = StringField(
        _l("新しいお問い合わせ番号"),
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
    mailed_on = StringField(_l("郵送日"), render_kw={"autocomplete": "off"})


class CancelForm(FlaskForm):
    reason = StringField(_l("取消の理由"), render_kw={"autocomplete": "off"})


class ReturnForm(FlaskForm):
    """The re-mailed card came back: the date, why, and where it is kept now."""

    return_date = StringField(_l("返戻日"), render_kw={"autocomplete": "off"})
    return_reason = SelectField(_l("還付事由"), choices=REASON_CHOICES)
    location = SelectField(_l("保管場所"), coerce=int)
    slot = StringField(_l("保管位置（棚・箱）"), render_kw={"autocomplete": "off"})


class CloseDueForm(FlaskForm):
    """The officer saw how many were due (``expected``) when pressing the button."""

    expected = HiddenField()
