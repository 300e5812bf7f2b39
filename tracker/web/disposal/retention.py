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
from flask_babel import gettext as _
from flask_login import current_user

from tracker.clock import now_utc, today_jst
from tracker.domain.codes import PeriodUnit, RegisterOutcome, RuleAnchor, RuleKind
from tracker.domain.errors import InputError
from tracker.domain.records import check_free_text
from tracker.domain.retention import Rule, RuleError, rule_from_fields
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
from tracker.web.params import is_id

KIND_LABELS = {
    RuleKind.FIXED: "期間指定（保管期限日を指定）",
    RuleKind.FISCAL_YEAR: "年度（返戻年度の翌年度末からk年後の3月31日）",
    RuleKind.MONTHS_AFTER: "月数（返戻月のmか月後の月末）",
    RuleKind.PERIOD_FROM: "期間計算（起算日から民法の期間計算）",
}
ANCHOR_LABELS = {
    RuleAnchor.RETURNED_ON: "返戻日",
    RuleAnchor.REGISTER_EVENT_ON: "住基照合の異動日",
}
UNIT_LABELS = {PeriodUnit.DAYS: "日", PeriodUnit.MONTHS: "か月", PeriodUnit.YEARS: "年"}


# --- rules -------------------------------------------------------------------------------------


@bp.route("/retention")
@allow(R, A)
def rules() -> ResponseReturnValue:
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
    else:
        parameters["months"] = int(form.months.data or "x")
    rule = rule_from_fields(
        kind,
        label=check_free_text(form.label.data, "label", required=True, label="名称"),
        returned_from=returned_from,
        returned_to=returned_to,
        **parameters,
    )
    return kind, rule, parameters


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
        message = (
            str(error)
            if not isinstance(error, ValueError) or isinstance(error, (RuleError, InputError))
            else _("年数・月数・期間は整数で入力してください")
        )
        flash(message, "error")
        return redirect(url_for("disposal.rules"))
    flash(_("廃棄基準を保存しました。"), "info")
    return redirect(url_for("disposal.rules"))


@bp.route("/retention/gaps")
@allow(R, A)
def gaps() -> ResponseReturnValue:
    count, span, rows = retention.coverage_gaps(db.session)
    return render_template("disposal/gaps.html", count=count, span=span, rows=rows)


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
