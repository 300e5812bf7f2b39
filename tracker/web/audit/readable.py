"""Audit events as an auditor reads them (issue 12): labels instead of codes, names instead of
login names and ids, details as labelled fields with links, item history lines in words.

The stored event is untouched (the chain hashes it); this is only how it is shown. The raw
JSON stays one click away on the page. Every key a service writes into ``details`` has a label
in :data:`DETAIL_LABELS` (``tests/web/test_audit_labels.py`` checks the ones written by the
common paths); a key without one is shown as stored rather than hidden.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from tracker.clock import to_jst
from tracker.domain import digests
from tracker.domain.codes import (
    REMAIL_ADDRESS_KIND_LABELS,
    AuditAction,
    ContactKind,
    HoldKind,
    JobKind,
    NoticeMethod,
    ObjectType,
    Outcome,
    RecipientKind,
    ReturnReason,
    Role,
    RuleKind,
    StockCheckOutcome,
)
from tracker.domain.wareki import format_wareki
from tracker.models import AuditEvent
from tracker.services import audit_references, protection
from tracker.services.audit_references import NUMBER, Policies, References
from tracker.web.filters import KIND_LABELS, code_label
from tracker.web.i18n import gettext as _
from tracker.web.i18n import lazy_gettext as _l

#: Labels of the keys services write into an event's details (and of the fields a change
#: lists under ``changes``, ``before`` and ``after``).
DETAIL_LABELS: dict[str, Any] = {
    # what the event is about
    "control_no": _l("管理番号"),
    "control_nos": _l("管理番号"),
    "items": _l("通知物"),
    "receipt_no": _l("受領書番号"),
    "certificate_no": _l("証明書番号"),
    "count": _l("件数"),
    "hold": _l("保留番号"),
    "contact": _l("接触記録番号"),
    "batch_no": _l("発送番号"),
    "occurred_at": _l("日時"),
    "day": _l("日付"),
    "slots": _l("予約枠"),
    # pickup days and slots (issue 15)
    "pickup_slot": _l("予約枠"),
    "pickup_days": _l("受取予約日の数"),
    "pickup_slots": _l("予約枠の数"),
    "places": _l("定員の合計"),
    "dates": _l("日付"),
    "copied_from": _l("コピー元の日付"),
    "capacity": _l("定員"),
    "removed": _l("削除した内容"),
    "reservation_no": _l("予約番号"),
    "slot_time": _l("予約枠の時間"),
    "reservation_phones": _l("消去した折り返し電話番号の件数"),
    # access requests (issue 16)
    "reference_no": _l("開示請求の受付番号"),
    "requires_approval": _l("承認が必要"),
    "sections": _l("出力した件数"),
    "register_checks": _l("住基照合"),
    "handovers": _l("交付記録"),
    "contacts": _l("接触記録"),
    "reservations": _l("受取予約"),
    "holds": _l("保留"),
    "retention_extensions": _l("保管期限の延長"),
    "protections": _l("支援措置"),
    "remailings": _l("再送付"),
    "loss_reports": _l("紛失報告"),
    "item_revisions": _l("修正履歴"),
    "audit_events": _l("操作記録"),
    # retention of the tracker's own records (issue 16): a purge's counts; "handovers",
    # "reservations", "contacts" and "item_revisions" above name them too
    "item_records": _l("消去した通知物の関連記録の件数"),
    "units": _l("期間の単位"),
    # handover
    "recipient_kind": _l("受け取った人"),
    "documents": _l("本人確認書類"),
    "principal_documents": _l("委任者の本人確認書類"),
    "policy_version": _l("本人確認基準"),
    "from_version": _l("変更前の基準"),
    "reasons": _l("理由"),
    "reason": _l("理由"),
    "requested_by": _l("依頼した人"),
    "voided_by": _l("取り消した人"),
    # envelope and item fields
    "location": _l("保管場所"),
    "slot": _l("棚・箱"),
    "from": _l("移動元"),
    "to": _l("移動先"),
    "changes": _l("変更内容"),
    "tracking_no": _l("お問い合わせ番号"),
    "addressee": _l("宛名"),
    "address": _l("住所"),
    "household_code": _l("世帯番号"),
    "returned_on": _l("返戻日"),
    "return_reason": _l("還付事由"),
    "name": _l("氏名・名称"),
    "name_kana": _l("フリガナ"),
    "birth_date": _l("生年月日"),
    "relationship_to_head": _l("続柄"),
    "kind": _l("種類"),
    # item names and event dates (issue 14)
    "alias": _l("通称"),
    "notice_sent_on": _l("お知らせ送付日"),
    "first_notice_on": _l("交付通知書送付日"),
    "renotice_on": _l("再通知日"),
    "card_expires_on": _l("カードの有効期限"),
    # search
    "query_kind": _l("検索の条件"),
    "results": _l("検索結果の件数"),
    # rules, holds, policy, settings
    "label": _l("名称"),
    "returned_from": _l("返戻日（から）"),
    "returned_to": _l("返戻日（まで）"),
    "retain_until": _l("保管期限"),
    "years": _l("年数"),
    "months": _l("月数"),
    "anchor": _l("起算日"),
    "period_count": _l("期間"),
    "period_unit": _l("期間の単位"),
    "register_outcomes": _l("異動区分"),
    "item_kinds": _l("通知物の種別"),
    "sub_rules": _l("副基準"),
    "before": _l("変更前"),
    "after": _l("変更後"),
    "changed": _l("変更した項目"),
    "note": _l("メモ"),
    "group_a_required": _l("A群の必要点数"),
    "group_b_required": _l("B群の必要点数"),
    "proxy_letter_valid_months": _l("委任状の有効期間（月）"),
    "documents_added": _l("追加した書類"),
    "documents_removed": _l("削除した書類"),
    "documents_changed": _l("変更した書類"),
    "photo": _l("写真付き"),
    "issued_on_or_after": _l("この日以降の交付に限る"),
    "valid_until": _l("使用できる最終日"),
    "expiry_required": _l("有効期限を入力する"),
    "never_record_number": _l("番号を記録しない"),
    "groups_changed": _l("変更した群"),
    "rules_changed": _l("変更した組合せの規則"),
    "format_changed": _l("形式の変更"),
    "source": _l("入力元"),
    "group": _l("群"),
    "code": _l("コード"),
    "municipality": _l("自治体名"),
    "office": _l("窓口の名称"),
    "receipt_addressee": _l("受領書の宛先"),
    "notice_contact": _l("問い合わせ先"),
    # notices (issue 15)
    "sent_on": _l("発送日"),
    "selection": _l("選び方"),
    "previous_version": _l("前の版"),
    "version": _l("版"),
    "method": _l("方法"),
    "template_version": _l("文面の版"),
    "letters": _l("お知らせの通数"),
    "excluded": _l("除外"),
    "opening_hours": _l("開庁時間"),
    "added": _l("登録した内容"),
    # disposal
    "as_of": _l("基準日"),
    "cohorts": _l("返戻年度別の件数"),
    "destroyed": _l("廃棄した件数"),
    "skipped": _l("除外した件数"),
    "certificate_sha256": _l("証明書のハッシュ値（SHA-256）"),
    "audit_head": _l("実行時の監査ログの末尾"),
    "sha256": _l("ハッシュ値（SHA-256）"),
    "match": _l("一致した証明書"),
    # import and export
    "encoding": _l("文字コード"),
    "format": _l("形式"),
    "rows": _l("行数"),
    "envelopes": _l("封筒数"),
    "duplicates": _l("重複"),
    "warnings": _l("警告"),
    "errors": _l("エラー"),
    "dry_run": _l("確認のみ（登録なし）"),
    "filtered": _l("絞り込み"),
    "since": _l("期間（から）"),
    "until": _l("期間（まで）"),
    # accounts and sessions
    "username": _l("ユーザー"),
    "role": _l("役割"),
    "locks_lifted": _l("解除したロック"),
    "client": _l("接続元"),
    "attempt": _l("入力した画面"),
    "delay_ms": _l("応答の遅延（ミリ秒）"),
    "locked_until": _l("ロックの期限"),
    "failures_in_window": _l("連続した失敗の回数"),
    "must_change_password": _l("初回ログイン時にパスワード変更"),
    "was_required": _l("変更が求められていた"),
    "sessions_ended": _l("終了したセッション数"),
    "by": _l("操作した人"),
    "active": _l("使用中"),
    # disposal desk
    "rules": _l("対象の廃棄基準"),
    "typed": _l("入力された枚数"),
    "expected": _l("対象の枚数"),
    # the audit log itself
    "checked": _l("検証した記録の数"),
    "broken_seq": _l("連鎖が壊れた記録"),
    # resident-register results (住基照合)
    "register_outcome": _l("異動区分"),
    "register_source": _l("照合の方法"),
    "register_change": _l("登録の結果"),
    "results_new": _l("新規"),
    "results_changed": _l("変更"),
    "results_unchanged": _l("変更なし"),
    # re-mailing (issue 13)
    "remailing": _l("再送付の番号"),
    "envelope": _l("返戻郵便"),
    "address_kind": _l("送付先の種類"),
    "mailed_on": _l("郵送日"),
    "from_envelope": _l("前の返戻郵便"),
    "days": _l("完了までの日数"),
    # stock checks and losses (issue 13)
    "check_no": _l("棚卸番号"),
    "slot_from": _l("保管位置（から）"),
    "slot_to": _l("保管位置（まで）"),
    "ledger_envelopes": _l("台帳上の封筒"),
    "found": _l("所在確認"),
    "found_elsewhere": _l("他の場所で発見"),
    "missing": _l("所在不明"),
    "unexpected": _l("台帳外"),
    "missing_envelopes": _l("所在不明の封筒"),
    "held_items": _l("所在調査中にした通知物"),
    "already_held": _l("既に所在調査中の通知物"),
    "released_holds": _l("解除した所在調査の保留の数"),
    "outcome": _l("棚卸の結果"),
    "report_no": _l("紛失報告番号"),
    # 支援措置 (issue 14): never the reason itself
    "review_on": _l("見直し日"),
    "reason_recorded": _l("理由の記録"),
    "purpose": _l("閲覧の目的"),
    # issue 16: digests instead of values (the auditor confirms a value on the event's page)
    "purpose_digest": _l("閲覧の目的"),
    "note_digest": _l("備考"),
    "event": _l("照合した記録"),
    "field": _l("照合した項目"),
    "matched": _l("一致"),
}

#: How a keyed digest reads: the value is not in the log; an auditor may confirm a candidate.
DIGEST_NOTE = _l("照合用ダイジェストあり")
CHANGED_WITH_DIGEST = _l("変更（照合用ダイジェストあり）")
CHANGED = _l("変更")

#: Coded values that services write under these keys.
VALUE_LABELS: dict[str, dict[str, Any]] = {
    "reason": {
        "unknown_user": _l("登録されていないユーザー名"),
        "wrong_password": _l("パスワードの誤り"),
        "locked": _l("ロック中"),
        "inactive": _l("無効なユーザー"),
        "password": _l("パスワードの誤り"),
        "idle": _l("一定時間操作がなかった"),
        "max_age": _l("ログインの最長時間を過ぎた"),
        "invalid rows": _l("誤りのある行がある"),
        "count_mismatch": _l("枚数の不一致"),
        # directory login (issue 17)
        "directory_disabled": _l("ディレクトリで無効なアカウント"),
        "no_role": _l("役割に対応するグループに属していない"),
        "ambiguous_role": _l("複数の役割のグループに属している"),
        "directory_unavailable": _l("ディレクトリサーバーに接続できない"),
        "role_changed": _l("ディレクトリ上の役割が変わった"),
        "interrupted": _l("処理が中断された（ワーカーの停止）"),
    },
    "source": {"ldap": _l("ディレクトリ（LDAP）")},
    "by": {"ldap": _l("ディレクトリ（LDAP）")},
    "attempt": {"login": _l("ログイン"), "reentry": _l("パスワードの再入力")},
    "register_change": {
        "new": _l("新規"),
        "changed": _l("変更"),
        "unchanged": _l("変更なし（前回と同じ）"),
    },
    "outcome": {outcome.value: outcome.label for outcome in StockCheckOutcome},
    "format": {"csv": "CSV", "json": "JSON", "pdf": "PDF"},
    "encoding": {
        "utf-8-sig": _l("UTF-8（BOM付き）"),
        "utf-8": "UTF-8",
        "cp932": _l("Shift_JIS（CP932）"),
    },
    "kind": {
        RuleKind.FIXED.value: _l("期間指定"),
        RuleKind.FISCAL_YEAR.value: _l("年度"),
        RuleKind.MONTHS_AFTER.value: _l("月数"),
        RuleKind.PERIOD_FROM.value: _l("期間計算"),
        **{kind.value: label for kind, label in KIND_LABELS.items()},
        HoldKind.INVESTIGATION.value: HoldKind.INVESTIGATION.label,
        **{kind.value: kind.label for kind in ContactKind},
        **{kind.value: kind.label for kind in JobKind},
    },
    "anchor": {"returned_on": _l("返戻日"), "register_event_on": _l("住基照合の異動日")},
    "period_unit": {"days": _l("日"), "months": _l("か月"), "years": _l("年")},
    "address_kind": {kind.value: label for kind, label in REMAIL_ADDRESS_KIND_LABELS.items()},
    "method": {method.value: method.label for method in NoticeMethod},
}

QUERY_PARTS = {
    "kana": _l("フリガナ"),
    "name": _l("氏名"),
    "birth_date": _l("生年月日"),
    "empty": _l("条件なし"),
    "remailings": _l("再送付の一覧"),
}

WEEKDAYS = (
    _l("月曜"),
    _l("火曜"),
    _l("水曜"),
    _l("木曜"),
    _l("金曜"),
    _l("土曜"),
    _l("日曜"),
)

#: Where the things an event is about are shown (the auditor may open each of them).
OBJECT_PAGES: dict[str, tuple[str, str]] = {
    ObjectType.ITEM: ("counter.item", "item_id"),
    ObjectType.ENVELOPE: ("custody.envelope", "envelope_id"),
    ObjectType.HANDOVER: ("counter.handover_detail", "handover_id"),
    ObjectType.DISPOSAL_BATCH: ("disposal.batch", "batch_id"),
    ObjectType.STOCK_CHECK: ("stock.check", "check_id"),
    ObjectType.RESERVATION: ("reservations.show", "reservation_id"),
    ObjectType.ACCESS_REQUEST: ("access_requests.show", "request_id"),
}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_HASHES = {"sha256", "certificate_sha256"}
_ORDER = {key: n for n, key in enumerate(DETAIL_LABELS)}
#: What the seeding writes (``locations: 5``), in words.
_SEEDED = (
    (re.compile(r"locations: (\d+)"), _l("保管場所 %(x)s件")),
    (re.compile(r"retention rule: (.+)"), _l("廃棄基準「%(x)s」")),
    (re.compile(r"identity policy: version (\d+)"), _l("本人確認基準 第%(x)s版")),
)


@dataclass(frozen=True)
class Field:
    label: str
    value: Markup


@dataclass(frozen=True)
class ShownEvent:
    """One event ready for a template: nothing in it is a code the reader must decode."""

    event: AuditEvent
    action: str
    outcome: str
    actor_name: str
    actor_id: str
    object_text: str
    object_url: str | None
    fields: list[Field]
    raw: str
    #: The event in words, for an item's history: 「交付を拒否: …」.
    sentence: str


def action_label(action: str) -> str:
    """An action's label; an action no longer in the code list shows its stored code."""
    return code_label(action, "audit_action")


