"""Disposal batches (SPEC §5): create → approve (another officer) → execute → certificate.

Every step is one transaction with its audit event. An executed batch is immutable: nothing
here changes one, and the certificate is rebuilt byte for byte from what execution froze.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import Session

from tracker.clock import to_jst
from tracker.domain.chain import canonical_json
from tracker.domain.codes import (
    AuditAction,
    BatchItemOutcome,
    DestructionMethod,
    ItemAction,
    ItemStatus,
)
from tracker.domain.errors import InputError
from tracker.domain.masking import mask_name
from tracker.domain.records import check_free_text
from tracker.domain.wareki import format_wareki
from tracker.models import (
    AuditEvent,
    DisposalBatch,
    DisposalBatchItem,
    Envelope,
    Hold,
    Item,
    RetentionExtension,
)
from tracker.services import audit, certificates, retention
from tracker.services.numbering import next_id
from tracker.services.retention import StoredRule
from tracker.services.transitions import Conflict, move_items, person, transition, when

CERTIFICATE_PREFIX = "D"
INSERT_CHUNK = 2000


class DisposalError(ValueError):
    """A refused step; the message is for the records officer."""


def _text(value: str | None, limit: str, label: str, *, required: bool) -> str:
    try:
        return check_free_text(value, limit, required=required, label=label)
    except InputError as error:
        raise DisposalError(str(error)) from None


class NotAllowed(DisposalError):
    """The four-eyes rule: the creator may not approve their own batch (a 403 on the web)."""


def certificate_number(batch_id: int) -> str:
    return f"{CERTIFICATE_PREFIX}{batch_id:09d}"


def scope_rules(session: Session, rule_ids: Sequence[int] | None = None) -> list[StoredRule]:
    """The rules a list or batch is limited to: those named by ``rule_ids``, every rule when
    none are named. An id that names no rule is refused (it cannot be a cohort)."""
    stored = retention.load_rules(session)
    if not rule_ids:
        return stored
    wanted = set(rule_ids)
    chosen = [rule for rule in stored if rule.row_id in wanted]
    if len(chosen) != len(wanted):
        raise DisposalError("指定された廃棄基準が見つかりません。一覧から選び直してください")
    return chosen


def _labels(rules: Sequence[StoredRule]) -> str:
    return "、".join(stored.rule.label for stored in rules)


def create_batch(
    session: Session,
    *,
    actor: str,
    as_of: date,
    now: datetime,
    rule_ids: Sequence[int] | None = None,
) -> DisposalBatch:
    """Freeze the list of items eligible on ``as_of`` (SPEC §3) into a new batch.

    ``rule_ids`` limits the batch to those rules' cohorts (e.g. only 平成30年度返戻分): items of
    other cohorts, eligible on the same day, stay out. The scope is written in the audit event
    (``rules``); the batch's items carry their rule, so its cohorts are those of its items.
    """
    scoped = bool(rule_ids)
    rules = scope_rules(session, rule_ids)
    batch_id = next_id(session, DisposalBatch)
    batch = DisposalBatch(
        id=batch_id,
        certificate_no=certificate_number(batch_id),
        as_of=as_of,
        status="created",
        created_by=actor,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    cohorts: Counter[str] = Counter()
    chunk: list[dict[str, Any]] = []
    for eligible in retention.iter_eligible(session, as_of, [stored.rule for stored in rules]):
        cohorts[eligible.rule.label] += 1
        chunk.append(
            {
                "batch_id": batch_id,
                "item_id": eligible.item_id,
                "rule_label": eligible.rule.label,
                "retain_until": eligible.retain_until,
                "outcome": "pending",
                "control_no": eligible.control_no,
                "eligibility_reason": eligible.reason,
            }
        )
        if len(chunk) >= INSERT_CHUNK:
            session.execute(insert(DisposalBatchItem), chunk)
            chunk.clear()
    if chunk:
        session.execute(insert(DisposalBatchItem), chunk)
    total = sum(cohorts.values())
    if total == 0:
        within = f"（{_labels(rules)}）" if scoped else ""
        raise DisposalError(f"{format_wareki(as_of)}時点で廃棄できる通知物はありません{within}")
    details: dict[str, Any] = {
        "certificate_no": batch.certificate_no,
        "as_of": as_of.isoformat(),
        "items": total,
        "cohorts": dict(sorted(cohorts.items())),
    }
    if scoped:
        details["rules"] = sorted(stored.rule.label for stored in rules)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.DISPOSAL_CREATE,
        object_type="disposal_batch",
        object_id=batch_id,
        details=details,
    )
    return batch


# --- the eligible list, a page at a time -------------------------------------------------------

PAGE_SIZE = 100


@dataclass(frozen=True)
class EligiblePage:
    """One page of the eligible list in control-number order, and where it stands in the whole."""

    rows: list[retention.EligibleItem]
    total: int
    #: rule label → items eligible under that rule, in window order; an item eligible under an
    #: ordinary and an event rule counts under both (the total counts it once)
    cohorts: list[tuple[str, int]]
    position: int  # how many eligible items come before this page's first

    @property
    def has_previous(self) -> bool:
        return self.position > 0

    @property
    def has_next(self) -> bool:
        return self.position + len(self.rows) < self.total

    @property
    def first(self) -> str | None:
        return self.rows[0].control_no if self.rows else None

    @property
    def last(self) -> str | None:
        return self.rows[-1].control_no if self.rows else None


def _count(session: Session, condition: Any) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Item)
            .join(Envelope, Envelope.id == Item.envelope_id)
            .where(condition)
        )
        or 0
    )


def eligible_page(
    session: Session,
    as_of: date,
    *,
    rule_ids: Sequence[int] | None = None,
    after: str | None = None,
    before: str | None = None,
    size: int | None = None,
) -> EligiblePage:
    """The eligible items (SPEC §3) of the chosen cohorts, ``size`` at a time, keyed by control
    number (keyset pagination): the page after control number ``after``, the one before
    ``before``, or the first. Pages are stable while items are added or taken away elsewhere in
    the list, and every item appears on exactly one page."""
    rules = [stored.rule for stored in scope_rules(session, rule_ids)]
    eligible = retention.eligible_condition(rules, as_of)
    statement = retention.eligible_select(rules, as_of).limit(size or PAGE_SIZE)
    if before is not None:
        found = list(
            session.execute(
                statement.where(Item.control_no < before).order_by(Item.control_no.desc())
            ).all()
        )
        found.reverse()
    else:
        if after is not None:
            statement = statement.where(Item.control_no > after)
        found = list(session.execute(statement.order_by(Item.control_no)).all())
    rows = [retention.to_eligible(row, rules) for row in found]
    cohorts = [
        (rule.label, _count(session, retention.eligible_condition([rule], as_of))) for rule in rules
    ]
    position = _count(session, and_(eligible, Item.control_no < rows[0].control_no)) if rows else 0
    overlapping = any(rule.is_event_rule for rule in rules)
    return EligiblePage(
        rows=rows,
        total=_count(session, eligible) if overlapping else sum(n for _label, n in cohorts),
        cohorts=[(label, n) for label, n in cohorts if n],
        position=position,
    )


def _taken(session: Session, batch: DisposalBatch, wanted: str) -> str:
    """Why ``wanted`` (承認, 取消, 実行) is no longer possible: who got there first, and when."""
    no = batch.certificate_no
    by = {
        "executed": ("既に廃棄が記録されています", batch.executed_at, batch.executed_by),
        "cancelled": ("既に取り消されています", batch.cancelled_at, batch.cancelled_by),
        "approved": ("既に承認されています", batch.approved_at, batch.approved_by),
    }
    if batch.status in by:
        what, at, who = by[batch.status]
        done = f"{what}（{when(at)}、{person(session, who)}）"
    else:
        done = "まだ承認されていません"
    return f"廃棄処理 {no} は{done}。{wanted}できません"


def not_executable(session: Session, batch: DisposalBatch) -> str:
    """Why a batch that is not (or no longer) approved cannot be executed."""
    return _taken(session, batch, "実行")


def lock(session: Session, batch_id: int) -> None:
    """Take the batch's row lock now (before anything takes the audit chain's lock)."""
    session.execute(select(DisposalBatch.id).where(DisposalBatch.id == batch_id).with_for_update())


def approve(
    session: Session,
    *,
    actor: str,
    batch: DisposalBatch,
    now: datetime,
    today: date | None = None,
) -> None:
    """Four eyes (SPEC §5): a different records officer approves, exactly once. The caller has
    already asked for the approver's password again.

    Not before the batch's as-of date (``today`` in Asia/Tokyo, issue 13; by default the
    Japanese date of ``now``): an approved batch freezes its cards at the counter, and until
    the as-of date their retention has not ended.
    """
    if actor == batch.created_by:
        raise NotAllowed("作成した本人は承認できません。別の記録管理担当者が承認してください")
    today = today or to_jst(now).date()
    if batch.as_of > today:
        raise DisposalError(
            f"廃棄処理 {batch.certificate_no} の基準日は {format_wareki(batch.as_of)} です。"
            f"基準日より前（本日 {format_wareki(today)}）には承認できません。"
            "基準日になってから承認してください"
        )
    transition(
        session,
        DisposalBatch,
        batch.id,
        expected=(DisposalBatch.status == "created") & (DisposalBatch.created_by != actor),
        values={"status": "approved", "approved_by": actor, "approved_at": now},
        conflict=lambda current: _taken(session, current, "承認"),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.DISPOSAL_APPROVE,
        object_type="disposal_batch",
        object_id=batch.id,
        details={"certificate_no": batch.certificate_no},
    )


def cancel(
    session: Session,
    *,
    actor: str,
    batch: DisposalBatch,
    reason: str,
    now: datetime,
    seen: str | None = None,
) -> None:
    """Cancel a batch that has not been executed; its items are free again (SPEC §5).

    ``seen`` is the status the officer saw when deciding (the form sends it): a batch approved
    by a colleague in the meantime is then a conflict, not silently cancelled, so that of an
    approval and a cancellation racing each other exactly one takes effect.
    """
    reason = _text(reason, "reason", "取消の理由", required=True)
    open_states = ("created", "approved")
    if seen is not None and seen not in open_states:
        seen = None  # a stale or forged value: fall back to "any open state"
    transition(
        session,
        DisposalBatch,
        batch.id,
        expected=DisposalBatch.status.in_((seen,) if seen else open_states),
        values={
            "status": "cancelled",
            "cancelled_by": actor,
            "cancelled_at": now,
            "cancel_reason": reason,
        },
        conflict=lambda current: _taken(session, current, "取り消し"),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.DISPOSAL_CANCEL,
        object_type="disposal_batch",
        object_id=batch.id,
        details={"certificate_no": batch.certificate_no},
    )


def _exclusion_taken(session: Session, batch: DisposalBatch, control_no: str) -> str:
    """Why ``control_no`` can no longer be taken out of ``batch``: already out, or the batch
    was executed or cancelled in the meantime."""
    session.refresh(batch)
    if batch.status not in ("created", "approved"):
        return _taken(session, batch, "除外")
    entry = session.scalar(
        select(DisposalBatchItem).where(
            DisposalBatchItem.batch_id == batch.id, DisposalBatchItem.control_no == control_no
        )
    )
    if entry is not None and entry.outcome == BatchItemOutcome.EXCLUDED.value:
        return (
            f"{control_no} は既に廃棄処理 {batch.certificate_no} から除外されています"
            f"（{when(entry.excluded_at)}、{person(session, entry.excluded_by)}）"
        )
    return f"{control_no} は廃棄処理 {batch.certificate_no} から除外できません。開き直してください"


def exclude_item(
    session: Session,
    *,
    actor: str,
    batch: DisposalBatch,
    control_no: str,
    reason: str | None,
    now: datetime,
) -> DisposalBatchItem:
    """Take one item out of a created or approved batch, with a reason (issue 13, 最終日の窓口).

    The item is no longer frozen (it can be handed over), execution never destroys it, and the
    certificate lists it under 除外 with the reason and who took it out. Exactly once: the
    batch's row is locked first (so an execution or cancellation running at the same moment
    either finishes before, and this one is refused, or waits for it), then one conditional
    update ``pending → excluded`` whose row count is checked; of two officers at once the
    second gets :class:`~tracker.services.transitions.Conflict`.
    """
    text = _text(reason, "note", "除外の理由", required=True)
    wanted = (control_no or "").strip()
    if not wanted:
        raise DisposalError("除外する通知物の管理番号を入力してください")
    lock(session, batch.id)
    session.refresh(batch)
    if batch.status not in ("created", "approved"):
        raise Conflict(_taken(session, batch, "除外"))
    entry = session.scalar(
        select(DisposalBatchItem).where(
            DisposalBatchItem.batch_id == batch.id, DisposalBatchItem.control_no == wanted
        )
    )
    if entry is None:
        raise DisposalError(
            f"管理番号 {wanted} は廃棄処理 {batch.certificate_no} に含まれていません"
        )
    changed: int = session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(DisposalBatchItem)
        .where(
            DisposalBatchItem.batch_id == batch.id,
            DisposalBatchItem.item_id == entry.item_id,
            DisposalBatchItem.outcome == BatchItemOutcome.PENDING.value,
        )
        .values(
            outcome=BatchItemOutcome.EXCLUDED.value,
            skip_reason=text,
            excluded_by=actor,
            excluded_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(entry)
    if changed != 1:
        raise Conflict(_exclusion_taken(session, batch, wanted))
    audit.record(
        session,
        actor=actor,
        action=AuditAction.DISPOSAL_EXCLUDE,
        object_type="disposal_batch",
        object_id=batch.id,
        details={"certificate_no": batch.certificate_no, "control_no": entry.control_no},
    )
    return entry


@dataclass(frozen=True)
class Execution:
    destroyed_on: date
    method: str
    place: str
    executor: str
    witness: str
    contractor_name: str | None = None
    contractor_certificate_no: str | None = None

    def problems(self, batch: DisposalBatch, today: date) -> list[str]:
        found = []
        for value, limit, label in (
            (self.place, "place", "廃棄した場所"),
            (self.executor, "person", "廃棄した人"),
            (self.witness, "person", "立会人"),
            (self.contractor_name, "contractor", "委託業者名"),
            (self.contractor_certificate_no, "contractor", "業者の証明書番号"),
        ):
            try:
                _text(value, limit, label, required=False)
            except DisposalError as error:
                found.append(str(error))
        if self.method not in DestructionMethod.__members__.values():
            found.append("廃棄方法を選んでください（裁断・溶解・焼却）")
        if not self.place.strip():
            found.append("廃棄した場所を入力してください")
        if not self.executor.strip() or not self.witness.strip():
            found.append("廃棄した人と立会人を入力してください")
        elif self.executor.strip() == self.witness.strip():
            found.append("廃棄した人と立会人は別の人にしてください")
        if self.destroyed_on > today:
            found.append(f"廃棄日 {format_wareki(self.destroyed_on)} は未来の日付です")
        if self.destroyed_on < batch.as_of:
            found.append(
                f"廃棄日 {format_wareki(self.destroyed_on)} は基準日"
                f" {format_wareki(batch.as_of)} より前です"
            )
        if bool((self.contractor_name or "").strip()) != bool(
            (self.contractor_certificate_no or "").strip()
        ):
            found.append("業者に委託したときは、業者名と証明書番号の両方を入力してください")
        return found


@dataclass(frozen=True)
class Recheck:
    """An item of the batch as execution would find it: destroyed, or skipped with a reason."""

    entry: DisposalBatchItem
    item: Item
    envelope: Envelope
    skip_reason: str | None


def _recheck(session: Session, batch: DisposalBatch, *, lock: bool) -> list[Recheck]:
    """Re-check every item of the batch (SPEC §5 step 3), in control-number order; with
    ``lock``, the items' rows stay locked until the end of the transaction."""
    statement = (
        select(DisposalBatchItem, Item, Envelope)
        .join(Item, Item.id == DisposalBatchItem.item_id)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .where(
            DisposalBatchItem.batch_id == batch.id,
            DisposalBatchItem.outcome != BatchItemOutcome.EXCLUDED.value,
        )
        .order_by(DisposalBatchItem.control_no)
    )
    if lock:
        statement = statement.with_for_update(of=Item)
    pending = session.execute(statement).all()
    of_batch = select(DisposalBatchItem.item_id).where(DisposalBatchItem.batch_id == batch.id)
    held = set(
        session.scalars(
            select(Hold.item_id).where(Hold.released_at.is_(None), Hold.item_id.in_(of_batch))
        )
    )
    extended = dict(
        session.execute(
            select(RetentionExtension.item_id, func.max(RetentionExtension.retain_until))
            .where(RetentionExtension.item_id.in_(of_batch))
            .group_by(RetentionExtension.item_id)
        ).all()
    )
    gone = _event_reason_gone(
        session, batch, [e.item_id for e, _, _ in pending if e.eligibility_reason]
    )
    return [
        Recheck(
            entry,
            item,
            envelope,
            _skip_reason(item, item.id in held, extended.get(item.id), batch.as_of)
            or (EVENT_REASON_GONE if item.id in gone else None),
        )
        for entry, item, envelope in pending
    ]


