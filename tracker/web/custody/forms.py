"""Intake, edit and move forms. Field rules come from tracker.domain.records, shared with the
bulk import, so the counter and the import accept and refuse exactly the same values."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from tracker.domain.codes import RETURN_REASON_LABELS, ItemKind
from tracker.domain.records import (
    ITEM_KIND_LABELS,
    Checked,
    EnvelopeFields,
    ItemFields,
    check_envelope,
    check_item,
)
from tracker.web.i18n import lazy_gettext as _l

REASON_CHOICES = [SelectChoice(r.value, label) for r, label in RETURN_REASON_LABELS.items()]
KIND_CHOICES = [SelectChoice(k.value, label) for k, label in ITEM_KIND_LABELS.items()]


class ItemForm(Form):
    """One card in the envelope (a plain Form: the CSRF token belongs to the outer form)."""

    name = StringField(_l("氏名"), render_kw={"autocomplete": "off"})
    name_kana = StringField(_l("フリガナ"), render_kw={"autocomplete": "off"})
    birth_date = StringField(
        _l("生年月日"), render_kw={"autocomplete": "off", "placeholder": "S59.6.20"}
    )
    relationship = StringField(_l("続柄"), render_kw={"autocomplete": "off"})
    item_kind = SelectField(
        _l("種別"), choices=KIND_CHOICES, default=ItemKind.NOTIFICATION_CARD.value
    )
    alias = StringField(_l("通称（任意）"), render_kw={"autocomplete": "off"})
    # Unclaimed My Number cards only (issue 14).
    first_notice_on = StringField(
        _l("交付通知書送付日"), render_kw={"autocomplete": "off", "placeholder": "R7.4.1"}
    )
    renotice_on = StringField(
        _l("再通知日"), render_kw={"autocomplete": "off", "placeholder": "R7.10.1"}
    )
    card_expires_on = StringField(
        _l("カードの有効期限"), render_kw={"autocomplete": "off", "placeholder": "R17.6.20"}
    )

    def raw(self) -> dict[str, str]:
        return {
            "name": self.name.data or "",
            "name_kana": self.name_kana.data or "",
            "birth_date": self.birth_date.data or "",
            "relationship": self.relationship.data or "",
            "item_kind": self.item_kind.data or "",
            "alias": self.alias.data or "",
            "first_notice_on": self.first_notice_on.data or "",
            "renotice_on": self.renotice_on.data or "",
            "card_expires_on": self.card_expires_on.data or "",
        }


class EnvelopeFieldsMixin:
    tracking_no = StringField(
        _l("お問い合わせ番号"),
        render_kw={"autocomplete": "off", "inputmode": "numeric", "data-enter-next": "1"},
    )
    return_date = StringField(_l("返戻日"), render_kw={"autocomplete": "off"})
    return_reason = SelectField(_l("還付事由"), choices=REASON_CHOICES)
    addressee = StringField(_l("宛名（世帯主）"), render_kw={"autocomplete": "off"})
    address = StringField(_l("住所"), render_kw={"autocomplete": "off"})
    household_code = StringField(_l("世帯番号（任意）"), render_kw={"autocomplete": "off"})

    def envelope_raw(self) -> dict[str, str]:
        return {
            "tracking_no": self.tracking_no.data or "",
            "return_date": self.return_date.data or "",
            "return_reason": self.return_reason.data or "",
            "addressee": self.addressee.data or "",
            "address": self.address.data or "",
            "household_code": self.household_code.data or "",
            "slot": getattr(getattr(self, "slot", None), "data", "") or "",
        }


def _attach(form: Any, checked: Checked, names: dict[str, str]) -> None:
    for key, message in checked.errors.items():
        field = getattr(form, names.get(key, key), None)
        if field is not None:
            field.errors = [*field.errors, message]
    form.warnings = getattr(form, "warnings", []) + list(checked.warnings.values())


class TrackingConfirmation:
    """A tracking number that looks mistyped (check digit, length) is saved only once the clerk
    has ticked the box for that very number (issue 12): the digits they saw the warning for
    travel in ``confirmed_tracking_no``, so changing the number asks again."""

    confirm_tracking = BooleanField(_l("封筒の番号と照合しました。この番号のまま登録する"))
    confirmed_tracking_no = HiddenField()
    #: The tracking number's warning from the last check, shown beside the box.
    tracking_warning: str | None = None

    def tracking_confirmed(self, digits: str) -> bool:
        """True unless the number has a warning the clerk has not confirmed for these digits.

        Either way the form is ready to show again: the box is unticked for a number other
        than the one confirmed, and remembers the digits now on screen.
        """
        if self.tracking_warning is None:
            return True
        confirmed = bool(self.confirm_tracking.data) and self.confirmed_tracking_no.data == digits
        if not confirmed:
            self.confirm_tracking.data = False
        self.confirmed_tracking_no.data = digits
        return confirmed


class IntakeForm(EnvelopeFieldsMixin, TrackingConfirmation, FlaskForm):
    location = SelectField(_l("保管場所"), coerce=int)
    slot = StringField(_l("保管位置（棚・箱）"), render_kw={"autocomplete": "off"})
    items = FieldList(FormField(ItemForm), min_entries=1, max_entries=12)

    def checked_values(self, today: date) -> tuple[EnvelopeFields, list[ItemFields]] | None:
        """Run the shared field rules; attach messages to the fields. None when refused."""
        self.warnings: list[str] = []
        envelope_checked = Checked()
        envelope = check_envelope(self.envelope_raw(), today, envelope_checked)
        self.tracking_warning = envelope_checked.warnings.pop("tracking_no", None)
        _attach(self, envelope_checked, {})
        items: list[ItemFields] = []
        for entry in self.items:
            item_checked = Checked()
            item = check_item(
                entry.form.raw(), today, envelope.returned_on if envelope else None, item_checked
            )
            _attach(entry.form, item_checked, {})
            if item is not None:
                items.append(item)
        if envelope is None or len(items) != len(self.items.entries):
            return None
        return envelope, items


class EnvelopeEditForm(EnvelopeFieldsMixin, TrackingConfirmation, FlaskForm):
    def checked_values(self, today: date, slot: str | None) -> EnvelopeFields | None:
        self.warnings: list[str] = []
        checked = Checked()
        raw = self.envelope_raw()
        raw["slot"] = slot or ""
        envelope = check_envelope(raw, today, checked)
        self.tracking_warning = checked.warnings.pop("tracking_no", None)
        _attach(self, checked, {})
        return envelope


class ItemEditForm(ItemForm, FlaskForm):
    def checked_values(self, today: date, returned_on: date) -> ItemFields | None:
        self.warnings: list[str] = []
        checked = Checked()
        item = check_item(self.raw(), today, returned_on, checked)
        _attach(self, checked, {})
        return item


class NoticeSentForm(FlaskForm):
    """お知らせ送付日 (issue 14): a retention rule may count from it; empty clears it."""

    notice_sent_on = StringField(
        _l("お知らせ送付日"), render_kw={"autocomplete": "off", "placeholder": "R7.4.1"}
    )


class MoveForm(FlaskForm):
    location = SelectField(_l("保管場所"), coerce=int)
    slot = StringField(_l("保管位置（棚・箱）"), render_kw={"autocomplete": "off"})
