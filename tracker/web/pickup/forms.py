"""Forms of the pickup-days pages. Field values are checked by the views with the same rules as
``tracker slots import`` (:mod:`tracker.services.slot_import`), so the form and the file accept
and refuse the same times, lengths and capacities."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import FieldList, Form, FormField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice

from tracker.web.i18n import lazy_gettext as _l

#: How many rows the custom pattern offers (the seed's pattern needs four).
PATTERN_ROWS = 6
_OFF = {"autocomplete": "off"}


class RangeRow(Form):
    """One row of a custom pattern: a span cut into slots of N minutes holding M each."""

    start = StringField(_l("開始"), render_kw={**_OFF, "size": 5})
    end = StringField(_l("終了"), render_kw={**_OFF, "size": 5})
    minutes = StringField(
        _l("枠の長さ（分）"),
        render_kw={**_OFF, "size": 3, "inputmode": "numeric"},
    )
    capacity = StringField(_l("定員"), render_kw={**_OFF, "size": 3, "inputmode": "numeric"})
    breaks = StringField(_l("休憩"), render_kw={**_OFF, "size": 12})


class OpenDayForm(FlaskForm):
    day = StringField(_l("日付"), render_kw={**_OFF, "autofocus": True, "placeholder": "R8.12.5"})
    location = SelectField(_l("受取場所"), coerce=int)
    pattern = RadioField(
        _l("予約枠の作り方"),
        choices=[
            SelectChoice("seed", _l("週末の標準（9:00〜16:00、30分枠15人・最後の枠10人、昼休み）")),
            SelectChoice("custom", _l("下の表で指定")),
        ],
        default="seed",
    )
    ranges = FieldList(FormField(RangeRow), min_entries=PATTERN_ROWS, max_entries=PATTERN_ROWS)
    note = StringField(_l("備考"), render_kw=_OFF)
    preview = SubmitField(_l("予約枠を確認"))
    save = SubmitField(_l("受取予約日を設定"))


class CapacityForm(FlaskForm):
    capacity = StringField(_l("定員"), render_kw={**_OFF, "size": 3, "inputmode": "numeric"})


class AddSlotForm(FlaskForm):
    start = StringField(_l("開始"), render_kw={**_OFF, "placeholder": "16:00", "size": 5})
    end = StringField(_l("終了"), render_kw={**_OFF, "placeholder": "16:30", "size": 5})
    capacity = StringField(
        _l("定員"), render_kw={**_OFF, "placeholder": "15", "size": 3, "inputmode": "numeric"}
    )


class ConfirmForm(FlaskForm):
    """A button with nothing but the CSRF token (remove a slot, close a day)."""


class CopyDayForm(FlaskForm):
    target = StringField(_l("コピー先の日付"), render_kw={**_OFF, "placeholder": "R8.12.12"})


class CopyWeekForm(FlaskForm):
    source = StringField(_l("コピー元の週（その週の任意の日）"), render_kw=_OFF)
    target = StringField(_l("コピー先の週（その週の任意の日）"), render_kw=_OFF)
    location = SelectField(_l("受取場所"), coerce=int)


class UploadForm(FlaskForm):
    file = FileField(_l("CSVファイル"), validators=[FileRequired(_l("ファイルを選んでください"))])
    location = SelectField(_l("受取場所"), coerce=int)
    encoding = SelectField(
        _l("文字コード"),
        choices=[
            SelectChoice("auto", _l("自動判別（UTF-8 / Shift_JIS）")),
            SelectChoice("utf-8", "UTF-8"),
            SelectChoice("cp932", "Shift_JIS (CP932)"),
        ],
    )
    validate_only = SubmitField(_l("検証のみ"))
    commit = SubmitField(_l("取り込む"))