#: The skip reason of an item a register rule froze whose register result no longer allows
#: its disposal (the result was corrected after the batch was made, issue 13).
EVENT_REASON_GONE = "住基照合の結果が変わり廃棄事由がなくなった"


def _event_reason_gone(session: Session, batch: DisposalBatch, item_ids: list[int]) -> set[int]:
    """Of the items frozen for an event (e.g. 死亡), those no rule makes eligible any more as
    of the batch's date: their register result was corrected or removed since."""
    if not item_ids:
        return set()
    rules = [stored.rule for stored in retention.load_rules(session)]
    still = set(
        session.scalars(
            select(Item.id)
            .join(Envelope, Envelope.id == Item.envelope_id)
            .where(
                Item.id.in_(item_ids),
                retention.eligible_condition(rules, batch.as_of),
            )
        )
    )
    return set(item_ids) - still


@dataclass(frozen=True)
class CohortCount:
    label: str
    frozen: int  #: items the batch froze at creation
    skipped: int  #: of them, skipped if executed now
    destroy: int  #: of them, destroyed if executed now


@dataclass(frozen=True)
class Preview:
    """What executing the batch now would record: the confirmation page (issue 12)."""

    cohorts: list[CohortCount]
    skipped: list[tuple[str, str]]  # control number, reason (the first 200)
    destroy: int  #: the number of cards the officer is asked to type again
    skip: int


