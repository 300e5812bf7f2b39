"""The counter: lookup, item pages, identity-verified handover, receipts, handover log."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tracker.clock import JST, now_utc, today_jst
from tracker.domain.codes import AuditAction, ItemKind, ItemStatus, Role
from tracker.domain.control import parse_control_no
from tracker.domain.errors import InputError
from tracker.domain.identity import AUTHORITY_PROOFS, Evidence, IdentityPolicy, RecipientKind
from tracker.domain.masking import mask_address
from tracker.domain.records import check_free_text
from tracker.domain.wareki import parse_date
from tracker.extensions import db
from tracker.models import Envelope, Handover, HandoverItem, Item, Location
from tracker.models.custody import Protection
from tracker.models.lifecycle import RegisterResult
from tracker.services import (
    audit,
    handover,
    lookup,
    people,
    protection,
    register,
    reservations,
    settings,
    voids,
)
from tracker.web import purpose
from tracker.web.access import allow
from tracker.web.contacts import views as contact_views
from tracker.web.counter import searches
from tracker.web.counter.forms import HandoverForm, SearchForm, VoidForm, VoidRequestForm
from tracker.web.filters import code_label
from tracker.web.i18n import gettext as _
from tracker.web.params import InvalidParameter, date_arg, id_arg, id_args, is_id
from tracker.web.protection.forms import PlaceForm, ReleaseForm, ReviewForm
from tracker.web.register.forms import RegisterResultForm
from tracker.web.remail import views as remail_views
from tracker.web.reservations import views as reservation_views

bp = Blueprint("counter", __name__)

C, R, A = Role.CLERK, Role.RECORDS_OFFICER, Role.AUDITOR


@bp.route("/items", methods=["GET", "POST"])
@allow(C, R, A)
def items() -> ResponseReturnValue:
    """One search box: name (kanji or kana, any width), birth date, tracking or control no.

    Results come in フリガナ order, a page at a time; with no words, a chosen status or
    location lists what has it (issue 12). The form posts; the criteria are kept in the login
    session and the page is ``/items?s=<token>`` (issue 16, :mod:`.searches`): no name, kana
    or birth date is ever in the URL. ``status`` and ``location`` alone (codes and ids, not
    personal) may still be given in the query string.
    """
    if request.method == "POST":
        return _post_search()
    token = request.args.get("s", "").strip()
    if token:
        criteria = searches.recall(token)
        if criteria is None:
            return render_template("counter/search_expired.html"), 410
        return _search_page(criteria, {"s": token})
    criteria = searches.Criteria(status=request.args.get("status", ""), location=id_arg("location"))
    return _search_page(criteria, {"status": criteria.status, "location": criteria.location or ""})


def _post_search() -> ResponseReturnValue:
    """The posted search: a scanned number opens its item or envelope at once; anything else
    is kept in the session and shown at ``/items?s=<token>`` (303, so Back and reload work)."""
    form = SearchForm()
    text = (form.q.data or "").strip()
    status = (form.status.data or "").strip()
    location_text = (form.location.data or "").strip()
    criteria = searches.Criteria(q=text, status=status)
    problem = None
    if not form.validate():
        problem = next(iter(form.q.errors), None) or _("もう一度操作してください")
    elif location_text and not is_id(location_text):
        problem = _("保管場所は一覧から選んでください。")
    else:
        criteria = searches.Criteria(
            q=text, status=status, location=int(location_text) if location_text else None
        )
        if text:
            hit = lookup.find_scanned(db.session, text, min_digits=lookup.TRACKING_MIN_DIGITS)
            if hit is not None and hit.item_id is not None:
                return redirect(url_for("counter.item", item_id=hit.item_id), 303)
            if hit is not None:
                return redirect(url_for("custody.envelope", envelope_id=hit.envelope_id), 303)
            if parse_control_no(text) is not None:  # a well-formed number that names nothing
                return render_template("custody/search_none.html", query=text, scan_focus=True), 404
        if status and status not in {s.value for s in ItemStatus}:
            problem = _("状態「%(status)s」は選べません。一覧から選んでください。", status=status)
        elif lookup.parse_query(text).empty and not status and criteria.location is None:
            problem = _(
                "検索語（氏名・フリガナ・生年月日・番号）を入力するか、状態または保管場所を選んでください。"
            )
    if problem is not None:
        return _search_page(criteria, {}, problem=problem), 422
    token = searches.remember(criteria)
    return redirect(url_for("counter.items", s=token), 303)


def _search_page(
    criteria: searches.Criteria, page_args: dict[str, object], *, problem: str | None = None
) -> str:
    """The search page with the results of ``criteria``; ``page_args`` go into the pager's
    links (the token, or the status/location given in the query string: never the words)."""
    query = lookup.parse_query(criteria.q)
    results = lookup.Results()
    status = criteria.status
    searched = not query.empty or bool(status) or criteria.location is not None
    if problem is None and status and status not in {s.value for s in ItemStatus}:
        problem = _("状態「%(status)s」は選べません。一覧から選んでください。", status=status)
    if problem is None and searched:
        results = lookup.search(
            db.session,
            query,
            actor=current_user.username,
            statuses=[status] if status else [],
            location_id=criteria.location,
            after=id_arg("after"),
            before=id_arg("before"),
        )
    locations = db.session.scalars(select(Location).order_by(Location.sort_order)).all()
    form = SearchForm(formdata=None)
    return render_template(
        "counter/items.html",
        form=form,
        q=criteria.q,
        query=query,
        results=results,
        searched=searched,
        problem=problem,
        status=status,
        location_id=criteria.location,
        locations=locations,
        statuses=list(ItemStatus),
        mask_address=mask_address,
        page_size=lookup.RESULT_LIMIT,
        page_args=page_args,
        register_results=register.results_for(db.session, (i.id for i in results.items)),
        protected_items=protection.protected_item_ids(db.session, (i.id for i in results.items)),
        protected_envelopes=protection.protected_envelope_ids(
            db.session, (i.envelope_id for i in results.items)
        ),
    )


def _item_or_404(item_id: int) -> Item:
    envelope = selectinload(Item.envelope)
    item = db.session.scalar(
        select(Item)
        .where(Item.id == item_id)
        .options(envelope.selectinload(Envelope.items), envelope.joinedload(Envelope.location))
    )
    if item is None:
        abort(404)
    return item


@bp.route("/items/<int:item_id>", methods=["GET", "POST"])
@allow(C, R, A)
def item(item_id: int) -> ResponseReturnValue:
    """An item's personal data: every opening is logged (PPC access log, SPEC §8).

    A protected item (支援措置, issue 14) first asks for the purpose of the opening (posted
    back here); the purpose goes into the view event. Without one nothing is shown or logged.
    """
    record = _item_or_404(item_id)
    flag = protection.active(db.session, record.id)
    details: dict[str, object] = {"control_no": record.control_no}
    if flag is not None:
        gate = purpose.ask([record], redirect_after_post=False)
        if gate.response is not None:
            return gate.response
        details.update(purpose.detail(gate.purpose))
    elif request.method == "POST":
        return redirect(url_for("counter.item", item_id=record.id))
    # Appended at the commit, after the page is rendered: the chain's lock is held only for
    # the append (issue 18).
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.ITEM_VIEW,
        object_type="item",
        object_id=record.id,
        details=details,
    )
    history = voids.handovers_of(db.session, record.id)
    register_result = register.current(db.session, record.id)
    return render_template(
        "counter/item.html",
        item=record,
        handover=next((h for h in history if h.voided_at is None), None),
        handovers=history,
        can_hand_over=current_user.has_role(C, R),
        can_manage=current_user.has_role(R),
        decision=_eligibility_today(record, register_result),
        register_result=register_result,
        register_form=_register_form() if current_user.has_role(C, R) else None,
        **remail_views.item_section(record),
        **contact_views.item_section(record),
        item_reservations=reservations.of_item(db.session, record.id),
        **_protection_section(flag),
    )


def _protection_section(flag: Protection | None) -> dict[str, object]:
    """The 支援措置 section: the flag (for everyone who may open the page), and for records
    officers the forms to place, release or move the review date."""
    section: dict[str, object] = {"protection": flag, "protection_masked": protection.MASKED}
    if current_user.has_role(R):
        place = PlaceForm(formdata=None)
        place.whole_envelope.data = True
        section.update(
            protection_place_form=place,
            protection_release_form=ReleaseForm(formdata=None),
            protection_review_form=ReviewForm(formdata=None),
        )
    return section


def _register_form() -> RegisterResultForm:
    """The 住基照合 entry (posts to register.record); 照合日 defaults to today in Japan."""
    form = RegisterResultForm(formdata=None)
    form.checked_on.data = today_jst().isoformat()
    return form


def _eligibility_today(record: Item, register: RegisterResult | None) -> object:
    """Why this item is or is not disposal-eligible today (SPEC §3), for the item page."""
    from tracker.domain.retention import ItemFacts, eligibility
    from tracker.services.retention import load_rules

    extension = max((e.retain_until for e in record.extensions), default=None)
    facts = ItemFacts(
        status=record.status,
        has_active_hold=any(h.released_at is None for h in record.holds),
        returned_on=record.envelope.returned_on,
        extension_until=extension,
        register_outcome=register.outcome if register else None,
        register_event_on=register.event_on if register else None,
        item_kind=record.kind,
        notice_sent_on=record.notice_sent_on,
        first_notice_on=record.first_notice_on,
        renotice_on=record.renotice_on,
        card_expires_on=record.card_expires_on,
    )
    return eligibility(facts, [s.rule for s in load_rules(db.session)], today_jst())


def _selected_items() -> list[Item]:
    ids = id_args("item", limit=20)
    if not ids:  # e.g. every box unticked on the envelope page
        raise InvalidParameter(description=_("交付する通知物を1件以上選んでください。"))
    found = list(
        db.session.scalars(
            select(Item)
            .where(Item.id.in_(ids))
            .options(selectinload(Item.envelope))
            .order_by(Item.position)
        )
    )
    if not found:
        abort(404)
    return found


@bp.route("/handover", methods=["GET", "POST"])
@allow(C, R)
def hand_over() -> ResponseReturnValue:
    """Check the ID documents against the policy and hand the items over, exactly once."""
    chosen = _selected_items()
    policy = handover.current_policy(db.session)
    form = HandoverForm()
    form.use_policy(policy)
    problems: list[str] = []
    status = 200
    gate = purpose.ask_on_show(chosen)
    if gate.response is not None:
        return gate.response
    if request.method == "POST" and form.validate():
        try:
            evidence = _evidence(form)
        except InputError as error:
            problems = [str(error)]
        else:
            ids = [i.id for i in chosen]
            reservation_id = id_arg("reservation")  # from 本日の予約 (issue 15)
            not_open = None
            try:
                with db.attempt():
                    done = handover.hand_over(
                        db.session,
                        actor=current_user.username,
                        item_ids=ids,
                        evidence=evidence,
                        now=now_utc(),
                        today=today_jst(),
                    )
                    if reservation_id is not None:
                        not_open = reservation_views.attend_after_handover(
                            reservation_id, done, ids
                        )
                    # Whichever page led here: the cards' open reservations are kept.
                    reservations.attend_for_items(
                        db.session,
                        actor=current_user.username,
                        item_ids=ids,
                        handover=done,
                        now=now_utc(),
                    )
            except handover.HandoverError as refusal:
                problems = list(getattr(refusal, "reasons", None) or [str(refusal)])
                handover.record_refusal(
                    db.session, actor=current_user.username, item_ids=ids, reasons=problems
                )
                if isinstance(refusal, handover.AlreadyHandedOver):
                    status = 409
                chosen = _selected_items()  # reload: statuses may have changed
            else:
                flash(_("交付しました。受領書に署名をもらってください。"), "info")
                if not_open is not None:
                    flash(not_open, "warning")
                return redirect(url_for("counter.handover_detail", handover_id=done.id))
    else:
        if protection.protected_item_ids(db.session, (i.id for i in chosen)):
            flash(
                _("支援措置の対象です。本人に、写真付きの本人確認書類でのみ交付できます。"),
                "warning",
            )
        gone = [i.id for i in chosen if i.status != ItemStatus.IN_CUSTODY.value]
        if gone:  # e.g. 再送付中 or 紛失 (issue 13): say why before the clerk checks any ID
            problems = [handover.describe_unavailable(db.session, gone)]
        audit.record_at_commit(
            db.session,
            actor=current_user.username,
            action=AuditAction.HANDOVER_FORM,
            object_type="envelope",
            object_id=chosen[0].envelope_id,
            details={
                "items": [i.control_no for i in chosen],
                **purpose.detail(gate.purpose),
            },
        )
    return render_template(
        "counter/handover.html",
        form=form,
        items=chosen,
        policy=policy,
        problems=problems,
        kinds=list(RecipientKind),
        rule_texts=_rule_texts(policy, chosen),
    ), status


def _rule_texts(policy: IdentityPolicy, chosen: list[Item]) -> dict[str, str]:
    """Recipient kind → the rule for the kinds of the chosen items, in words."""
    if policy.format != 2:
        return {kind.value: policy.requirement() for kind in RecipientKind}
    kinds = list(dict.fromkeys(item.kind for item in chosen))
    return {
        recipient.value: " / ".join(
            dict.fromkeys(policy.rule_text(policy.alternatives(k, recipient.value)) for k in kinds)
        )
        for recipient in RecipientKind
    }


def _evidence(form: HandoverForm) -> Evidence:
    """Only the fields that belong to the chosen kind are kept (the form shows them all)."""
    kind = RecipientKind(form.recipient_kind.data)
    name = ""
    if kind is not RecipientKind.SELF:
        name = check_free_text(
            form.recipient_name.data, "name", required=False, label="来所者の氏名"
        )
    letter = None
    principal: tuple[str, ...] = ()
    if kind is RecipientKind.PROXY:
        principal = tuple(form.principal_documents.data or ())
        if (form.letter_of_attorney_date.data or "").strip():
            letter = parse_date(form.letter_of_attorney_date.data or "")
    proof = (form.authority_proof.data or None) if kind is RecipientKind.LEGAL_REP else None
    documents = tuple(form.documents.data or ())
    last4 = {
        code: value.strip()
        for code in documents
        if (value := request.form.get(f"last4-{code}", "")).strip()
    }
    policy = form.policy
    issued = _document_dates(documents, "issued", "交付日", policy)
    expires = _document_dates(documents, "expires", "有効期限", policy)
    principal_issued = _document_dates(principal, "p-issued", "交付日", policy)
    principal_expires = _document_dates(principal, "p-expires", "有効期限", policy)
    return Evidence(
        recipient_kind=kind,
        recipient_name=name,
        documents=documents,
        principal_documents=principal,
        letter_of_attorney_date=letter,
        authority_proof=proof,
        document_last4=last4,
        issued_on=issued,
        expires_on=expires,
        principal_issued_on=principal_issued,
        principal_expires_on=principal_expires,
    )


def _document_dates(
    codes: tuple[str, ...], prefix: str, label: str, policy: IdentityPolicy | None
) -> dict[str, date]:
    """The issue or expiry dates typed beside the chosen documents (format 2 asks for them only
    where the rule needs them); a date that cannot be read names the document and the field."""
    dates: dict[str, date] = {}
    for code in codes:
        text = request.form.get(f"{prefix}-{code}", "").strip()
        if not text:
            continue
        document = policy.documents.get(code) if policy is not None else None
        name = document.name if document is not None else code
        try:
            dates[code] = parse_date(text)
        except InputError as error:
            raise InputError(f"{name}の{label}: {error}") from error
    return dates


def _handover_or_404(handover_id: int) -> Handover:
    record = db.session.scalar(
        select(Handover)
        .where(Handover.id == handover_id)
        .options(selectinload(Handover.items).selectinload(HandoverItem.item))
    )
    if record is None:
        abort(404)
    return record


@bp.route("/handovers/<int:handover_id>")
@allow(C, R, A)
def handover_detail(handover_id: int) -> ResponseReturnValue:
    record = _handover_or_404(handover_id)
    audit.record_at_commit(
        db.session,
        actor=current_user.username,
        action=AuditAction.HANDOVER_VIEW,
        object_type="handover",
        object_id=record.id,
        details={"receipt_no": record.receipt_no},
    )
    return render_detail(record)


def render_detail(
    record: Handover,
    *,
    void_form: VoidForm | None = None,
    request_form: VoidRequestForm | None = None,
    problem: str | None = None,
) -> str:
    """The handover page; a refused void or void request shows it again with the problem."""
    return render_template(
        "counter/handover_detail.html",
        handover=record,
        documents=json.loads(record.documents),
        principal_documents=json.loads(record.principal_documents or "[]"),
        document_names=_document_names(record.policy_version),
        proofs={p.code: p.name for p in AUTHORITY_PROOFS},
        kind_label=code_label(record.recipient_kind, "recipient_kind"),
        can_print=current_user.has_role(C, R),
        can_void=current_user.has_role(R) and record.voided_at is None,
        can_request=current_user.has_role(C, R)
        and voids.may_request(record, actor=current_user.username, now=now_utc()),
        void_form=void_form
        or VoidForm(formdata=None, data={"reason": record.void_request_reason or ""}),
        request_form=request_form or VoidRequestForm(formdata=None),
        problem=problem,
    )


def _document_names(version: int) -> dict[str, str]:
    from tracker.domain.identity import IdentityPolicy
    from tracker.models import IdentityPolicy as PolicyRow

    row = db.session.get(PolicyRow, version)
    if row is None:
        return {}
    policy = IdentityPolicy.from_dict(json.loads(row.policy_json), version=row.version)
    return {code: doc.name for code, doc in policy.documents.items()}


@bp.route("/handovers/<int:handover_id>/receipt.pdf")
@allow(C, R)
def receipt(handover_id: int) -> ResponseReturnValue:
    """The 受領書 for signature; any print after the first is marked and audited as a reprint."""
    from tracker.pdf.receipt import Receipt, ReceiptItem, render_receipt
    from tracker.web.filters import KIND_LABELS

    record = _handover_or_404(handover_id)
    now = now_utc()
    reprint = handover.record_receipt_print(
        db.session, actor=current_user.username, handover=record, now=now
    )
    names = _document_names(record.policy_version)
    proofs = {p.code: p.name for p in AUTHORITY_PROOFS}
    pdf = render_receipt(
        Receipt(
            receipt_no=record.receipt_no,
            issued_at=now if reprint else record.handed_over_at,
            addressee=settings.load(db.session).receipt_addressee,
            items=[
                ReceiptItem(
                    control_no=hi.item.control_no,
                    name=hi.item.name,
                    name_kana=hi.item.name_kana,
                    birth_date=hi.item.birth_date,
                    kind_label=str(KIND_LABELS[ItemKind(hi.item.kind)]),
                )
                for hi in record.items
            ],
            recipient_kind_label=RecipientKind(record.recipient_kind).label_ja,
            recipient_name=record.recipient_name,
            documents=_document_lines(record.documents, names),
            principal_documents=_document_lines(record.principal_documents, names),
            letter_of_attorney_date=record.letter_of_attorney_date,
            authority_proof=proofs.get(record.authority_proof or ""),
            clerk_name=people.name_of(db.session, record.clerk),
            policy_version=record.policy_version,
            reprint_of=record.receipt_printed_at if reprint else None,
            voided_at=record.voided_at,
            void_reason=record.void_reason,
        )
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{record.receipt_no}.pdf"'},
    )


def _document_lines(stored: str | None, names: dict[str, str]) -> list[str]:
    lines = []
    for entry in json.loads(stored or "[]"):
        name = names.get(entry["code"], entry["code"])
        lines.append(f"{name}（末尾{entry['last4']}）" if entry.get("last4") else name)
    return lines


@bp.route("/handovers")
@allow(C, R, A)
def handovers() -> ResponseReturnValue:
    """The office's handovers of one day (JST), by clerk. Control numbers, no names."""
    day = date_arg("date", _("日付")) or today_jst()
    start = datetime.combine(day, time.min, tzinfo=JST)
    rows = db.session.scalars(
        select(Handover)
        .where(
            Handover.handed_over_at >= start, Handover.handed_over_at < start + timedelta(days=1)
        )
        .options(selectinload(Handover.items).selectinload(HandoverItem.item))
        .order_by(Handover.clerk, Handover.handed_over_at)
    ).all()
    by_clerk: dict[str, list[Handover]] = {}
    for row in rows:
        by_clerk.setdefault(row.clerk, []).append(row)
    return render_template(
        "counter/handovers.html",
        day=day,
        by_clerk=by_clerk,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        kind_labels={k.value: code_label(k, "recipient_kind") for k in RecipientKind},
    )


# 交付取消 (void) and its request, on the same blueprint.
from tracker.web.counter import voids as _void_pages  # noqa: E402, F401
