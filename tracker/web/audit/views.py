"""The auditor's workspace: the audit log, chain verification, item histories, the handover
review with flags, exports. Auditors change nothing (SPEC §1): the one POST, confirming a
value against an event's keyed digest (issue 16), only reads and appends its own event."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from tracker.clock import to_jst, today_jst
from tracker.domain import digests
from tracker.domain.codes import AuditAction, Role
from tracker.domain.errors import InputError
from tracker.domain.export import ENCODINGS, ExportEncodingError, encode_csv
from tracker.domain.identity import RecipientKind
from tracker.domain.wareki import parse_date
from tracker.extensions import db
from tracker.models import AuditEvent, Item, ItemRevision
from tracker.services import (
    audit,
    audit_references,
    auditlog,
    handover_review,
    people,
    protection,
)
from tracker.web import purpose
from tracker.web.access import allow
from tracker.web.audit import readable
from tracker.web.audit.forms import DigestCheckForm
from tracker.web.filters import code_label
from tracker.web.i18n import lazy_gettext as _l
from tracker.web.params import date_arg, id_arg

bp = Blueprint("audit", __name__)

A, R = Role.AUDITOR, Role.RECORDS_OFFICER


#: How the filter forms name their date fields, for the 400 page of a date that cannot be used.
DAY_LABELS = {"since": _l("期間（から）"), "until": _l("期間（まで）")}


def _day(name: str) -> date | None:
    return date_arg(name, str(DAY_LABELS[name]))


def _filter() -> auditlog.AuditFilter:
    return auditlog.AuditFilter(
        since=_day("since"),
        until=_day("until"),
        actor=request.args.get("actor", "").strip(),
        action=request.args.get("action", "").strip(),
        subject=request.args.get("subject", "").strip(),
        outcome=request.args.get("outcome", "").strip(),
    )


@bp.route("/audit")
@allow(A)
def log() -> ResponseReturnValue:
    f = _filter()
    before = id_arg("before")  # a sequence number: the same range as an id
    args = {k: v for k, v in request.args.items() if k != "before"}
    with db.read_session() as session:  # rendered inside: the rows belong to this session
        page = auditlog.page(session, f, before=before)
        return render_template(
            "audit/log.html",
            page=page,
            events=readable.show(session, page.events),
            f=f,
            args=args,
            action_groups=readable.action_groups(),
            outcomes=auditlog.OUTCOMES,
        )


@bp.route("/audit/events/<int:seq>", methods=["GET", "POST"])
@allow(A)
def event(seq: int) -> ResponseReturnValue:
    """One event, and a form to confirm a candidate value against one of its digests.

    The HMAC is computed here with the installation's key, which never leaves the server; the
    check is audited with the event's number and the field, never the typed value. The
    candidate is posted, never put in a URL.
    """
    with db.read_session() as session:
        row = session.scalar(select(AuditEvent).where(AuditEvent.seq == seq))
        if row is None:
            abort(404)
        [shown] = readable.show(session, [row])
        session.expunge(row)
    stored = digests.digest_paths(audit.details_of(row))
    form = DigestCheckForm()
    form.field.choices = [(path, readable.digest_path_label(path)) for path in stored]
    result: bool | None = None
    status = 200
    if request.method == "POST":
        if stored and form.validate():
            path = form.field.data
            result = audit.digest_matches(stored[path], _candidate(path, form.candidate.data))
            audit.record(
                db.session,
                actor=current_user.username,
                action=AuditAction.AUDIT_DIGEST_CHECK,
                details={"event": seq, "field": path, "matched": result},
            )
        else:
            status = 422
    return render_template(
        "audit/event.html", s=shown, form=form, has_digests=bool(stored), result=result
    ), status


def _candidate(path: str, typed: str | None) -> object:
    """The typed value as the digest was made of it: a birth date in any accepted form (和暦
    too) as ISO; text without the spaces around it."""
    text = (typed or "").strip()
    if "birth_date" in path or path.split(".")[-1].endswith("_on_digest"):
        try:
            return parse_date(text)
        except InputError:
            return text
    return text


@bp.route("/audit/verify")
@allow(A)
def verify() -> ResponseReturnValue:
    """The same check as ``tracker audit-verify``; the first broken event is linked."""
    with db.read_session() as session:
        result = audit.verify_chain(session)
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.AUDIT_VERIFY,
        outcome="ok" if result.ok else "failed",
        details={"checked": result.checked, "broken_seq": result.broken_seq},
    )
    return render_template("audit/verify.html", result=result)


@bp.route("/audit/export.csv")
@allow(A)
def export() -> ResponseReturnValue:
    f = _filter()
    encoding = request.args.get("encoding", "utf-8-sig")
    if encoding not in ENCODINGS:
        abort(400)
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.AUDIT_EXPORT,
        details={"encoding": encoding, "filtered": f.active()},
    )

    def rows() -> Iterator[list[str]]:
        with db.read_session() as session:
            protected = protection.protected_now(session)
            for event in auditlog.iter_events(session, f):
                yield auditlog.export_row(event, protected)

    if encoding == "cp932":
        try:
            body = b"".join(encode_csv(auditlog.EXPORT_HEADER, rows(), encoding))
        except ExportEncodingError as error:
            return Response(str(error), status=422, mimetype="text/plain")
        return _csv(body, "audit-log.csv")
    return _csv(
        stream_with_context(encode_csv(auditlog.EXPORT_HEADER, rows(), encoding)), "audit-log.csv"
    )


def _csv(body: bytes | Iterable[bytes], filename: str) -> Response:
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/items/<int:item_id>/history", methods=["GET", "POST"])
@allow(A, R)
def item_history(item_id: int) -> ResponseReturnValue:
    """An item's audit history (names in it): a protected item first asks for the purpose."""
    item = db.session.get(Item, item_id) or abort(404)
    gate = purpose.ask([item])
    if gate.response is not None:
        return gate.response
    if request.method == "POST":
        return redirect(url_for("audit.item_history", item_id=item.id))
    events = auditlog.history(db.session, item)
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.ITEM_HISTORY_VIEW,
        object_type="item",
        object_id=item.id,
        details={
            "control_no": item.control_no,
            **purpose.detail(gate.purpose),
        },
    )
    return render_template(
        "audit/history.html",
        item=item,
        events=readable.show(db.session, events),
        revisions=_revisions(item),
        can_check=current_user.has_role(A),
    )


