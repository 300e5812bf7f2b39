"""Notices (お知らせ, issue 15): choose items, preview the letters, record the sending.

**Selection** (:class:`Selection`): by retention rule (the rule's cohort: its window and
kinds), by eligibility within N days (disposable on or before as-of + N: SPEC §3's SQL of
:func:`tracker.services.retention.eligible_condition`), or by hand (control numbers). Each
candidate then goes through :func:`_verdict`: only items 保管中; never a protected person
(支援措置); not held; not already notified on the same sending date; and only when the last
day to collect can be computed **for the item as it will be after the sending** (its
``notice_sent_on`` set to the sending date, since a rule may count from it: SPEC §3). The
last day is ``eligible_from − 1``; an item whose last day is before the sending date is left
out too (a letter with a past deadline helps no one).

Candidates are read in chunks (``yield_per``) and letters are produced one at a time, so that
a mailing of 10,000 letters runs in bounded memory (the PDF is drawn page by page from them).

**Sending** (:func:`send`) is one transaction under a lock (``serialise("notices")``): it
creates the :class:`NoticeBatch`, one ``notice_mail`` contact per item, sets each item's
``notice_sent_on`` by a conditional update (still 保管中), and writes ONE audit event for the
batch. Exactly once: a second submit of the same form waits for the lock, then finds every
item already notified on that date (:data:`ALREADY`) and is refused as empty.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from tracker.clock import JST
from tracker.db import streamed
from tracker.domain.codes import (
    AuditAction,
    ContactKind,
    ItemStatus,
    NoticeMethod,
    ObjectType,
)
from tracker.domain.control import envelope_control_no, item_control_no, parse_control_no
from tracker.domain.errors import InputError
from tracker.domain.identity import Alternative, IdentityPolicy
from tracker.domain.retention import ItemFacts, eligible_from
from tracker.domain.retention.kinds import PeriodFromRule, Rule
from tracker.domain.wareki import format_wareki
from tracker.models import Contact, Envelope, Hold, Item, NoticeBatch, RetentionExtension
from tracker.models.custody import Location, Protection
from tracker.models.lifecycle import RegisterResult
from tracker.services import audit, contacts, notice_templates, protection, retention
from tracker.services import settings as office_settings
from tracker.services.handover import current_policy
from tracker.services.numbering import next_id
from tracker.services.transitions import Conflict, serialise

#: How many rows are read from the database at a time.
CHUNK = 500
#: How many letters the preview shows in full.
PREVIEW_LETTERS = 3
#: The most control numbers a hand-made selection may list.
HAND_LIMIT = 10_000

#: Item kinds as the letter names them.
ITEM_KIND_WORDS = {
    "notification_card": "通知カード",
    "number_notice": "個人番号通知書",
    "mynumber_card": "マイナンバーカード",
}

# Exclusion reasons (Japanese, shown on the preview and counted in the CLI's summary).
NOT_FOUND = "管理番号が見つからない"
NOT_IN_CUSTODY = "保管中ではない"
PROTECTED = "支援措置の対象"
#: Screens mask the address of an envelope that holds a protected person's item (the
#: household's address): no letter goes to it either.
PROTECTED_HOUSEHOLD = "支援措置の対象者と同じ封筒"
HELD = "保留中"
NO_LAST_DAY = "保管期限が決まらない（基準の空白など）"
PAST = "保管期限が発送日より前"
ALREADY = "同じ発送日にお知らせ済み"


class NoticeError(InputError):
    """A selection or a sending that cannot be made; nothing was written."""


@dataclass(frozen=True)
class Selection:
    """How the items are chosen: ``rule`` (a rule's id), ``within`` (days) or ``items``."""

    mode: str
    rule_id: int | None = None
    days: int | None = None
    control_nos: tuple[str, ...] = ()

    def in_words(self, session: Session) -> str:
        if self.mode == "rule":
            rule = _rule_by_id(session, self.rule_id)
            return f"廃棄基準「{rule.label}」の対象"
        if self.mode == "within":
            return f"{self.days}日以内に廃棄可能になるもの"
        return f"管理番号の指定（{len(self.control_nos)}件）"


def by_rule(session: Session, text: str) -> Selection:
    """``rule:<id or label>``: the rule with this id or this label."""
    stored = retention.load_rules(session)
    for s in stored:
        if str(s.row_id) == text.strip() or s.rule.label == text.strip():
            return Selection("rule", rule_id=s.row_id)
    labels = "、".join(s.rule.label for s in stored)
    raise NoticeError(f"廃棄基準「{text}」が見つかりません（登録されている基準: {labels}）")


def within(days: int | str) -> Selection:
    try:
        value = int(str(days).strip())
    except ValueError:
        raise NoticeError(f"日数は整数で指定してください（{days}）") from None
    if not 0 <= value <= 3650:
        raise NoticeError("日数は0〜3650日で指定してください")
    return Selection("within", days=value)


#: How many unreadable lines a refusal lists (the rest are counted).
BAD_LINES_SHOWN = 10


def by_hand(text: str) -> Selection:
    """Control numbers, one a line (or separated by spaces or commas); duplicates once.

    Each is read like the returned-notice page reads it (:func:`parse_control_no`: any width,
    lower case, any dash), so ``ｅ000000001ー1`` is ``E000000001-1``. Unreadable ones (or an
    envelope's number, which names no single item) are refused with their line numbers."""
    numbers: list[str] = []
    bad: list[str] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        for word in line.replace(",", " ").replace("、", " ").split():
            parsed = parse_control_no(word) if len(word) <= 40 else None
            if parsed is None or parsed[1] is None:
                why = "封筒の管理番号です（通知物の番号 E…-1 を）" if parsed else "読めません"
                bad.append(f"{line_no}行目「{word[:30]}」{why}")
                continue
            numbers.append(item_control_no(envelope_control_no(parsed[0]), parsed[1]))
    if bad:
        more = len(bad) - BAD_LINES_SHOWN
        shown = "、".join(bad[:BAD_LINES_SHOWN]) + (f"、ほか{more}件" if more > 0 else "")
        raise NoticeError(f"管理番号として読めない行があります: {shown}")
    if not numbers:
        raise NoticeError("管理番号を1件以上入力してください")
    if len(numbers) > HAND_LIMIT:
        raise NoticeError(f"管理番号は{HAND_LIMIT}件までにしてください（{len(numbers)}件）")
    return Selection("items", control_nos=tuple(dict.fromkeys(numbers)))


def parse_selection(session: Session, text: str) -> Selection:
    """``rule:<id or label>`` or ``within:<days>`` (the CLI's ``--select``, but for items)."""
    kind, _, value = text.partition(":")
    if kind == "rule" and value:
        return by_rule(session, value)
    if kind == "within" and value:
        return within(value)
    raise NoticeError(
        f"--select「{text}」は rule:<基準のIDか名前>、within:<日数>、"
        "items:<ファイル> のいずれかです"
    )


def _rule_by_id(session: Session, rule_id: int | None) -> Rule:
    for s in retention.load_rules(session):
        if s.row_id == rule_id:
            return s.rule
    raise NoticeError("廃棄基準が見つかりません（削除された可能性があります）")


# --- candidates and verdicts -----------------------------------------------------------------


def _household_protected() -> Any:
    """SQL: another item of the item's envelope has an active protection flag."""
    other = aliased(Item)
    return exists().where(
        other.envelope_id == Item.envelope_id,
        Protection.item_id == other.id,
        protection.is_active(),
    )


@dataclass(frozen=True)
class Letter:
    """One letter to print: who, where to, where to collect, and the last day to collect."""

    item_id: int
    envelope_id: int
    control_no: str
    name: str
    address: str
    item_kind: str
    last_day: date
    #: Where the card is kept, so where the person collects it (the envelope's location).
    place: str


@dataclass
class Tally:
    """Counts of a selection: letters, and the items left out per reason."""

    letters: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    #: The items with a letter, as drawn (a reprint's: :func:`batch_letters` fills it).
    item_ids: list[int] = field(default_factory=list)

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())