def preview(session: Session, batch: DisposalBatch) -> Preview:
    """Counts per cohort of what execution would destroy and skip, without changing anything."""
    checked = _recheck(session, batch, lock=False)
    frozen: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for each in checked:
        frozen[each.entry.rule_label] += 1
        if each.skip_reason:
            skipped[each.entry.rule_label] += 1
    reasons = [(each.entry.control_no, each.skip_reason) for each in checked if each.skip_reason]
    return Preview(
        cohorts=[
            CohortCount(label, count, skipped[label], count - skipped[label])
            for label, count in sorted(frozen.items())
        ],
        skipped=[(no, reason) for no, reason in reasons[:200] if reason],
        destroy=len(checked) - len(reasons),
        skip=len(reasons),
    )


class CountMismatch(DisposalError):
    """The number of cards typed on the confirmation page is not the number to destroy."""

    def __init__(self, typed: int | None, expected: int) -> None:
        self.typed, self.expected = typed, expected
        shown = "（未入力）" if typed is None else f"{typed:,}枚"
        super().__init__(
            f"入力された枚数 {shown} が、廃棄する通知物の枚数 {expected:,}枚 と一致しません。"
            "廃棄は記録していません。数え直して、もう一度入力してください"
        )


def execute(
    session: Session,
    *,
    actor: str,
    batch: DisposalBatch,
    execution: Execution,
    now: datetime,
    today: date,
    confirmed_count: int | None = None,
    confirm: bool = False,
) -> DisposalBatch:
    """Record the physical destruction: re-check every item, destroy the rest, issue the
    certificate (SPEC §5). Items handed over, held or extended since creation are skipped.

    With ``confirm``, the officer has re-typed the number of cards destroyed
    (``confirmed_count``); unless it is exactly the number this execution destroys,
    :class:`CountMismatch` is raised before any item or audit event is written (the caller
    rolls back the claimed batch with the rest of the unit of work)."""
    problems = execution.problems(batch, today)
    if problems:
        raise DisposalError(" / ".join(problems))
    # Claim the batch first: of two executions of one batch, the second stops here, before it
    # has touched an item or the audit log.
    transition(
        session,
        DisposalBatch,
        batch.id,
        expected=DisposalBatch.status == "approved",
        values={
            "status": "executed",
            "executed_by": actor,
            "executed_at": now,
            "destroyed_on": execution.destroyed_on,
            "method": execution.method,
            "place": execution.place.strip(),
            "executor": execution.executor.strip(),
            "witness": execution.witness.strip(),
            "contractor_name": (execution.contractor_name or "").strip() or None,
            "contractor_certificate_no": (execution.contractor_certificate_no or "").strip()
            or None,
        },
        conflict=lambda current: _taken(session, current, "実行"),
    )
    checked = _recheck(session, batch, lock=True)
    destroy = [each.item.id for each in checked if not each.skip_reason]
    if confirm and confirmed_count != len(destroy):
        raise CountMismatch(confirmed_count, len(destroy))
    for each in checked:
        entry = each.entry
        entry.tracking_no = each.envelope.tracking_no
        entry.returned_on = each.envelope.returned_on
        entry.masked_name = mask_name(each.item.name)
        if each.skip_reason:
            entry.outcome = "skipped"
            entry.skip_reason = each.skip_reason
        else:
            entry.outcome = "destroyed"
    _freeze_excluded(session, batch)
    for start in range(0, len(destroy), INSERT_CHUNK):
        ids = destroy[start : start + INSERT_CHUNK]
        changed = move_items(session, ids, ItemAction.DESTROY, now=now)
        if changed != len(ids):
            raise DisposalError("他の操作と重なりました。もう一度実行してください")
    session.flush()
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).one()
    from tracker.pdf.certificate import sha256_of

    labels = {each.entry.rule_label for each in checked}
    texts = {k: v for k, v in certificates.rule_texts(session).items() if k in labels}
    issuer = certificates.issuer_now(session, batch)
    digest = sha256_of(certificates.render(session, batch, head.seq, head.hash, texts, issuer))
    # The certificate is frozen once: its head, rule texts and SHA-256 are written only where
    # none is, and it is always rebuilt from them.
    transition(
        session,
        DisposalBatch,
        batch.id,
        expected=DisposalBatch.certificate_sha256.is_(None),
        values={
            "audit_head_seq": head.seq,
            "audit_head_hash": head.hash,
            "certificate_rules": canonical_json(texts),
            "certificate_issuer": issuer.to_json(),
            "certificate_sha256": digest,
        },
        conflict=lambda current: _taken(session, current, "実行"),
    )
    audit.record(
        session,
        actor=actor,
        action=AuditAction.DISPOSAL_EXECUTE,
        object_type="disposal_batch",
        object_id=batch.id,
        details={
            "certificate_no": batch.certificate_no,
            "destroyed": len(destroy),
            "skipped": len(checked) - len(destroy),
            "certificate_sha256": batch.certificate_sha256,
            "audit_head": f"{head.seq}:{head.hash}",
        },
    )
    return batch


