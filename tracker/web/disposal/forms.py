"""Forms of the disposal area: retention rules, holds and extensions, batches (SPEC §3, §5).

They read and type what the officer sent; the rules themselves (dates, free text, the
individual-number guard, four eyes) are checked by tracker.domain and the services, the same
for these pages, the command line and the import. Field names are the ones the pages post.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectMultipleField, StringField

from tracker.web.i18n import lazy_gettext as _l


class RuleForm(FlaskForm):
    """A new retention rule, or a change to one (``rule_id``)."""

    rule_id = HiddenField()
    kind = StringField(_l("種類"))
    label = StringField(_l("名称"))
    returned_from = StringField(_l("返戻日（から）"))
    returned_to = StringField(_l("返戻日（まで）"))
    retain_until = StringField(_l("保管期限"))
    years = StringField(_l("年数"))
    months = StringField(_l("月数"))
    #: ``period_from`` (issue 13): the anchor, the period and the register outcomes.
    anchor = StringField(_l("起算日"))
    period_count = StringField(_l("期間"))
    period_unit = StringField(_l("期間の単位"))
    #: Codes checked by the domain (an unknown one is refused there, with its name).
    register_outcomes = SelectMultipleField(_l("異動区分"), choices=[], validate_choice=False)
    #: Issue 14: the item kinds (none: every kind), ``later_of`` sub-rules (up to three rows
    #: of anchor + period) and the card-expiry cap; ``preview`` shows the preview line only.
    item_kinds = SelectMultipleField(_l("通知物の種別"), choices=[], validate_choice=False)
    sub1_anchor = StringField(_l("副基準1の起算日"))
    sub1_count = StringField(_l("副基準1の期間"))
    sub1_unit = StringField(_l("副基準1の期間の単位"))
    sub2_anchor = StringField(_l("副基準2の起算日"))
    sub2_count = StringField(_l("副基準2の期間"))
    sub2_unit = StringField(_l("副基準2の期間の単位"))
    sub3_anchor = StringField(_l("副基準3の起算日"))
    sub3_count = StringField(_l("副基準3の期間"))
    sub3_unit = StringField(_l("副基準3の期間の単位"))
    cap_anchor = StringField(_l("上限日"))
    preview = StringField(_l("プレビュー"))


class ReasonForm(FlaskForm):
    """Place or release a hold; the reason is required and checked as free text."""

    reason = StringField(_l("理由"))


class ExtensionForm(FlaskForm):
    retain_until = StringField(_l("延長後の保管期限"))
    reason = StringField(_l("理由"))


class CreateBatchForm(FlaskForm):
    as_of = StringField(_l("基準日"))
    #: A retention rule's id: only its cohort (empty: every cohort).
    rule = StringField(_l("廃棄基準"))


class ApproveForm(FlaskForm):
    """Four eyes: the approving officer types their password again."""

    password = PasswordField(_l("パスワード"))


class ExcludeForm(FlaskForm):
    """Take one item out of a created or approved batch, with a reason (issue 13)."""

    control_no = StringField(_l("管理番号"))
    reason = StringField(_l("除外の理由"))


class ExecuteForm(FlaskForm):
    destroyed_on = StringField(_l("廃棄日"))
    method = StringField(_l("廃棄方法"))
    place = StringField(_l("廃棄した場所"))
    executor = StringField(_l("廃棄した人"))
    witness = StringField(_l("立会人"))
    contractor_name = StringField(_l("委託業者名"))
    contractor_certificate_no = StringField(_l("業者の証明書番号"))
    #: The number of cards, typed again on the confirmation page (issue 12).
    confirm_count = StringField(_l("廃棄する枚数"))


class CancelForm(FlaskForm):
    reason = StringField(_l("取消の理由"))
    #: The status the officer saw (so that a colleague's approval in between is a conflict).
    seen = HiddenField()


class RecordRetentionForm(FlaskForm):
    """The retention periods of the tracker's own records (issue 16): text, so that the
    service's checks give the message (a number in range, named by its class)."""

    items = StringField(_l("終了した通知物と返戻郵便（年）"))
    handovers = StringField(_l("交付記録と受領書（年）"))
    reservations = StringField(_l("受取予約（日）"))
    contacts = StringField(_l("接触記録（年）"))


class PurgeForm(FlaskForm):
    """Start the purge as of a day, after its preview (issue 17): the day, read again."""

    as_of = HiddenField()