def _candidates(
    session: Session, selection: Selection, rules: Sequence[Rule], as_of: date, sent_on: date
) -> Any:
    extension = (
        select(func.max(RetentionExtension.retain_until))
        .where(RetentionExtension.item_id == Item.id)
        .correlate(Item)
        .scalar_subquery()
    )
    already = exists().where(
        Contact.item_id == Item.id,
        Contact.kind == ContactKind.NOTICE_MAIL.value,
        Contact.notice_batch_id == NoticeBatch.id,
        NoticeBatch.sent_on == sent_on,
    )
    query = (
        select(
            Item.id,
            Item.envelope_id,
            Item.control_no,
            Item.name,
            Item.kind.label("item_kind"),
            Item.status,
            Item.first_notice_on,
            Item.renotice_on,
            Item.card_expires_on,
            Envelope.address,
            Envelope.returned_on,
            Location.name.label("place"),
            extension.label("until"),
            RegisterResult.outcome.label("register_outcome"),
            RegisterResult.event_on.label("register_event_on"),
            protection.protected(Item.__table__.c.id).label("protected"),
            _household_protected().label("household_protected"),
            exists().where(Hold.item_id == Item.id, Hold.released_at.is_(None)).label("held"),
            already.label("already"),
        )
        .join(Envelope, Envelope.id == Item.envelope_id)
        .join(Location, Location.id == Envelope.location_id)
        .outerjoin(RegisterResult, RegisterResult.item_id == Item.id)
    )
    if selection.mode == "rule":
        rule = _rule_by_id(session, selection.rule_id)
        if rule.is_event_rule:
            assert isinstance(rule, PeriodFromRule)
            condition = retention._applies(rule)
        else:
            condition = and_(
                Envelope.returned_on.between(rule.returned_from, rule.returned_to),
                retention._of_kind(rule, rules),
            )
        query = query.where(Item.status == ItemStatus.IN_CUSTODY.value, condition)
    elif selection.mode == "within":
        horizon = as_of + timedelta(days=selection.days or 0)
        query = query.where(retention.eligible_condition(rules, horizon))
    else:
        query = query.where(Item.control_no.in_(selection.control_nos))
    return query.order_by(Item.control_no)


