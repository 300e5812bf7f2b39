"""The identity policy: everyone at the counter reads it; records officers make new versions."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

from tracker.domain.codes import Role
from tracker.domain.errors import InputError
from tracker.domain.identity import IdentityPolicy, PolicyError, RecipientKind
from tracker.domain.records import check_free_text
from tracker.extensions import db
from tracker.services import identity_policy
from tracker.services.handover import current_policy
from tracker.web.access import allow
from tracker.web.i18n import gettext as _
from tracker.web.i18n import lazy_gettext as _l

bp = Blueprint("policy", __name__)

GROUP_CHOICES = [
    SelectChoice("A", _l("A群（1点で可）")),
    SelectChoice("B", _l("B群（2点必要）")),
    SelectChoice("", _l("使わない")),
]


class DocumentRow(Form):
    code = StringField()
    name = StringField(_l("書類"))
    group = SelectField(_l("区分"), choices=GROUP_CHOICES)


class PolicyForm(FlaskForm):
    documents = FieldList(FormField(DocumentRow))
    group_a_required = IntegerField(_l("A群で必要な点数"), validators=[NumberRange(1, 9)])
    group_b_required = IntegerField(_l("B群で必要な点数"), validators=[NumberRange(1, 9)])
    proxy_letter_valid_months = IntegerField(
        _l("委任状の有効期間（か月）"), validators=[NumberRange(1, 24)]
    )
    note = StringField(
        _l("変更の理由"), validators=[DataRequired(_l("変更の理由を入力してください"))]
    )
    new_name = StringField(_l("追加する書類"), validators=[Optional()])
    new_group = SelectField(_l("区分"), choices=GROUP_CHOICES[:2])


@bp.route("/identity-policy")
@allow(Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR)
def show() -> ResponseReturnValue:
    policy = current_policy(db.session)
    form = PolicyForm(formdata=None)
    _fit(form, policy)
    for document in policy.documents.values():
        form.documents.append_entry(
            {"code": document.code, "name": document.name, "group": document.group}
        )
    form.group_a_required.data = policy.group_a_required
    form.group_b_required.data = policy.group_b_required
    form.proxy_letter_valid_months.data = policy.proxy_letter_valid_months
    return _page(policy, form, [])


@bp.route("/identity-policy", methods=["POST"])
@allow(Role.RECORDS_OFFICER)
def save() -> ResponseReturnValue:
    policy = current_policy(db.session)
    form = PolicyForm()
    _fit(form, policy)
    errors: list[str] = []
    if form.validate_on_submit() and not (errors := _text_problems(form)):
        documents = [
            {
                "code": row.form.code.data,
                "name": (row.form.name.data or "").strip(),
                "group": row.form.group.data,
            }
            for row in form.documents
            if row.form.group.data
        ]
        if (form.new_name.data or "").strip():
            documents.append(
                {
                    "code": f"doc_v{policy.version + 1}",
                    "group": form.new_group.data,
                    "name": (form.new_name.data or "").strip(),
                }
            )
        data: dict[str, object] = {
            "documents": documents,
            "group_a_required": form.group_a_required.data,
            "group_b_required": form.group_b_required.data,
            "proxy_letter_valid_months": form.proxy_letter_valid_months.data,
        }
        if policy.format == 2:
            data = _format2(policy, documents, form.proxy_letter_valid_months.data)
        try:
            with db.attempt():
                saved = identity_policy.save_new_version(
                    db.session, actor=current_user.username, data=data, note=form.note.data or ""
                )
        except PolicyError as error:
            errors = [str(error)]
        else:
            if saved is None:
                flash(_("変更はありません。"), "info")
            else:
                flash(_("本人確認の基準を第%(v)d版として保存しました。", v=saved.version), "info")
            return redirect(url_for("policy.show"))
    return _page(policy, form, errors)


def _fit(form: PolicyForm, policy: IdentityPolicy) -> None:
    """Format 2: the policy's own groups; the A/B counts give way to the rules (read-only here,
    edited as a file: ``tracker id-policy export`` / ``import``)."""
    if policy.format != 2:
        return
    choices = [SelectChoice(code, name) for code, name in policy.group_names.items()]
    form.new_group.choices = list(choices)
    for row in form.documents:
        row.form.group.choices = [*choices, SelectChoice("", _l("使わない"))]
    for count in (form.group_a_required, form.group_b_required):
        count.validators = [Optional()]


def _format2(
    policy: IdentityPolicy, documents: list[dict[str, str | None]], months: int | None
) -> dict[str, object]:
    """The edited names and groups, each document keeping its conditions (photo, dates, …)."""
    data = policy.to_dict()
    kept = {d["code"]: d for d in data["documents"]}
    data["documents"] = [
        {**kept.get(str(d["code"]), {}), "code": d["code"], "name": d["name"], "group": d["group"]}
        for d in documents
    ]
    data["proxy_letter_valid_months"] = months
    return data


def _text_problems(form: PolicyForm) -> list[str]:
    """Names and the note are free text like any other: checked, never silently cut."""
    found = []
    values = [(row.form.name.data, "document_name", "書類の名称") for row in form.documents]
    values += [
        (form.new_name.data, "document_name", "追加する書類"),
        (form.note.data, "note", "変更の理由"),
    ]
    for value, limit, label in values:
        try:
            check_free_text(value, limit, required=False, label=label)
        except InputError as error:
            found.append(str(error))
    return found


def _page(policy: IdentityPolicy, form: PolicyForm, errors: list[str]) -> str:
    history = [(row, json.loads(row.policy_json)) for row in identity_policy.versions(db.session)]
    return render_template(
        "policy/identity.html",
        policy=policy,
        form=form,
        errors=errors,
        history=history,
        can_edit=current_user.has_role(Role.RECORDS_OFFICER),
        recipient_kinds=list(RecipientKind),
    )
