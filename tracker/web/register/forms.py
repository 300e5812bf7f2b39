"""Forms of the resident-register pages: the upload and the entry on the item page.

The field rules are :mod:`tracker.domain.register`, shared with ``tracker register-check``, so
the form and the file accept and refuse the same values.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice

from tracker.domain.codes import REGISTER_OUTCOME_LABELS
from tracker.domain.errors import InputError
from tracker.domain.register import (
    RegisterEntry,
    check_checked_on,
    check_event_on,
    check_note,
    check_outcome,
)
from tracker.web.i18n import lazy_gettext as _l


class UploadForm(FlaskForm):
    file = FileField(_l("CSVファイル"), validators=[FileRequired(_l("ファイルを選んでください"))])
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


def _outcome_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("選んでください"))] + [
        SelectChoice(outcome.value, _l(label)) for outcome, label in REGISTER_OUTCOME_LABELS.items()
    ]


class RegisterResultForm(FlaskForm):
    """異動区分, 異動日 (和暦 or ISO), 照合日 (today JST when empty), 備考."""

    outcome = SelectField(_l("異動区分"), choices=_outcome_choices)
    event_on = StringField(_l("異動日"), render_kw={"autocomplete": "off", "placeholder": "R6.4.1"})
    checked_on = StringField(_l("照合日"), render_kw={"autocomplete": "off"})
    note = StringField(_l("備考"), render_kw={"autocomplete": "off"})

    def entry(self, today: date) -> tuple[RegisterEntry, date] | None:
        """The checked entry and its 照合日, or None with each refusal beside its field."""
        checked_on = self._run(
            self.checked_on, lambda: check_checked_on(self.checked_on.data, today)
        )
        outcome = self._run(self.outcome, lambda: check_outcome(self.outcome.data))
        event_on = None
        if outcome is not None and checked_on is not None:
            event_on = self._run(
                self.event_on, lambda: check_event_on(self.event_on.data, outcome, checked_on)
            )
        note = self._run(self.note, lambda: check_note(self.note.data))
        if any(f.errors for f in (self.outcome, self.event_on, self.checked_on, self.note)):
            return None
        assert outcome is not None and checked_on is not None
        return RegisterEntry(outcome, event_on, note), checked_on

    @staticmethod
    def _run(field: Any, check: Any) -> Any:
        try:
            return check()
        except InputError as error:
            field.errors = [*field.errors, str(error)]
            return None