def _verdict(row: Any, rules: Sequence[Rule], sent_on: date) -> tuple[Letter | None, str | None]:
    if row.status != ItemStatus.IN_CUSTODY.value:
        return None, NOT_IN_CUSTODY
    if row.protected:
        return None, PROTECTED
    if row.household_protected:
        return None, PROTECTED_HOUSEHOLD
    if row.held:
        return None, HELD
    if row.already:
        return None, ALREADY
    last = last_day(row, rules, sent_on)
    if last is None:
        return None, NO_LAST_DAY
    if last < sent_on:
        return None, PAST
    return (
        Letter(
            row.id,
            row.envelope_id,
            row.control_no,
            row.name,
            row.address,
            row.item_kind,
            last,
            row.place,
        ),
        None,
    )


def last_day(row: Any, rules: Sequence[Rule], sent_on: date) -> date | None:
    """The last day to collect, for the item as it is after the sending (SPEC §3: a rule may
    count from ``notice_sent_on``): the day before it becomes eligible for disposal."""
    facts = ItemFacts(
        status=ItemStatus.IN_CUSTODY.value,
        has_active_hold=False,
        returned_on=row.returned_on,
        extension_until=row.until,
        register_outcome=row.register_outcome,
        register_event_on=row.register_event_on,
        item_kind=row.item_kind,
        notice_sent_on=sent_on,
        first_notice_on=row.first_notice_on,
        renotice_on=row.renotice_on,
        card_expires_on=row.card_expires_on,
    )
    first = eligible_from(facts, rules)
    return first - timedelta(days=1) if first is not None else None


def _rules(session: Session) -> list[Rule]:
    return [s.rule for s in retention.load_rules(session)]


def walk(
    session: Session, selection: Selection, *, as_of: date, sent_on: date, tally: Tally
) -> Iterator[Letter]:
    """The letters of a selection, in control-number order, read in chunks; ``tally`` counts
    letters and exclusions as they go by."""
    rules = _rules(session)
    query = _candidates(session, selection, rules, as_of, sent_on)
    seen: set[str] = set()
    result = streamed(session, query, CHUNK)
    try:
        for row in result:
            if selection.mode == "items":
                seen.add(row.control_no)
            letter, reason = _verdict(row, rules, sent_on)
            if letter is None:
                tally.excluded[reason or ""] += 1
            else:
                tally.letters += 1
                yield letter
    finally:
        result.close()
    if selection.mode == "items":
        missing = len(set(selection.control_nos) - seen)
        if missing:
            tally.excluded[NOT_FOUND] += missing


