from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from tracker.domain.codes import Role
from tracker.domain.passwords import password_problems

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