def policy_title(policies: Policies, version: object) -> str:
    """「第1版（令和8年11月27日〜）」: the version and the day it came into force."""
    found = policies.get(version)
    if found is None:
        text = str(version)
        return str(_("第%(v)d版", v=int(text))) if text.isdigit() else text
    return str(_("第%(v)d版（%(since)s〜）", v=found.version, since=format_wareki(found.since)))


def show(session: Session, events: Iterable[AuditEvent]) -> list[ShownEvent]:
    events = list(events)
    refs = audit_references.load(session, events)
    protected = protection.protected_now(session)
    return [_shown(event, refs, protected) for event in events]


def _shown(
    event: AuditEvent, refs: References, protected: protection.Protected | None = None
) -> ShownEvent:
    details = audit_references.details_of(event)
    if protected is not None and protected.covers(event.object_type, event.object_id):
        # 支援措置: the address of a protected person's envelope is never shown (issue 14)
        details = protection.mask_addresses(details)
    text, url = _object(event, refs)
    fields = [
        Field(_label(key), _value(key, value, refs, details))
        for key, value in sorted(details.items(), key=lambda kv: _ORDER.get(kv[0], len(_ORDER)))
        if value not in (None, [], {}, "")  # nothing to read; the raw record has it
    ]
    return ShownEvent(
        event=event,
        action=action_label(event.action),
        outcome=code_label(event.outcome, "outcome"),
        actor_name=_actor(event.actor, refs),
        actor_id=event.actor,
        object_text=text,
        object_url=url,
        fields=fields,
        raw=json.dumps(details, ensure_ascii=False, indent=1, sort_keys=True),
        sentence=_sentence(event, details, refs),
    )