# --- the letter's wording --------------------------------------------------------------------


#: How many document names a letter lists per group before «など».
NAMES_SHOWN = 3


def _group_in_words(policy: IdentityPolicy, group: str, count: int, on: date) -> str:
    """``マイナンバーカード、運転免許証、運転経歴証明書など顔写真付きのもの1点``: the group's
    first documents still accepted on ``on``, named, and how many of them."""
    docs = [
        d
        for d in policy.documents.values()
        if d.group == group and (d.valid_until is None or d.valid_until >= on)
    ]
    names = "、".join(d.name for d in docs[:NAMES_SHOWN])
    photo = "顔写真付きのもの" if docs and all(d.photo for d in docs) else ""
    if len(docs) > NAMES_SHOWN:
        return f"{names}など{photo}{count}点"
    if len(docs) > count:
        return f"{names}のうち{photo}{count}点"
    return f"{names}（{count}点）" if count > 1 else names


def documents_in_words(policy: IdentityPolicy, item_kind: str | None, on: date) -> str:
    """The identity documents the person themself brings, named as a resident knows them
    (not «A群1点»): each alternative of the current policy's rule for ``item_kind``, with the
    names of its groups' documents, joined by «、または». Documents no longer accepted on
    ``on`` (the sending date) are not named."""
    if policy.format == 2:
        alternatives = policy.alternatives(item_kind or "notification_card", "self")
    else:
        present = {d.group for d in policy.documents.values()}
        alternatives = tuple(
            Alternative(((group, need),))
            for group, need in (("A", policy.group_a_required), ("B", policy.group_b_required))
            if group in present
        )
    parts = []
    for alternative in alternatives:
        text = "と".join(_group_in_words(policy, g, n, on) for g, n in alternative.counts)
        if alternative.min_photo:
            text += f"（うち顔写真付きのもの{alternative.min_photo}点以上）"
        parts.append(text)
    if not parts:
        return policy.requirement(item_kind, "self")
    return "、または".join(parts)


class Wording:
    """Everything a letter needs besides the person: the template, the settings, the
    identity policy in words (per item kind), the sending date and batch number."""

    def __init__(
        self, session: Session, *, sent_on: date, batch_no: str, template_id: int | None = None
    ) -> None:
        from tracker.models import NoticeTemplate

        template = (
            session.get(NoticeTemplate, template_id)
            if template_id is not None
            else notice_templates.current(session)
        )
        if template is None:
            raise NoticeError("お知らせの文面が登録されていません（tracker init-db）")
        self.template = template
        self.compiled = notice_templates.compile_body(template.body)
        self.settings = office_settings.load(session)
        self.policy: IdentityPolicy = current_policy(session)
        self.session = session
        self.sent_on = sent_on
        self.batch_no = batch_no
        self._documents: dict[str, str] = {}

    @property
    def office(self) -> str:
        return f"{self.settings.municipality}　{self.settings.office}"

    def documents(self, item_kind: str | None) -> str:
        """What the person themself brings, the documents named (:func:`documents_in_words`)."""
        key = item_kind or ""
        if key not in self._documents:
            self._documents[key] = documents_in_words(self.policy, item_kind, self.sent_on)
        return self._documents[key]

    def default_place(self) -> str:
        """The sample letter's place: the default location (seeded with the office's name)."""
        from tracker.models import Location as LocationRow

        name = self.session.scalar(
            select(LocationRow.name).where(LocationRow.is_default.is_(True)).limit(1)
        )
        return name or self.settings.office

    def common(self) -> dict[str, str]:
        return {
            "hours": office_settings.hours_in_words(self.settings),
            "office": self.office,
            "contact": self.settings.notice_contact,
            "sent_on": format_wareki(self.sent_on),
            "batch_no": self.batch_no,
        }

    def fields(self, letter: Letter) -> notice_templates.LetterFields:
        return notice_templates.LetterFields(
            name=letter.name,
            address=letter.address,
            control_no=letter.control_no,
            item_kind=ITEM_KIND_WORDS.get(letter.item_kind, "通知カード"),
            last_day=format_wareki(letter.last_day),
            documents=self.documents(letter.item_kind),
            place=letter.place,
            **self.common(),
        )

    def body(self, letter: Letter) -> str:
        return notice_templates.render_body(self.compiled, self.fields(letter))

    def sample(self) -> notice_templates.LetterFields:
        common = self.common()
        return notice_templates.sample_fields(
            contact=common["contact"],
            place=self.default_place(),
            hours=common["hours"],
            documents=self.documents("notification_card"),
            office=common["office"],
        )