#: Revision fields never shown for a protected household (支援措置): the address.
_MASKED_FIELDS = frozenset({"address", "addressee"})


def _revisions(item: Item) -> list[tuple[ItemRevision, str, str, str]]:
    """The item's and its envelope's corrections (issue 16: the values the audit log no
    longer holds), newest first, as (revision, field label, old, new); a protected
    household's addresses masked as on every other page."""
    rows = db.session.scalars(
        select(ItemRevision)
        .where(
            ItemRevision.envelope_id == item.envelope_id,
            (ItemRevision.item_id == item.id) | ItemRevision.item_id.is_(None),
        )
        .order_by(ItemRevision.id.desc())
    ).all()
    masked = bool(protection.protected_envelope_ids(db.session, [item.envelope_id]))
    shown = []
    for row in rows:
        old, new = row.old_value or "", row.new_value or ""
        if masked and row.field in _MASKED_FIELDS:
            old, new = protection.MASKED, protection.MASKED
        shown.append((row, readable.DETAIL_LABELS.get(row.field, row.field), old, new))
    return shown


def _review_filter() -> handover_review.ReviewFilter:
    today = today_jst()
    since = _day("since") or today - timedelta(days=6)
    until = _day("until") or today
    if until < since:
        since, until = until, since
    if (until - since).days > 366:
        since = until - timedelta(days=366)
    kind = request.args.get("kind", "")
    return handover_review.ReviewFilter(
        since=since,
        until=until,
        clerk=request.args.get("clerk", "").strip(),
        kind=kind if kind in {k.value for k in RecipientKind} else "",
        flagged_only=request.args.get("flagged") == "1",
    )


@bp.route("/handovers/review")
@allow(A, R)
def handover_log() -> ResponseReturnValue:
    args = _review_filter()
    page = handover_review.review_page(db.session, args, after=id_arg("after"))
    rows = page.rows
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.HANDOVER_REVIEW,
        details={"since": str(args.since), "until": str(args.until), "rows": len(rows)},
    )
    return render_template(
        "audit/handovers.html",
        rows=rows,
        next_after=page.next_after,
        args=args,
        flags=handover_review.FLAGS,
        kinds={k.value: code_label(k, "recipient_kind") for k in RecipientKind},
        policies=audit_references.load_policies(db.session),
        policy_title=readable.policy_title,
    )


@bp.route("/handovers/export.csv")
@allow(A, R)
def handover_export() -> ResponseReturnValue:
    args = _review_filter()
    encoding = request.args.get("encoding", "utf-8-sig")
    if encoding not in ENCODINGS:
        abort(400)
    rows = handover_review.review(db.session, args)
    header = (
        "receipt_no",
        "handed_over_at_jst",
        "clerk",
        "recipient_kind",
        "items",
        "documents",
        "policy_version",
        "flags",
        # issue 12: the people by name, and the void (交付取消) of a voided handover
        "clerk_name",
        "voided_at_jst",
        "voided_by",
        "voided_by_name",
        "void_reason",
    )
    known = people.display_names(db.session)

    def jst(moment: datetime | None) -> str:
        return to_jst(moment).isoformat() if moment is not None else ""

    body = [
        [
            r.handover.receipt_no,
            jst(r.handover.handed_over_at),
            r.handover.clerk,
            r.handover.recipient_kind,
            " ".join(i.control_no for i in r.items),
            " ".join(r.documents),
            r.handover.policy_version,
            " ".join(r.flags),
            people.shown_name(r.handover.clerk, known),
            jst(r.handover.voided_at),
            r.handover.voided_by or "",
            people.shown_name(r.handover.voided_by, known) if r.handover.voided_by else "",
            r.handover.void_reason or "",
        ]
        for r in rows
    ]
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.HANDOVER_EXPORT,
        details={"since": str(args.since), "until": str(args.until), "rows": len(rows)},
    )
    try:
        data = b"".join(encode_csv(header, body, encoding))
    except ExportEncodingError as error:
        return Response(str(error), status=422, mimetype="text/plain")
    return _csv(data, "handovers.csv")