def _freeze_excluded(session: Session, batch: DisposalBatch) -> None:
    """Copy what the certificate prints of the items taken out of the batch (issue 13): their
    outcome and reason stay as the officer recorded them."""
    for entry, envelope in session.execute(
        select(DisposalBatchItem, Envelope)
        .join(Item, Item.id == DisposalBatchItem.item_id)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .where(
            DisposalBatchItem.batch_id == batch.id,
            DisposalBatchItem.outcome == BatchItemOutcome.EXCLUDED.value,
        )
    ):
        entry.tracking_no = envelope.tracking_no
        entry.returned_on = envelope.returned_on


#: Why an item that left custody since the batch was made is skipped (issue 13 statuses).
_GONE: dict[str, str] = {
    ItemStatus.HANDED_OVER.value: "作成後に交付済み",
    ItemStatus.DESTROYED.value: "既に廃棄済み",
    ItemStatus.REMAILED.value: "作成後に再送付（再送付中）",
    ItemStatus.REDELIVERED.value: "作成後に再送付済み",
    ItemStatus.LOST.value: "紛失",
}


def _skip_reason(item: Item, held: bool, extended_to: date | None, as_of: date) -> str | None:
    if item.status != ItemStatus.IN_CUSTODY.value:
        return _GONE.get(item.status, "保管中ではない")
    if held:
        return "保留中"
    if extended_to is not None and extended_to >= as_of:
        return f"保管延長（{format_wareki(extended_to)}まで）"
    return None