def _actor(actor: str, refs: References) -> str:
    if actor == "anonymous":
        return str(_("（ログイン前）"))
    return refs.person(actor)


def _object(event: AuditEvent, refs: References) -> tuple[str, str | None]:
    """「交付 H000000001」 and the page that shows it (None when there is no such page)."""
    kind, ident = event.object_type, event.object_id
    if not kind:
        return "", None
    label = code_label(kind, "object_type")
    if not ident:
        return label, None
    name: str = ident
    if kind == ObjectType.ITEM:
        name = refs.item_numbers.get(ident, ident)
    elif kind in (ObjectType.ENVELOPE, ObjectType.HANDOVER, ObjectType.DISPOSAL_BATCH):
        prefix = {"envelope": "E", "handover": "H", "disposal_batch": "D"}[kind]
        name = f"{prefix}{int(ident):09d}" if ident.isdigit() else ident
    elif kind == ObjectType.USER:
        name = refs.users[ident][1] if ident in refs.users else ident
    elif kind == ObjectType.RETENTION_RULE:
        name = refs.rules.get(ident, ident)
    elif kind == ObjectType.IDENTITY_POLICY:
        return f"{label} {policy_title(refs.policies, ident)}", url_for("policy.show")
    elif kind == ObjectType.LOCATION:
        name = refs.location_ids.get(ident, refs.locations.get(ident, ident))
    url = None
    if kind in OBJECT_PAGES and ident.isdigit():
        endpoint, arg = OBJECT_PAGES[kind]
        values: dict[str, Any] = {arg: int(ident)}
        url = url_for(endpoint, **values)
    return f"{label} {name}", url