def sample_fields(session: Session, *, sent_on: date) -> notice_templates.LetterFields:
    """The editor's synthetic person with this office's settings and policy."""
    return Wording(session, sent_on=sent_on, batch_no="N000000000").sample()


# --- preview and sending ---------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    selection_words: str
    letters: int
    excluded: dict[str, int]
    #: The first few letters: (control number, address block, title, body).
    first: list[tuple[str, str, str, str]]


def check_sent_on(sent_on: date, today: date) -> None:
    """The sending date the preview and the sending both accept: not in the future, not more
    than a year ago."""
    if sent_on > today:
        raise NoticeError(f"発送日 {format_wareki(sent_on)} は未来の日付です")
    if sent_on < today - timedelta(days=366):
        raise NoticeError(f"発送日 {format_wareki(sent_on)} は1年以上前の日付です")


def preview(
    session: Session,
    *,
    actor: str,
    selection: Selection,
    as_of: date,
    sent_on: date,
    today: date | None = None,
) -> Preview:
    """Counts and the first letters' text; logged (NOTICE_PREVIEW: counts, never names).
    With ``today``, the sending date is checked as :func:`send` checks it."""
    if today is not None:
        check_sent_on(sent_on, today)
    tally = Tally()
    wording = Wording(session, sent_on=sent_on, batch_no="（発送時に採番）")
    first: list[tuple[str, str, str, str]] = []
    for letter in walk(session, selection, as_of=as_of, sent_on=sent_on, tally=tally):
        if len(first) < PREVIEW_LETTERS:
            block = f"{letter.address}\n{letter.name}　様"
            first.append((letter.control_no, block, wording.template.title, wording.body(letter)))
    words = selection.in_words(session)
    audit.record(
        session,
        actor=actor,
        action=AuditAction.NOTICE_PREVIEW,
        details={
            "selection": words,
            "as_of": as_of.isoformat(),
            "sent_on": sent_on.isoformat(),
            "letters": tally.letters,
            "excluded": tally.excluded_total,
            "control_nos": [letter[0] for letter in first],
        },
    )
    return Preview(words, tally.letters, dict(tally.excluded), first)


def batch_no_of(batch_id: int) -> str:
    return f"N{batch_id:09d}"


@dataclass(frozen=True)
class Sent:
    batch: NoticeBatch
    letters: int
    excluded: dict[str, int]


