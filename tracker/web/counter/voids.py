"""交付取消 (void, SPEC §2) from the handover page: a records officer voids with a reason; the
clerk who made the handover may ask for it the same day. The rules are in
:mod:`tracker.services.voids`; a colleague who was faster gets the 409 page (``Conflict``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.clock import now_utc
from tracker.extensions import db
from tracker.services import voids
from tracker.web.access import allow
from tracker.web.counter.forms import VoidForm, VoidRequestForm
from tracker.web.counter.views import C, R, _handover_or_404, bp, render_detail
from tracker.web.i18n import gettext as _


@bp.route("/handovers/<int:handover_id>/void", methods=["POST"])
@allow(R)
def void(handover_id: int) -> ResponseReturnValue:
    """Void the handover: its items are back in custody (保管中) and can be handed over again."""
    return _decide(
        handover_id,
        VoidForm(),
        "void_form",
        voids.void,
        _("交付 %(no)s を取り消しました。通知物は保管中に戻りました。"),
    )


@bp.route("/handovers/<int:handover_id>/void-request", methods=["POST"])
@allow(C, R)
def request_void(handover_id: int) -> ResponseReturnValue:
    """The clerk who made the handover asks a records officer to void it (same day, JST)."""
    return _decide(
        handover_id,
        VoidRequestForm(),
        "request_form",
        voids.request_void,
        _("取消を依頼しました。記録管理担当が確認します。"),
    )


def _decide(
    handover_id: int,
    form: VoidForm | VoidRequestForm,
    form_name: str,
    act: Callable[..., object],
    done: str,
) -> ResponseReturnValue:
    """Run a void or a void request; a refusal shows the handover again with the reason."""
    record = _handover_or_404(handover_id)
    if not form.validate():
        return render_detail(record, **{form_name: form}, problem=_("もう一度操作してください"))
    try:
        with db.attempt():
            act(
                db.session,
                actor=current_user.username,
                handover=record,
                reason=form.reason.data,
                now=now_utc(),
            )
    except voids.VoidError as refusal:
        if isinstance(refusal, voids.ReasonError):
            form.reason.errors = [str(refusal)]  # shown at the field, too
        db.session.refresh(record)
        return render_detail(record, **{form_name: form}, problem=str(refusal))
    flash(done % {"no": record.receipt_no}, "info")
    return redirect(url_for("counter.handover_detail", handover_id=record.id))