def digest_path_label(path: str) -> str:
    """「氏名（変更前）」 for ``changes.name.old_digest``; 「閲覧の目的」 for ``purpose_digest``."""
    parts = path.split(".")
    last = parts[-1]
    if last in ("old_digest", "new_digest", "digest") and len(parts) > 1:
        name = _label(parts[-2])
        if last == "old_digest":
            return str(_("%(field)s（変更前）", field=name))
        if last == "new_digest":
            return str(_("%(field)s（変更後）", field=name))
        return name
    return _label(last)


def _label(key: str) -> str:
    return str(DETAIL_LABELS[key]) if key in DETAIL_LABELS else key


def _value(key: str, value: Any, refs: References, details: Mapping[str, Any]) -> Markup:
    """One detail value, formatted for its key: names for codes, 和暦 for dates, links for
    control numbers, a nested list for a change."""
    if value is None or value == [] or value == {}:
        return Markup("—")
    if key.endswith("_digest") and isinstance(value, str):
        return Markup('<span title="{}">{}</span>').format(value, DIGEST_NOTE)
    if isinstance(value, bool):
        return escape(_("はい") if value else _("いいえ"))
    documents = ("documents", "principal_documents", "documents_added", "documents_removed")
    if key in documents and isinstance(value, list):
        version = details.get("policy_version")
        names = [
            _document(v, version, refs.policies) if isinstance(v, str | dict) else str(v)
            for v in value
        ]
        return escape("、".join(names))
    if key in ("policy_version", "from_version"):
        return escape(policy_title(refs.policies, value))
    if key == "reasons" and isinstance(value, list):
        return Markup("<ul class='plain'>{}</ul>").format(
            Markup("").join(Markup("<li>{}</li>").format(v) for v in value)
        )
    if key == "changes" and isinstance(value, Mapping):
        return _changes(value, refs, details)
    if key in ("before", "after", "from", "to") and isinstance(value, Mapping):
        if set(value) <= {"location", "slot"}:
            place = refs.locations.get(value.get("location") or "", value.get("location") or "")
            return escape(" ".join(str(p) for p in (place, value.get("slot")) if p) or "—")
        return _nested(value, refs, details)
    if key == "cohorts" and isinstance(value, Mapping):
        return escape("、".join(_("%(c)s: %(n)s点", c=c, n=n) for c, n in value.items()))
    if key == "opening_hours" and isinstance(value, Mapping):
        return escape(_hours(value))
    if key == "changed" and isinstance(value, list):
        return escape("、".join(_label(str(v)) for v in value))
    if key == "query_kind" and isinstance(value, str):
        return escape("・".join(str(QUERY_PARTS.get(p, p)) for p in value.split("+")))
    if isinstance(value, list):
        return Markup("、").join(_value(key, v, refs, details) for v in value)
    if isinstance(value, Mapping):
        return _nested(value, refs, details)
    return _scalar(key, value, refs)