def send(
    session: Session,
    *,
    actor: str,
    selection: Selection,
    as_of: date,
    sent_on: date,
    method: NoticeMethod,
    now: datetime,
    today: date,
    expected: int | None = None,
) -> Sent:
    """Record the sending of a selection's letters (see the module docstring)."""
    check_sent_on(sent_on, today)
    serialise(session, "notices")  # a double submit waits here, then finds ALREADY
    template = notice_templates.current(session)
    if template is None:
        raise NoticeError("お知らせの文面が登録されていません（tracker init-db）")
    tally = Tally()
    letters = list(walk(session, selection, as_of=as_of, sent_on=sent_on, tally=tally))
    if not letters:
        raise NoticeError(
            "お知らせを送る通知物がありません（除外: " + _excluded_words(tally) + "）"
        )
    if expected is not None and len(letters) != expected:
        raise NoticeError(
            f"確認したときは{expected}通でしたが、いまは{len(letters)}通です"
            "（ほかの操作で変わりました）。もう一度確認してください"
        )
    batch_id = next_id(session, NoticeBatch)
    words = selection.in_words(session)
    batch = NoticeBatch(
        id=batch_id,
        batch_no=batch_no_of(batch_id),
        sent_on=sent_on,
        method=method.value,
        template_id=template.id,
        item_count=len(letters),
        selection=words,
        created_by=actor,
        created_at=now,
    )
    session.add(batch)
    session.flush()
    occurred = datetime.combine(sent_on, time(9, 0), tzinfo=JST)
    occurred = min(occurred, now)
    envelopes = {
        e.id: e
        for e in session.scalars(
            select(Envelope).where(Envelope.id.in_({letter.envelope_id for letter in letters}))
        )
    }
    for chunk_start in range(0, len(letters), CHUNK):
        chunk = letters[chunk_start : chunk_start + CHUNK]
        items = {
            i.id: i
            for i in session.scalars(select(Item).where(Item.id.in_([c.item_id for c in chunk])))
        }
        for letter in chunk:
            changed = session.execute(
                update(Item)
                .where(Item.id == letter.item_id, Item.status == ItemStatus.IN_CUSTODY.value)
                .values(notice_sent_on=sent_on)
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(
                    f"通知物 {letter.control_no} はたった今ほかの操作で変更されました。"
                    "画面を開き直してください"
                )
            contacts.record(
                session,
                actor=actor,
                envelope=envelopes[letter.envelope_id],
                item=items[letter.item_id],
                kind=ContactKind.NOTICE_MAIL,
                occurred_at=occurred,
                note=None,
                now=now,
                notice_batch_id=batch.id,
                method=method,
                audited=False,
            )
        session.expire_all()
    audit.record(
        session,
        actor=actor,
        action=AuditAction.NOTICE_SEND,
        object_type=ObjectType.NOTICE_BATCH.value,
        object_id=batch.id,
        details={
            "batch_no": batch.batch_no,
            "count": len(letters),
            "method": method.value,
            "sent_on": sent_on.isoformat(),
            "selection": words,
            "excluded": tally.excluded_total,
            "control_nos": [letter.control_no for letter in letters],
        },
    )
    return Sent(batch, len(letters), dict(tally.excluded))


def _excluded_words(tally: Tally) -> str:
    if not tally.excluded:
        return "なし"
    return "、".join(f"{reason} {n}件" for reason, n in sorted(tally.excluded.items()))


# --- a batch: its letters again, its mailing list ---------------------------------------------


def batches(session: Session, limit: int = 200) -> list[NoticeBatch]:
    return list(session.scalars(select(NoticeBatch).order_by(NoticeBatch.id.desc()).limit(limit)))


def batch_letters(
    session: Session, batch: NoticeBatch, tally: Tally | None = None
) -> Iterator[Letter]:
    """The batch's letters again (reprint), in control-number order, read in chunks. The last
    day is computed as at the sending; a person protected since is left out (counted)."""
    tally = tally if tally is not None else Tally()
    rules = _rules(session)
    extension = (
        select(func.max(RetentionExtension.retain_until))
        .where(RetentionExtension.item_id == Item.id)
        .correlate(Item)
        .scalar_subquery()
    )
    query = (
        select(
            Item.id,
            Item.envelope_id,
            Item.control_no,
            Item.name,
            Item.kind.label("item_kind"),
            Item.first_notice_on,
            Item.renotice_on,
            Item.card_expires_on,
            Envelope.address,
            Envelope.returned_on,
            Location.name.label("place"),
            extension.label("until"),
            RegisterResult.outcome.label("register_outcome"),
            RegisterResult.event_on.label("register_event_on"),
            protection.protected(Item.__table__.c.id).label("protected"),
            _household_protected().label("household_protected"),
        )
        .join(Contact, Contact.item_id == Item.id)
        .join(Envelope, Envelope.id == Item.envelope_id)
        .join(Location, Location.id == Envelope.location_id)
        .outerjoin(RegisterResult, RegisterResult.item_id == Item.id)
        .where(_of_batch(batch))
        .order_by(Item.control_no)
    )
    result = streamed(session, query, CHUNK)
    try:
        for row in result:
            if row.protected or row.household_protected:
                tally.excluded[PROTECTED if row.protected else PROTECTED_HOUSEHOLD] += 1
                continue
            last = last_day(row, rules, batch.sent_on)
            tally.letters += 1
            tally.item_ids.append(row.id)
            yield Letter(
                row.id,
                row.envelope_id,
                row.control_no,
                row.name,
                row.address,
                row.item_kind,
                last or batch.sent_on,
                row.place,
            )
    finally:
        result.close()


def _of_batch(batch: NoticeBatch) -> Any:
    """SQL: the item (joined to its contacts) was mailed in ``batch``."""
    return and_(Contact.notice_batch_id == batch.id, Contact.kind == ContactKind.NOTICE_MAIL.value)


def letters_digest(item_ids: Iterable[int]) -> str:
    """A digest of which items have a letter (their ids: nothing personal), whatever order."""
    text = ",".join(str(item_id) for item_id in sorted(item_ids))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def batch_letters_digest(session: Session, batch: NoticeBatch) -> str:
    """:func:`letters_digest` of the letters the batch would have if drawn now: a PDF drawn
    earlier is stale if it differs (someone protected since would still be in it)."""
    query = (
        select(
            Item.id,
            protection.protected(Item.__table__.c.id).label("protected"),
            _household_protected().label("household_protected"),
        )
        .join(Contact, Contact.item_id == Item.id)
        .where(_of_batch(batch))
    )
    rows = streamed(session, query, CHUNK)
    return letters_digest(row.id for row in rows if not (row.protected or row.household_protected))


@dataclass(frozen=True)
class ListRow:
    batch_no: str
    control_no: str
    name: str
    address: str
    method: str
    sent_on: str


LIST_HEADER = ("発送番号", "管理番号", "氏名", "住所", "発送方法", "発送日")


def mailing_rows(session: Session, batch: NoticeBatch) -> Iterator[tuple[str, ...]]:
    """発送リスト rows. A person protected since the sending (or sharing an envelope with one)
    is left out altogether, not masked (:func:`batch_letters`)."""
    method = NoticeMethod(batch.method).label
    for letter in batch_letters(session, batch):
        yield (
            batch.batch_no,
            letter.control_no,
            letter.name,
            letter.address,
            str(method),
            format_wareki(batch.sent_on),
        )


def record_print(session: Session, *, actor: str, batch: NoticeBatch, letters: int) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.NOTICE_PRINT,
        object_type=ObjectType.NOTICE_BATCH.value,
        object_id=batch.id,
        details={"batch_no": batch.batch_no, "letters": letters, "format": "pdf"},
    )