def in_approved_batch(item_id_column: Any) -> Any:
    """SQL: the item is frozen in an approved (not yet executed) batch: no handover (SPEC §5).
    An item a records officer took out of the batch (``excluded``, issue 13) is free again."""
    return exists().where(
        DisposalBatchItem.item_id == item_id_column,
        DisposalBatchItem.batch_id == DisposalBatch.id,
        DisposalBatchItem.outcome != BatchItemOutcome.EXCLUDED.value,
        DisposalBatch.status == "approved",
    )


def certificate_pdf(session: Session, batch: DisposalBatch) -> bytes:
    """Build (or rebuild, identically) the certificate of an executed batch."""
    if batch.status != "executed" or batch.executed_at is None or batch.audit_head_hash is None:
        raise DisposalError("廃棄証明書は廃棄の実行後に発行されます")
    return certificates.rebuild(session, batch)


@dataclass(frozen=True)
class Summary:
    """What the batch page shows besides the batch itself."""

    outcomes: dict[str, int]  # pending / destroyed / skipped → count
    cohorts: list[tuple[str, int]]  # rule label → count, by label
    skipped: list[DisposalBatchItem]  # the first 200, with their reasons
    sample: list[DisposalBatchItem]  # the first 100 items
    excluded: list[DisposalBatchItem]  # taken out by an officer (issue 13), the first 200