def _scalar(key: str, value: Any, refs: References) -> Markup:
    if key == "items" and isinstance(value, int):
        return escape(_("%(n)d点", n=value))
    if not isinstance(value, str):
        return escape(str(value))
    labelled = _coded(key, value)
    if labelled is not None:
        return escape(labelled)
    if key in ("username", "requested_by", "voided_by"):
        return escape(refs.person(value))
    if key == "location":
        return escape(refs.locations.get(value, value))
    if key in _HASHES:  # the start identifies it; the full value is in the raw record
        return Markup('<span class="mono" title="{}">{}…</span>').format(value, value[:16])
    if key == "audit_head" and ":" in value:
        seq, digest = value.split(":", 1)
        return Markup('<span title="{}">{} <span class="mono">{}…</span></span>').format(
            value, _("記録 #%(seq)s", seq=seq), digest[:16]
        )
    if key == "added":
        for pattern, wording in _SEEDED:
            if found := pattern.fullmatch(value):
                return escape(str(wording) % {"x": found.group(1)})
    if _DATETIME.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return escape(value)
        local = to_jst(moment)
        return escape(f"{format_wareki(local.date())} {local:%H:%M}")
    if _DATE.fullmatch(value):
        try:
            return escape(format_wareki(date.fromisoformat(value)))
        except ValueError:
            return escape(value)
    if NUMBER.fullmatch(value):
        return _number_link(value, refs)
    return escape(value)