def record_list_export(session: Session, *, actor: str, batch: NoticeBatch, encoding: str) -> None:
    audit.record(
        session,
        actor=actor,
        action=AuditAction.NOTICE_LIST_EXPORT,
        object_type=ObjectType.NOTICE_BATCH.value,
        object_id=batch.id,
        details={
            "batch_no": batch.batch_no,
            "items": batch.item_count,
            "format": "csv",
            "encoding": encoding,
        },
    )


__all__ = [
    "Letter",
    "NoticeError",
    "Preview",
    "Selection",
    "Sent",
    "Tally",
    "Wording",
    "batch_letters",
    "batches",
    "by_hand",
    "by_rule",
    "mailing_rows",
    "parse_selection",
    "preview",
    "send",
    "walk",
    "within",
]


def write_letters(
    session: Session,
    batch: NoticeBatch,
    out: IO[bytes],
    *,
    drawn: Callable[[int], None] | None = None,
) -> Tally:
    """The batch's letters as one PDF written to ``out``, streamed page by page.

    ``drawn(n)``, when given, is called after each letter is drawn with the count so far (a
    background job's progress, issue 17)."""
    from tracker.pdf.notices import LetterPage, render_letters

    wording = Wording(
        session, sent_on=batch.sent_on, batch_no=batch.batch_no, template_id=batch.template_id
    )
    tally = Tally()
    pages: Iterator[Any] = (
        LetterPage(
            letter.name,
            letter.address,
            letter.control_no,
            wording.template.title,
            wording.body(letter),
        )
        for letter in batch_letters(session, batch, tally)
    )
    if drawn is not None:
        pages = _counting(pages, drawn)
    render_letters(
        out, pages, sent_on=batch.sent_on, sender=wording.office, batch_no=batch.batch_no
    )
    return tally


def _counting(pages: Iterator[Any], drawn: Callable[[int], None]) -> Iterator[Any]:
    for count, page in enumerate(pages, start=1):
        yield page  # the renderer asks for the next page once this one is drawn
        drawn(count)
