"""Handover form: recipient kind, documents checked, proxy and legal-representative evidence."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import TextArea

from tracker.domain.identity import AUTHORITY_PROOFS, IdentityPolicy, RecipientKind
from tracker.web.i18n import lazy_gettext as _l


class VoidForm(FlaskForm):
    """交付取消 by a records officer; the reason is required and checked as free text (never an
    individual number) by tracker.services.voids."""

    reason = StringField(_l("取消の理由"), widget=TextArea(), render_kw={"rows": 2})


class VoidRequestForm(FlaskForm):
    """The clerk who made a handover asks for its void, the same day."""

    reason = StringField(_l("取消を依頼する理由"), widget=TextArea(), render_kw={"rows": 2})


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class HandoverForm(FlaskForm):
    recipient_kind = RadioField(
        _l("受け取りに来た人"),
        choices=[SelectChoice(kind.value, _l(kind.label)) for kind in RecipientKind],
        default=RecipientKind.SELF.value,
    )
    recipient_name = StringField(
        _l("来所者の氏名（本人以外のとき）"), render_kw={"autocomplete": "off"}
    )
    documents = CheckboxesField(_l("来所者の本人確認書類（原本・有効期限内）"))
    principal_documents = CheckboxesField(_l("委任者（本人）の本人確認書類"))
    letter_of_attorney_date = StringField(
        _l("委任状の作成日"), render_kw={"autocomplete": "off", "placeholder": "R8.11.1"}
    )
    authority_proof = SelectField(
        _l("法定代理人の資格を証する書類"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(proof.code, proof.name) for proof in AUTHORITY_PROOFS],
    )

    #: The policy the choices came from (set by :meth:`use_policy`).
    policy: IdentityPolicy | None = None

    def use_policy(self, policy: IdentityPolicy) -> None:
        """Document choices come from the current identity policy (data, SPEC §4)."""
        self.policy = policy
        choices = [
            SelectChoice(code, f"{doc.name}（{policy.group_label(doc.group)}）")
            for code, doc in sorted(
                policy.documents.items(),
                key=lambda pair: pair[1].group,  # catalogue order
            )
        ]
        self.documents.choices = choices
        self.principal_documents.choices = list(choices)


#: The longest search or scan text (a name with kana and a birth date fits many times over).
SEARCH_MAX = 100


class SearchForm(FlaskForm):
    """The search page (issue 16): posted, so the words never enter a URL or an access log.

    Status and location are checked by the view (a status that does not exist, a location id
    that cannot be one), as they were when they came in the query string.
    """

    q = StringField(
        _l("氏名・フリガナ・生年月日・お問い合わせ番号・管理番号"),
        validators=[Length(max=SEARCH_MAX, message=_l("検索語は100文字以内で入力してください。"))],
    )
    status = StringField(_l("状態"))
    location = StringField(_l("保管場所"))


class ScanForm(FlaskForm):
    """The scan box in the header: posted like the search (a name typed here stays out of
    URLs too)."""

    q = StringField(
        _l("管理番号・お問い合わせ番号"),
        validators=[Length(max=SEARCH_MAX, message=_l("検索語は100文字以内で入力してください。"))],
    )