def _coded(key: str, value: str) -> str | None:
    """The label of a coded value, or None when the value is not a code of that key."""
    if key in ("recipient_kind", "return_reason"):
        known = {c.value for c in (RecipientKind if key == "recipient_kind" else ReturnReason)}
        return code_label(value, key) if value in known else None
    if key in ("register_outcome", "register_source"):
        return code_label(value, key)
    if key == "role":
        return _(Role(value).label_ja) if value in {r.value for r in Role} else None
    if key in VALUE_LABELS and value in VALUE_LABELS[key]:
        return str(VALUE_LABELS[key][value])
    return None


def _number_link(value: str, refs: References) -> Markup:
    """A control, receipt or certificate number, linked to its page."""
    match = NUMBER.fullmatch(value)
    assert match is not None
    url = None
    ident = int(match["id"])
    if match["prefix"] == "E" and match["position"]:
        if value in refs.item_ids:
            url = url_for("counter.item", item_id=refs.item_ids[value])
    elif match["prefix"] == "E":
        url = url_for("custody.envelope", envelope_id=ident)
    elif match["prefix"] == "H":
        url = url_for("counter.handover_detail", handover_id=ident)
    else:
        url = url_for("disposal.batch", batch_id=ident)
    if url is None:
        return Markup('<span class="mono">{}</span>').format(value)
    return Markup('<a class="mono" href="{}">{}</a>').format(url, value)


def _document(value: str | dict[str, Any], version: object, policies: Policies) -> str:
    if isinstance(value, dict):  # a policy change lists whole documents
        name = value.get("name") or value.get("code", "")
        return f"{name}（{value['group']}群）" if value.get("group") else str(name)
    return policies.document(version, value)


def _changes(value: Mapping[str, Any], refs: References, details: Mapping[str, Any]) -> Markup:
    """``{field: [before, after]}`` as 「field: before → after」 lines; a field whose values
    the log does not hold (issue 16) as 「field: 変更（照合用ダイジェストあり）」."""
    rows = []
    for name, change in value.items():
        if change is None:
            shown = escape(CHANGED)
        elif digests.is_digest(change) and isinstance(change, Mapping):
            shown = escape(CHANGED_WITH_DIGEST)
        elif isinstance(change, list) and len(change) == 2:
            shown = Markup(" → ").join(_value(name, v, refs, details) for v in change)
        else:
            shown = _value(name, change, refs, details)
        rows.append(Markup("<dt>{}</dt><dd>{}</dd>").format(_label(name), shown))
    return Markup('<dl class="facts nested">{}</dl>').format(Markup("").join(rows))


def _nested(value: Mapping[str, Any], refs: References, details: Mapping[str, Any]) -> Markup:
    rows = [
        Markup("<dt>{}</dt><dd>{}</dd>").format(_label(k), _value(k, v, refs, details))
        for k, v in value.items()
    ]
    return Markup('<dl class="facts nested">{}</dl>').format(Markup("").join(rows))


