from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from tracker.web.i18n import lazy_gettext as _l


class LoginForm(FlaskForm):
    username = StringField(
        _l("ユーザー名"),
        validators=[DataRequired(message=_l("ユーザー名を入力してください")), Length(max=64)],
        render_kw={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("パスワード"),
        validators=[DataRequired(message=_l("パスワードを入力してください")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A form with only the CSRF token (logout, language switch, simple buttons)."""


class ChangePasswordForm(FlaskForm):
    """A person replaces their own password: the current one, then the new one twice."""

    current_password = PasswordField(
        _l("現在のパスワード"),
        validators=[
            DataRequired(message=_l("現在のパスワードを入力してください")),
            Length(max=256),
        ],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )
    password = PasswordField(
        _l("新しいパスワード"),
        validators=[
            DataRequired(message=_l("新しいパスワードを入力してください")),
            Length(max=256, message=_l("パスワードは256文字以内にしてください")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    password_again = PasswordField(
        _l("新しいパスワード（確認）"),
        validators=[
            DataRequired(message=_l("確認のため新しいパスワードをもう一度入力してください")),
            EqualTo("password", message=_l("確認用のパスワードが一致しません")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