def summary(session: Session, batch: DisposalBatch) -> Summary:
    """Counts by outcome and by cohort, skipped items and a sample, in control-number order."""
    of_batch = DisposalBatchItem.batch_id == batch.id
    by_control_no = select(DisposalBatchItem).where(of_batch).order_by(DisposalBatchItem.control_no)
    return Summary(
        outcomes={
            outcome: count
            for outcome, count in session.execute(
                select(DisposalBatchItem.outcome, func.count())
                .where(of_batch)
                .group_by(DisposalBatchItem.outcome)
            )
        },
        cohorts=[
            (label, count)
            for label, count in session.execute(
                select(DisposalBatchItem.rule_label, func.count())
                .where(of_batch)
                .group_by(DisposalBatchItem.rule_label)
                .order_by(DisposalBatchItem.rule_label)
            )
        ],
        skipped=list(
            session.scalars(by_control_no.where(DisposalBatchItem.outcome == "skipped").limit(200))
        ),
        sample=list(session.scalars(by_control_no.limit(100))),
        excluded=list(
            session.scalars(
                by_control_no.where(
                    DisposalBatchItem.outcome == BatchItemOutcome.EXCLUDED.value
                ).limit(200)
            )
        ),
    )


def load(session: Session, batch_id: int) -> DisposalBatch | None:
    return session.get(DisposalBatch, batch_id)