def _hours(value: Mapping[str, Any]) -> str:
    parts = []
    for day, span in sorted(value.items(), key=lambda kv: int(kv[0])):
        if isinstance(span, list) and len(span) == 2 and str(day).isdigit() and int(day) < 7:
            parts.append(f"{WEEKDAYS[int(day)]} {span[0]}–{span[1]}")
    return "、".join(parts) or _("なし")


#: The detail shown beside an event's label in an item's history (the rest is in the log).
SENTENCE_KEYS = (
    "receipt_no",
    "certificate_no",
    "recipient_kind",
    "documents",
    "location",
    # re-mailing (issue 13): the new number, when it went out, and the envelope it came back in
    "tracking_no",
    "mailed_on",
    "envelope",
    "returned_on",
)


#: Contact-log events (issue 15) say in an item's history what kind of contact it was and when.
CONTACT_ACTIONS = frozenset({AuditAction.CONTACT_RECORD.value, AuditAction.NOTICE_RETURN.value})
CONTACT_SENTENCE_KEYS = ("kind", "occurred_at", "batch_no")


def _sentence(event: AuditEvent, details: Mapping[str, Any], refs: References) -> str:
    """The event in words, for an item's history."""
    reasons = details.get("reasons")
    if event.action == AuditAction.HANDOVER_REFUSED and isinstance(reasons, list) and reasons:
        return str(_("交付を拒否: %(reasons)s", reasons="／".join(str(r) for r in reasons)))
    text = action_label(event.action)
    parts = []
    keys: tuple[str, ...] = SENTENCE_KEYS
    if event.action in CONTACT_ACTIONS:  # issue 15: the kind and when, never the note
        keys = CONTACT_SENTENCE_KEYS + SENTENCE_KEYS
    for key in keys:
        if details.get(key):
            parts.append(f"{_label(key)} {_plain(_value(key, details[key], refs, details))}")
    reason = details.get("reason")
    if isinstance(reason, str) and reason:
        parts.append(f"{_label('reason')} {_plain(_scalar('reason', reason, refs))}")
    if parts:
        text = _("%(what)s（%(details)s）", what=text, details="、".join(parts))
    if event.outcome != Outcome.OK:
        text = _("%(what)s: %(outcome)s", what=text, outcome=code_label(event.outcome, "outcome"))
    return text


def _plain(markup: Markup) -> str:
    return markup.striptags()


#: The areas of the audit actions (the part before the dot), for the action filter.
AREAS: dict[str, Any] = {
    "auth": _l("ログイン・ログアウト"),
    "user": _l("ユーザー管理"),
    "settings": _l("設定"),
    "location": _l("保管場所"),
    "system": _l("システム"),
    "envelope": _l("返戻郵便"),
    "label": _l("ラベル"),
    "import": _l("一括取込"),
    "item": _l("通知物"),
    "handover": _l("交付"),
    "receipt": _l("受領書"),
    "identity_policy": _l("本人確認基準"),
    "rule": _l("廃棄基準"),
    "hold": _l("保留"),
    "retention": _l("保管期限"),
    "disposal": _l("廃棄"),
    "certificate": _l("廃棄証明書"),
    "audit": _l("監査ログ"),
    "register": _l("住基照合"),
    "remail": _l("再送付"),
    "stock_check": _l("棚卸"),
    "protection": _l("支援措置"),
    "loss_report": _l("紛失報告書"),
    "contact": _l("接触記録"),
    "notice": _l("お知らせ"),
    "pickup": _l("受取予約枠"),
    "reservation": _l("受取予約"),
    "purge": _l("保存期間経過データの消去"),
    "access_request": _l("開示請求"),
    "job": _l("バックグラウンド処理"),
}


@dataclass(frozen=True)
class ActionGroup:
    """One ``<optgroup>`` of the action filter: the whole area (a prefix) and its actions."""

    label: str
    prefix: str
    actions: list[tuple[str, str]]


def action_groups() -> list[ActionGroup]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for action in AuditAction:
        groups.setdefault(action.value.split(".")[0], []).append(
            (action.value, action_label(action))
        )
    return [
        ActionGroup(str(AREAS.get(area, area)), f"{area}.", actions)
        for area, actions in groups.items()
    ]
