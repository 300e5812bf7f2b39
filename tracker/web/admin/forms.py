from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from tracker.domain.codes import Role
from tracker.domain.passwords import password_problems
from tracker.web.i18n import lazy_gettext as _l

ROLE_CHOICES = [
    SelectChoice(Role.CLERK.value, _l("窓口担当")),
    SelectChoice(Role.RECORDS_OFFICER.value, _l("記録管理担当")),
    SelectChoice(Role.AUDITOR.value, _l("監査担当")),
    SelectChoice(Role.ADMIN.value, _l("システム管理者")),
]


class NewUserForm(FlaskForm):
    username = StringField(
        _l("ユーザー名"),
        validators=[
            DataRequired(message=_l("ユーザー名を入力してください")),
            Regexp(
                r"^[a-z0-9._-]{2,64}$",
                message=_l(
                    "ユーザー名は2〜64文字の半角英小文字・数字・「.」「_」「-」で入力してください"
                ),
            ),
        ],
        render_kw={"autocomplete": "off", "autofocus": True},
    )
    display_name = StringField(
        _l("表示名"),
        validators=[DataRequired(message=_l("表示名を入力してください")), Length(max=100)],
    )
    role = SelectField(_l("役割"), choices=ROLE_CHOICES)
    password = PasswordField(
        _l("初期パスワード"),
        validators=[DataRequired(message=_l("パスワードを入力してください"))],
        render_kw={"autocomplete": "new-password"},
    )
    password_again = PasswordField(
        _l("初期パスワード（確認）"),
        validators=[EqualTo("password", message=_l("確認用のパスワードが一致しません"))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_password(self, field: PasswordField) -> None:
        """The password rule (tracker.domain.passwords), shown with the other mistakes."""
        problems = password_problems(
            field.data or "", username=self.username.data, display_name=self.display_name.data
        )
        if problems:
            raise ValidationError("／".join(problems))


class UnlockForm(FlaskForm):
    """Lift an account's login locks (a button: the CSRF token is the only field)."""


class RoleForm(FlaskForm):
    """Give an account another role."""

    role = SelectField(_l("新しい役割"), choices=ROLE_CHOICES)


WEEKDAY_LABELS = (
    _l("月曜日"),
    _l("火曜日"),
    _l("水曜日"),
    _l("木曜日"),
    _l("金曜日"),
    _l("土曜日"),
    _l("日曜日"),
)


class DayHoursForm(Form):
    """One weekday's counter hours (a sub-form: the outer form carries the CSRF token)."""

    closed = BooleanField(_l("休み"))
    opens = TimeField(_l("開始"), validators=[Optional()], format="%H:%M")
    closes = TimeField(_l("終了"), validators=[Optional()], format="%H:%M")

    def validate_closes(self, field: TimeField) -> None:
        if self.closed.data:
            return
        if self.opens.data is None or field.data is None:
            raise ValidationError(_l("開始と終了の時刻を入力するか、「休み」にしてください"))
        if not self.opens.data < field.data:
            raise ValidationError(_l("終了は開始より後の時刻にしてください"))


class SettingsForm(FlaskForm):
    """What the office prints on paper, and its counter hours (SPEC §1: admin settings)."""

    municipality = StringField(
        _l("自治体名"),
        validators=[DataRequired(message=_l("自治体名を入力してください")), Length(max=100)],
    )
    office = StringField(
        _l("事務所名"),
        validators=[DataRequired(message=_l("事務所名を入力してください")), Length(max=200)],
    )
    receipt_addressee = StringField(
        _l("受領書の宛先"),
        validators=[
            DataRequired(message=_l("受領書の宛先を入力してください")),
            Length(max=100),
        ],
    )
    notice_contact = StringField(
        _l("問い合わせ先"),
        validators=[
            DataRequired(message=_l("問い合わせ先を入力してください")),
            Length(max=200),
        ],
    )
    days = FieldList(FormField(DayHoursForm), min_entries=7, max_entries=7)
    remail_close_days = IntegerField(
        _l("再送付の完了までの日数"),
        validators=[
            InputRequired(message=_l("日数を入力してください")),
            NumberRange(min=1, max=365, message=_l("1〜365日で指定してください")),
        ],
    )
    stock_check_interval_months = IntegerField(
        _l("棚卸の間隔（か月）"),
        validators=[
            InputRequired(message=_l("月数を入力してください")),
            NumberRange(min=1, max=60, message=_l("1〜60か月で指定してください")),
        ],
    )


class NewLocationForm(FlaskForm):
    code = StringField(
        _l("コード"),
        validators=[DataRequired(message=_l("コードを入力してください")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    name = StringField(
        _l("名前"),
        validators=[DataRequired(message=_l("名前を入力してください")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )


class RenameLocationForm(FlaskForm):
    name = StringField(
        _l("新しい名前"),
        validators=[DataRequired(message=_l("名前を入力してください")), Length(max=200)],
        render_kw={"autocomplete": "off", "autofocus": True},
    )
    #: The name the admin saw: a rename by a colleague meanwhile is a conflict, not overwritten.
    expected_name = HiddenField()


class ActiveForm(FlaskForm):
    """Enable or disable an account. ``active`` is the state wanted ("1"/"0"), so a double
    click does not flip it back; without it (an old page) the button toggles."""

    active = HiddenField()


class DirectoryGroupsForm(FlaskForm):
    """The directory groups (DNs, one per line) that give each role at a directory login."""

    clerk = TextAreaField(_l("窓口担当のグループ"), validators=[Length(max=20000)])
    records_officer = TextAreaField(_l("記録管理担当のグループ"), validators=[Length(max=20000)])
    auditor = TextAreaField(_l("監査担当のグループ"), validators=[Length(max=20000)])
    admin = TextAreaField(_l("システム管理者のグループ"), validators=[Length(max=20000)])
