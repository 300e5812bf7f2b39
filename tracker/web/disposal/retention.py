"""Retention rules and the coverage-gap report, holds and extensions (SPEC §2, §3): pages of the
disposal blueprint (:mod:`tracker.web.disposal.views`)."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import ItemKind, PeriodUnit, RegisterOutcome, RuleAnchor, RuleKind
from tracker.domain.errors import InputError
from tracker.domain.records import ITEM_KIND_LABELS, check_free_text
from tracker.domain.retention import Rule, RuleError, preview, rule_from_fields
from tracker.domain.wareki import parse_date
from tracker.extensions import db
from tracker.models import (
    Hold,
    Item,
    RetentionRule,
)
from tracker.services import holds, retention
from tracker.web.access import allow
from tracker.web.disposal.forms import (
    ExtensionForm,
    ReasonForm,
    RuleForm,
)
from tracker.web.disposal.views import A, R, bp
from tracker.web.i18n import gettext as _
from tracker.web.params import is_id

KIND_LABELS = {
    RuleKind.FIXED: "期間指定（保管期限日を指定）",
    RuleKind.FISCAL_YEAR: "年度（返戻年度の翌年度末からk年後の3月31日）",
    RuleKind.MONTHS_AFTER: "月数（返戻月のmか月後の月末）",
    RuleKind.PERIOD_FROM: "期間計算（起算日から民法の期間計算）",
    RuleKind.LATER_OF: "遅い方（副基準のうち遅い保管期限）",
}
ANCHOR_LABELS = {
    RuleAnchor.RETURNED_ON: "返戻日",
    RuleAnchor.REGISTER_EVENT_ON: "住基照合の異動日",
    RuleAnchor.NOTICE_SENT_ON: "お知らせ送付日",
    RuleAnchor.FIRST_NOTICE_ON: "交付通知書送付日",
    RuleAnchor.RENOTICE_ON: "再通知日",
}
#: The anchors a ``later_of`` sub-rule row may count from (not the 異動日: see docs).
SUB_ANCHORS = {
    a: label for a, label in ANCHOR_LABELS.items() if a is not RuleAnchor.REGISTER_EVENT_ON
}
UNIT_LABELS = {PeriodUnit.DAYS: "日", PeriodUnit.MONTHS: "か月", PeriodUnit.YEARS: "年"}


# --- rules -------------------------------------------------------------------------------------


@bp.route("/retention")
@allow(R, A)
def rules() -> ResponseReturnValue:
    return _rules_page(RuleForm(formdata=None), None)


def _rules_page(form: RuleForm, preview_line: str | None) -> ResponseReturnValue:
    stored = retention.load_rules(db.session)
    gap_count, gap_span, _gap_rows = retention.coverage_gaps(
        db.session, [s.rule for s in stored], limit=0
    )
    return render_template(
        "disposal/rules.html",
        stored=stored,
        kinds=KIND_LABELS,
        anchors=ANCHOR_LABELS,
        units=UNIT_LABELS,
        outcomes=[(o.value, o.label) for o in RegisterOutcome],
        item_kinds=[(k.value, ITEM_KIND_LABELS[k]) for k in ItemKind],
        sub_anchors=SUB_ANCHORS,
        previews={s.row_id: preview(s.rule) for s in stored},
        gap_groups=retention.gaps_by_kind(db.session, [s.rule for s in stored]),
        form=form,
        preview_line=preview_line,
        gap_count=gap_count,
        gap_span=gap_span,
        calendar=retention.calendar(db.session, today_jst(), rules=[s.rule for s in stored]),
        can_edit=current_user.has_role(R),
    )


def _rule_from_form(form: RuleForm) -> tuple[RuleKind, Rule, dict[str, Any]]:
    try:
        kind = RuleKind(form.kind.data or "")
    except ValueError:
        raise RuleError("廃棄基準の種類を選んでください") from None
    returned_from = parse_date(form.returned_from.data or "")
    returned_to = parse_date(form.returned_to.data or "")
    parameters: dict[str, Any] = {}
    if kind is RuleKind.FIXED:
        parameters["retain_until"] = parse_date(form.retain_until.data or "")
    elif kind is RuleKind.FISCAL_YEAR:
        parameters["years"] = int(form.years.data or "x")
    elif kind is RuleKind.PERIOD_FROM:
        parameters["anchor"] = (form.anchor.data or "").strip() or None
        parameters["period_count"] = int(form.period_count.data or "x")
        parameters["period_unit"] = (form.period_unit.data or "").strip() or None
        parameters["register_outcomes"] = [c for c in form.register_outcomes.data or [] if c]
    elif kind is RuleKind.LATER_OF:
        parameters["sub_rules"] = _sub_rules(form)
        parameters["cap_anchor"] = (form.cap_anchor.data or "").strip() or None
    else:
        parameters["months"] = int(form.months.data or "x")
    rule = rule_from_fields(
        kind,
        label=check_free_text(form.label.data, "label", required=True, label="名称"),
        returned_from=returned_from,
        returned_to=returned_to,
        item_kinds=[c for c in form.item_kinds.data or [] if c],
        **parameters,
    )
    return kind, rule, parameters


def _sub_rules(form: RuleForm) -> list[dict[str, Any]]:
    """The filled sub-rule rows of the form, as rules-file sub-rules (``period_from``)."""
    rows = []
    for n in (1, 2, 3):
        anchor = (getattr(form, f"sub{n}_anchor").data or "").strip()
        count = (getattr(form, f"sub{n}_count").data or "").strip()
        unit = (getattr(form, f"sub{n}_unit").data or "").strip()
        if not (anchor or count):  # the unit select always sends a value
            continue
        rows.append(
            {
                "kind": RuleKind.PERIOD_FROM.value,
                "anchor": anchor or None,
                "period": {unit or "months": int(count or "x")},
            }
        )
    return rows


@bp.route("/retention/rules", methods=["POST"])
@allow(R)
def save_rule() -> ResponseReturnValue:
    """Create a rule, or change one (``rule_id`` in the form); audited with before/after."""
    form = RuleForm()
    existing = None
    rule_id = (form.rule_id.data or "").strip()
    if rule_id:
        if not is_id(rule_id):
            abort(404)  # no row can have that id (issue 10: never reaches the database)
        existing = db.session.get(RetentionRule, int(rule_id)) or abort(404)
    if (form.preview.data or "").strip():
        try:
            _kind, rule, _parameters = _rule_from_form(form)
        except (RuleError, InputError, ValueError) as error:
            flash(_error_text(error), "error")
            return _rules_page(form, None)
        return _rules_page(form, preview(rule))
    try:
        with db.attempt():
            kind, rule, parameters = _rule_from_form(form)
            retention.save_rule(
                db.session,
                actor=current_user.username,
                rule=rule,
                kind=kind,
                parameters=parameters,
                existing=existing,
            )
    except (RuleError, InputError, ValueError) as error:
        flash(_error_text(error), "error")
        return redirect(url_for("disposal.rules"))
    flash(_("廃棄基準を保存しました。"), "info")
    return redirect(url_for("disposal.rules"))


def _error_text(error: Exception) -> str:
    if not isinstance(error, ValueError) or isinstance(error, (RuleError, InputError)):
        return str(error)
    return str(_("年数・月数・期間は整数で入力してください"))


@bp.route("/retention/gaps")
@allow(R, A)
def gaps() -> ResponseReturnValue:
    count, span, rows = retention.coverage_gaps(db.session)
    return render_template(
        "disposal/gaps.html",
        count=count,
        span=span,
        rows=rows,
        groups=retention.gaps_by_kind(db.session),
        kind_labels={k.value: ITEM_KIND_LABELS[k] for k in ItemKind},
    )


# --- holds and extensions ------------------------------------------------------------------------


@bp.route("/items/<int:item_id>/holds", methods=["POST"])
@allow(R)
def place_hold(item_id: int) -> ResponseReturnValue:
    item = db.session.get(Item, item_id) or abort(404)
    form = ReasonForm()
    try:
        with db.attempt():
            holds.place(
                db.session,
                actor=current_user.username,
                item=item,
                reason=form.reason.data,
                now=now_utc(),
            )
    except holds.HoldError as error:
        flash(str(error), "error")
    else:
        flash(_("保留にしました。"), "info")
    return redirect(url_for("counter.item", item_id=item_id))


@bp.route("/holds/<int:hold_id>/release", methods=["POST"])
@allow(R)
def release_hold(hold_id: int) -> ResponseReturnValue:
    hold = db.session.get(Hold, hold_id) or abort(404)
    form = ReasonForm()
    try:
        with db.attempt():
            holds.release(
                db.session,
                actor=current_user.username,
                hold=hold,
                reason=form.reason.data,
                now=now_utc(),
            )
    except holds.HoldError as error:
        flash(str(error), "error")
    else:
        flash(_("保留を解除しました。"), "info")
    return redirect(url_for("counter.item", item_id=hold.item_id))


@bp.route("/items/<int:item_id>/extensions", methods=["POST"])
@allow(R)
def extend(item_id: int) -> ResponseReturnValue:
    item = db.session.get(Item, item_id) or abort(404)
    form = ExtensionForm()
    try:
        with db.attempt():
            holds.extend(
                db.session,
                actor=current_user.username,
                item=item,
                retain_until=parse_date(form.retain_until.data or ""),
                reason=form.reason.data,
                now=now_utc(),
            )
    except (holds.HoldError, InputError) as error:
        flash(str(error), "error")
    else:
        flash(_("保管期限を延長しました。"), "info")
    return redirect(url_for("counter.item", item_id=item_id))
