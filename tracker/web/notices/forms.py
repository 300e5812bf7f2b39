"""Notice forms (お知らせ): the selection, the sending, and the letter template."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from tracker.domain.codes import NOTICE_METHOD_LABELS
from tracker.web.i18n import lazy_gettext as _l

MODE_CHOICES = [
    SelectChoice("rule", _l("廃棄基準（対象の返戻分）")),
    SelectChoice("within", _l("N日以内に廃棄可能になるもの")),
    SelectChoice("items", _l("管理番号を指定")),
]


class SelectionForm(FlaskForm):
    """How to choose the items; the preview shows counts and the first letters."""

    mode = RadioField(_l("選び方"), choices=MODE_CHOICES, default="within")
    rule_id = SelectField(_l("廃棄基準"), choices=[], validate_choice=False)
    days = IntegerField(_l("日数"), validators=[Optional()], default=90)
    control_nos = TextAreaField(
        _l("管理番号（1行に1件）"), render_kw={"rows": 4, "autocomplete": "off"}
    )
    as_of = StringField(_l("基準日"), render_kw={"autocomplete": "off", "size": 14})
    sent_on = StringField(_l("発送日"), render_kw={"autocomplete": "off", "size": 14})


class SendForm(SelectionForm):
    """The same selection (hidden on the preview page), the method, and «発送を記録»."""

    method = SelectField(
        _l("発送方法"),
        choices=[SelectChoice(m.value, label) for m, label in NOTICE_METHOD_LABELS.items()],
    )
    #: What the preview counted: a sending finding another number asks to preview again.
    expected = HiddenField()


class TemplateForm(FlaskForm):
    title = StringField(_l("表題"), render_kw={"autocomplete": "off", "size": 60})
    body = TextAreaField(_l("文面"), render_kw={"rows": 24, "autocomplete": "off"})


class LettersJobForm(FlaskForm):
    """Make a large batch's letters PDF in the background (issue 17): the CSRF token only."""
