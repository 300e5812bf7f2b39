"""Code lists of the SPEC, shared by models, forms, templates and import (no Flask, no
database): every status, outcome and method the product stores, with its Japanese label.

CHECK constraints are built from these enums (:func:`sql_in`); the web layer shows a code with
``{{ value | label("batch_status") }}``, which translates the label (English UI). Labels are
Japanese msgids marked with :func:`_l` so that scripts/i18n extracts them.

Glossary: 窓口担当 clerk · 記録管理担当 records officer · 監査担当 auditor · システム管理者 admin ·
保管中 in custody · 交付済 handed over · 廃棄済 destroyed · 通知カード notification card ·
個人番号通知書 individual-number notice · 還付事由 return reason.
"""

from __future__ import annotations

from enum import StrEnum


def _l(message: str) -> str:
    """Mark a label for the translation catalogue; it is translated where it is shown."""
    return message


class Role(StrEnum):
    """SPEC §1."""

    CLERK = "clerk"
    RECORDS_OFFICER = "records_officer"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @property
    def label_ja(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.CLERK: "窓口担当",
    Role.RECORDS_OFFICER: "記録管理担当",
    Role.AUDITOR: "監査担当",
    Role.ADMIN: "システム管理者",
}


class ItemStatus(StrEnum):
    """SPEC §2 (issue 13): the moves between them are :mod:`tracker.domain.lifecycle`."""

    IN_CUSTODY = "in_custody"
    HANDED_OVER = "handed_over"
    REMAILED = "remailed"
    REDELIVERED = "redelivered"
    DESTROYED = "destroyed"
    LOST = "lost"

    @property
    def label(self) -> str:
        return ITEM_STATUS_LABELS[self]


ITEM_STATUS_LABELS: dict[ItemStatus, str] = {
    ItemStatus.IN_CUSTODY: _l("保管中"),
    ItemStatus.HANDED_OVER: _l("交付済"),
    ItemStatus.REMAILED: _l("再送付中"),
    ItemStatus.REDELIVERED: _l("再送付済"),
    ItemStatus.DESTROYED: _l("廃棄済"),
    ItemStatus.LOST: _l("紛失"),
}


class ItemAction(StrEnum):
    """What moves an item from one status to another (issue 13, SPEC §2)."""

    HAND_OVER = "hand_over"
    VOID_HANDOVER = "void_handover"
    REMAIL = "remail"
    RETURN_REMAILED = "return_remailed"
    CLOSE_REMAILED = "close_remailed"
    DESTROY = "destroy"
    CONFIRM_LOST = "confirm_lost"
    FIND = "find"

    @property
    def label(self) -> str:
        return ITEM_ACTION_LABELS[self]


ITEM_ACTION_LABELS: dict[ItemAction, str] = {
    ItemAction.HAND_OVER: _l("交付"),
    ItemAction.VOID_HANDOVER: _l("交付取消"),
    ItemAction.REMAIL: _l("再送付"),
    ItemAction.RETURN_REMAILED: _l("再送付分の返戻"),
    ItemAction.CLOSE_REMAILED: _l("再送付の完了"),
    ItemAction.DESTROY: _l("廃棄"),
    ItemAction.CONFIRM_LOST: _l("紛失の確定"),
    ItemAction.FIND: _l("発見"),
}


class RegisterOutcome(StrEnum):
    """住基照合の異動区分 (SPEC §2, §7.1): what the resident register says of the addressee."""

    RESIDENT = "resident"
    MOVED_WITHIN = "moved_within"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"
    STRUCK_OFF = "struck_off"
    EMIGRATED = "emigrated"

    @property
    def label(self) -> str:
        return REGISTER_OUTCOME_LABELS[self]

    @property
    def label_ja(self) -> str:
        """The Japanese label, untranslated: the CSV value (SPEC §7.1) and paper."""
        return REGISTER_OUTCOME_LABELS[self]


REGISTER_OUTCOME_LABELS: dict[RegisterOutcome, str] = {
    RegisterOutcome.RESIDENT: _l("現住"),
    RegisterOutcome.MOVED_WITHIN: _l("市内転居"),
    RegisterOutcome.MOVED_OUT: _l("転出"),
    RegisterOutcome.DECEASED: _l("死亡"),
    RegisterOutcome.STRUCK_OFF: _l("職権消除"),
    RegisterOutcome.EMIGRATED: _l("国外転出"),
}


class RegisterSource(StrEnum):
    """Where a resident-register result came from."""

    COUNTER = "counter"
    FILE = "file"

    @property
    def label(self) -> str:
        return REGISTER_SOURCE_LABELS[self]


REGISTER_SOURCE_LABELS: dict[RegisterSource, str] = {
    RegisterSource.COUNTER: _l("画面入力"),
    RegisterSource.FILE: _l("ファイル取込"),
}


class HoldKind(StrEnum):
    """A hold's kind: an officer's 保留, or 所在調査中 placed by a stock check (issue 13)."""

    GENERAL = "general"
    INVESTIGATION = "investigation"

    @property
    def label(self) -> str:
        return HOLD_KIND_LABELS[self]


HOLD_KIND_LABELS: dict[HoldKind, str] = {
    HoldKind.GENERAL: _l("保留"),
    HoldKind.INVESTIGATION: _l("所在調査中"),
}


class RemailAddressKind(StrEnum):
    """Where a card is mailed again (再送付先)."""

    REGISTERED = "registered"
    RESIDENCE = "residence"
    FORWARDING = "forwarding"

    @property
    def label(self) -> str:
        return REMAIL_ADDRESS_KIND_LABELS[self]


REMAIL_ADDRESS_KIND_LABELS: dict[RemailAddressKind, str] = {
    RemailAddressKind.REGISTERED: _l("住民票住所"),
    RemailAddressKind.RESIDENCE: _l("居所"),
    RemailAddressKind.FORWARDING: _l("転居先"),
}


class RemailStatus(StrEnum):
    """A re-mailing: requested → mailed → returned (came back) | delivered (closed)."""

    REQUESTED = "requested"
    MAILED = "mailed"
    RETURNED = "returned"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return REMAIL_STATUS_LABELS[self]


REMAIL_STATUS_LABELS: dict[RemailStatus, str] = {
    RemailStatus.REQUESTED: _l("依頼受付"),
    RemailStatus.MAILED: _l("再送付中"),
    RemailStatus.RETURNED: _l("再返戻"),
    RemailStatus.DELIVERED: _l("再送付済"),
    RemailStatus.CANCELLED: _l("取消"),
}


class StockCheckStatus(StrEnum):
    """A stock check (棚卸): open → closed (by one person) → signed off (by another)."""

    OPEN = "open"
    CLOSED = "closed"
    SIGNED_OFF = "signed_off"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return STOCK_CHECK_STATUS_LABELS[self]


STOCK_CHECK_STATUS_LABELS: dict[StockCheckStatus, str] = {
    StockCheckStatus.OPEN: _l("実施中"),
    StockCheckStatus.CLOSED: _l("確認待ち"),
    StockCheckStatus.SIGNED_OFF: _l("完了"),
    StockCheckStatus.CANCELLED: _l("取消"),
}


class StockCheckOutcome(StrEnum):
    """What a stock check found for one envelope."""

    FOUND = "found"
    FOUND_ELSEWHERE = "found_elsewhere"
    MISSING = "missing"
    UNEXPECTED = "unexpected"

    @property
    def label(self) -> str:
        return STOCK_CHECK_OUTCOME_LABELS[self]


STOCK_CHECK_OUTCOME_LABELS: dict[StockCheckOutcome, str] = {
    StockCheckOutcome.FOUND: _l("所在確認"),
    StockCheckOutcome.FOUND_ELSEWHERE: _l("他の場所で発見"),
    StockCheckOutcome.MISSING: _l("所在不明"),
    StockCheckOutcome.UNEXPECTED: _l("台帳外"),
}


class ContactKind(StrEnum):
    """A contact with the person a card is for (接触記録, issue 15). The log records that a call
    came or a letter went, never what was said about the card (status is not told by phone)."""

    PHONE = "phone"
    VISIT = "visit"
    HOME_VISIT = "home_visit"
    NOTICE_MAIL = "notice_mail"
    NOTICE_RETURNED = "notice_returned"
    OTHER = "other"

    @property
    def label(self) -> str:
        return CONTACT_KIND_LABELS[self]


CONTACT_KIND_LABELS: dict[ContactKind, str] = {
    ContactKind.PHONE: _l("電話"),
    ContactKind.VISIT: _l("来庁"),
    ContactKind.HOME_VISIT: _l("訪問"),
    ContactKind.NOTICE_MAIL: _l("郵送のお知らせ"),
    ContactKind.NOTICE_RETURNED: _l("お知らせの返戻"),
    ContactKind.OTHER: _l("その他"),
}
#: The kinds a person records by hand; the other two are written by the notice service.
MANUAL_CONTACT_KINDS = (
    ContactKind.PHONE,
    ContactKind.VISIT,
    ContactKind.HOME_VISIT,
    ContactKind.OTHER,
)


class NoticeMethod(StrEnum):
    """How a notice (お知らせ) was mailed."""

    ORDINARY = "ordinary"
    SIMPLE_REGISTERED = "simple_registered"

    @property
    def label(self) -> str:
        return NOTICE_METHOD_LABELS[self]


NOTICE_METHOD_LABELS: dict[NoticeMethod, str] = {
    NoticeMethod.ORDINARY: _l("普通郵便"),
    NoticeMethod.SIMPLE_REGISTERED: _l("簡易書留"),
}


class ReservationStatus(StrEnum):
    """A pickup reservation (受取予約): booked → attended (handed over from 本日の予約) |
    cancelled (frees the place) | no_show (the place stays used)."""

    BOOKED = "booked"
    ATTENDED = "attended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return RESERVATION_STATUS_LABELS[self]


RESERVATION_STATUS_LABELS: dict[ReservationStatus, str] = {
    ReservationStatus.BOOKED: _l("予約中"),
    ReservationStatus.ATTENDED: _l("来庁済"),
    ReservationStatus.CANCELLED: _l("取消"),
    ReservationStatus.NO_SHOW: _l("不来庁"),
}


class AccessRequestStatus(StrEnum):
    """An access request (開示請求, issue 16): pending_approval (a protected person's: a second
    records officer approves) → ready → exported (exports may be repeated, each audited);
    cancelled before it was exported."""

    PENDING_APPROVAL = "pending_approval"
    READY = "ready"
    EXPORTED = "exported"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return ACCESS_REQUEST_STATUS_LABELS[self]


ACCESS_REQUEST_STATUS_LABELS: dict[AccessRequestStatus, str] = {
    AccessRequestStatus.PENDING_APPROVAL: _l("承認待ち"),
    AccessRequestStatus.READY: _l("出力可"),
    AccessRequestStatus.EXPORTED: _l("出力済"),
    AccessRequestStatus.CANCELLED: _l("取消"),
}


class ItemKind(StrEnum):
    """SPEC §2: the notification card was replaced by the notice on 2020-05-25."""

    NOTIFICATION_CARD = "notification_card"
    NUMBER_NOTICE = "number_notice"
    #: 未受領のマイナンバーカード: a card applied for and never collected (issue 14).
    MYNUMBER_CARD = "mynumber_card"


class ReturnReason(StrEnum):
    """SPEC §6.4 return reasons (還付事由)."""

    ATESHO_NASHI = "ATESHO_NASHI"
    ATENA_FUKANZEN = "ATENA_FUKANZEN"
    TENKYO_FUMEI = "TENKYO_FUMEI"
    HOKAN_KEIKA = "HOKAN_KEIKA"
    UKETORI_KYOZETSU = "UKETORI_KYOZETSU"
    OTHER = "OTHER"

    @property
    def label(self) -> str:
        return RETURN_REASON_LABELS[self]


RETURN_REASON_LABELS: dict[ReturnReason, str] = {
    ReturnReason.ATESHO_NASHI: _l("あて所に尋ねあたりません"),
    ReturnReason.ATENA_FUKANZEN: _l("あて名不完全"),
    ReturnReason.TENKYO_FUMEI: _l("転居先不明"),
    ReturnReason.HOKAN_KEIKA: _l("保管期間経過"),
    ReturnReason.UKETORI_KYOZETSU: _l("受取拒絶"),
    ReturnReason.OTHER: _l("その他"),
}


class RuleKind(StrEnum):
    """SPEC §3 retention rule kinds."""

    FIXED = "fixed"
    FISCAL_YEAR = "fiscal_year"
    MONTHS_AFTER = "months_after"
    PERIOD_FROM = "period_from"
    #: Two or more sub-rules; the latest retain-until wins (issue 14).
    LATER_OF = "later_of"


class RuleAnchor(StrEnum):
    """What a ``period_from`` rule counts from (SPEC §3); more anchors come with issue 14."""

    RETURNED_ON = "returned_on"
    REGISTER_EVENT_ON = "register_event_on"
    #: Event dates on the item (issue 14): a notice sent (お知らせ), the 交付通知書 and its 再通知.
    NOTICE_SENT_ON = "notice_sent_on"
    FIRST_NOTICE_ON = "first_notice_on"
    RENOTICE_ON = "renotice_on"


class PeriodUnit(StrEnum):
    """The unit of a ``period_from`` rule's period (SPEC §3, 民法 140–143)."""

    DAYS = "days"
    MONTHS = "months"
    YEARS = "years"


class RecipientKind(StrEnum):
    """SPEC §4: who may collect an item."""

    SELF = "self"
    HOUSEHOLD = "household"
    PROXY = "proxy"
    LEGAL_REP = "legal_rep"

    @property
    def label(self) -> str:
        return RECIPIENT_KIND_LABELS[self]

    @property
    def label_ja(self) -> str:
        """The Japanese label, untranslated: for paper (receipts) and the audit log."""
        return RECIPIENT_KIND_LABELS[self]


RECIPIENT_KIND_LABELS: dict[RecipientKind, str] = {
    RecipientKind.SELF: _l("本人"),
    RecipientKind.HOUSEHOLD: _l("同一世帯員"),
    RecipientKind.PROXY: _l("任意代理人"),
    RecipientKind.LEGAL_REP: _l("法定代理人"),
}


class BatchStatus(StrEnum):
    """SPEC §5: created → approved (another officer) → executed; cancelled before execution."""

    CREATED = "created"
    APPROVED = "approved"
    EXECUTED = "executed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return BATCH_STATUS_LABELS[self]

    @classmethod
    def open(cls) -> tuple[BatchStatus, ...]:
        """Not executed and not cancelled: still to be approved or executed."""
        return (cls.CREATED, cls.APPROVED)


BATCH_STATUS_LABELS: dict[BatchStatus, str] = {
    BatchStatus.CREATED: _l("作成済（承認待ち）"),
    BatchStatus.APPROVED: _l("承認済（廃棄待ち）"),
    BatchStatus.EXECUTED: _l("廃棄済"),
    BatchStatus.CANCELLED: _l("取消"),
}


class BatchItemOutcome(StrEnum):
    """What execution did with an item of a batch (SPEC §5: re-checked, destroyed or skipped)."""

    PENDING = "pending"
    DESTROYED = "destroyed"
    SKIPPED = "skipped"
    #: Taken out of an approved batch by a records officer, with a reason (issue 13).
    EXCLUDED = "excluded"

    @property
    def label(self) -> str:
        return BATCH_ITEM_OUTCOME_LABELS[self]


BATCH_ITEM_OUTCOME_LABELS: dict[BatchItemOutcome, str] = {
    BatchItemOutcome.PENDING: _l("未実行"),
    BatchItemOutcome.DESTROYED: _l("廃棄済"),
    BatchItemOutcome.SKIPPED: _l("除外"),
    BatchItemOutcome.EXCLUDED: _l("除外（承認後）"),
}


class DestructionMethod(StrEnum):
    """SPEC §5: 裁断 / 溶解 / 焼却. The certificate prints the Japanese label."""

    SHREDDING = "shredding"
    PULPING = "pulping"
    INCINERATION = "incineration"

    @property
    def label(self) -> str:
        return DESTRUCTION_METHOD_LABELS[self]


DESTRUCTION_METHOD_LABELS: dict[DestructionMethod, str] = {
    DestructionMethod.SHREDDING: _l("裁断"),
    DestructionMethod.PULPING: _l("溶解"),
    DestructionMethod.INCINERATION: _l("焼却"),
}


class Outcome(StrEnum):
    """An audit event's outcome (SPEC §8)."""

    OK = "ok"
    REFUSED = "refused"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.OK: _l("成功"),
    Outcome.REFUSED: _l("拒否"),
    Outcome.FAILED: _l("失敗"),
}


class JobKind(StrEnum):
    """Work run by ``tracker worker`` instead of inside a web request (issue 17)."""

    IMPORT = "import"
    REGISTER_CHECK = "register_check"
    NOTICES = "notices"
    PURGE = "purge"

    @property
    def label(self) -> str:
        return JOB_KIND_LABELS[self]


JOB_KIND_LABELS: dict[JobKind, str] = {
    JobKind.IMPORT: _l("一括取込"),
    JobKind.REGISTER_CHECK: _l("住基照合結果の取込"),
    JobKind.NOTICES: _l("お知らせの作成"),
    JobKind.PURGE: _l("保存期間経過データの消去"),
}


class JobState(StrEnum):
    """queued → running → succeeded | failed; a queued job may also fail (never started)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return JOB_STATE_LABELS[self]

    @classmethod
    def finished(cls) -> tuple[JobState, ...]:
        return (cls.SUCCEEDED, cls.FAILED)


JOB_STATE_LABELS: dict[JobState, str] = {
    JobState.QUEUED: _l("待機中"),
    JobState.RUNNING: _l("処理中"),
    JobState.SUCCEEDED: _l("完了"),
    JobState.FAILED: _l("失敗"),
}


class AuditAction(StrEnum):
    """Every kind of audit event (SPEC §8), by area: what was done, never to whom."""

    AUTH_LOGIN = "auth.login"
    AUTH_LOGIN_FAILED = "auth.login_failed"
    AUTH_LOCKOUT = "auth.lockout"
    AUTH_LOGOUT = "auth.logout"
    AUTH_SESSION_EXPIRED = "auth.session_expired"
    AUTH_PASSWORD_REENTERED = "auth.password_reentered"  # noqa: S105 — an event name
    USER_CREATE = "user.create"
    USER_ACTIVATE = "user.activate"
    USER_DEACTIVATE = "user.deactivate"
    USER_PASSWORD_CHANGE = "user.password_change"  # noqa: S105 — an event name
    USER_UNLOCK = "user.unlock"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 — an event name
    USER_ROLE_CHANGE = "user.role_change"
    SETTINGS_CHANGE = "settings.change"
    LOCATION_CREATE = "location.create"
    LOCATION_CHANGE = "location.change"
    LOCATION_RETIRE = "location.retire"
    SYSTEM_SEED = "system.seed"
    ENVELOPE_INTAKE = "envelope.intake"
    ENVELOPE_VIEW = "envelope.view"
    ENVELOPE_EDIT = "envelope.edit"
    ENVELOPE_MOVE = "envelope.move"
    LABEL_PRINT = "label.print"
    IMPORT_COMMIT = "import.commit"
    IMPORT_REFUSED = "import.refused"
    ITEM_SEARCH = "item.search"
    ITEM_VIEW = "item.view"
    ITEM_EDIT = "item.edit"
    ITEM_HISTORY_VIEW = "item.history_view"
    HANDOVER_FORM = "handover.form"
    HANDOVER_CREATE = "handover.create"
    HANDOVER_REFUSED = "handover.refused"
    HANDOVER_VIEW = "handover.view"
    HANDOVER_REVIEW = "handover.review"
    HANDOVER_EXPORT = "handover.export"
    HANDOVER_VOID_REQUEST = "handover.void_request"
    HANDOVER_VOID = "handover.void"
    RECEIPT_PRINT = "receipt.print"
    RECEIPT_REPRINT = "receipt.reprint"
    IDENTITY_POLICY_CHANGE = "identity_policy.change"
    RULE_CREATE = "rule.create"
    RULE_CHANGE = "rule.change"
    HOLD_PLACE = "hold.place"
    HOLD_RELEASE = "hold.release"
    RETENTION_EXTEND = "retention.extend"
    DISPOSAL_LIST_VIEW = "disposal.list_view"
    DISPOSAL_LIST_EXPORT = "disposal.list_export"
    DISPOSAL_CREATE = "disposal.create"
    DISPOSAL_APPROVE = "disposal.approve"
    DISPOSAL_CANCEL = "disposal.cancel"
    DISPOSAL_EXECUTE = "disposal.execute"
    CERTIFICATE_PRINT = "certificate.print"
    CERTIFICATE_VERIFY = "certificate.verify"
    DISPOSAL_EXCLUDE = "disposal.exclude"
    AUDIT_VERIFY = "audit.verify"
    AUDIT_EXPORT = "audit.export"
    AUDIT_DIGEST_CHECK = "audit.digest_check"
    PROTECTION_PLACE = "protection.place"
    PROTECTION_RELEASE = "protection.release"
    PROTECTION_CHANGE = "protection.change"
    REGISTER_RECORD = "register.record"
    REGISTER_IMPORT = "register.import"
    REGISTER_IMPORT_REFUSED = "register.import_refused"
    INVESTIGATION_LIST_EXPORT = "register.investigation_export"
    REMAIL_REQUEST = "remail.request"
    REMAIL_MAIL = "remail.mail"
    REMAIL_CANCEL = "remail.cancel"
    REMAIL_RETURN = "remail.return"
    REMAIL_CLOSE = "remail.close"
    REMAIL_LIST_EXPORT = "remail.list_export"
    STOCK_CHECK_START = "stock_check.start"
    STOCK_CHECK_SCAN = "stock_check.scan"
    STOCK_CHECK_CLOSE = "stock_check.close"
    STOCK_CHECK_SIGN_OFF = "stock_check.sign_off"
    STOCK_CHECK_CANCEL = "stock_check.cancel"
    STOCK_CHECK_PRINT = "stock_check.print"
    ITEM_FOUND = "item.found"
    ITEM_LOST = "item.lost"
    LOSS_REPORT_PRINT = "loss_report.print"
    INVESTIGATION_LIST_VIEW = "register.investigation_view"
    CONTACT_RECORD = "contact.record"
    NOTICE_TEMPLATE_CHANGE = "notice.template_change"
    NOTICE_SEND = "notice.send"
    NOTICE_PRINT = "notice.print"
    NOTICE_LIST_EXPORT = "notice.list_export"
    NOTICE_PREVIEW = "notice.preview"
    NOTICE_RETURN = "notice.return"
    REGISTER_REQUEST_EXPORT = "register.request_export"
    REGISTER_REQUEST_VIEW = "register.request_view"
    PICKUP_DAY_OPEN = "pickup.day_open"
    PICKUP_DAY_CHANGE = "pickup.day_change"
    PICKUP_DAY_CLOSE = "pickup.day_close"
    PICKUP_SLOTS_IMPORT = "pickup.slots_import"
    RESERVATION_CREATE = "reservation.create"
    RESERVATION_VIEW = "reservation.view"
    RESERVATION_CANCEL = "reservation.cancel"
    RESERVATION_NO_SHOW = "reservation.no_show"
    RESERVATION_ATTEND = "reservation.attend"
    PURGE_RUN = "purge.run"
    ACCESS_REQUEST_CREATE = "access_request.create"
    ACCESS_REQUEST_VIEW = "access_request.view"
    ACCESS_REQUEST_APPROVE = "access_request.approve"
    ACCESS_REQUEST_EXPORT = "access_request.export"
    ACCESS_REQUEST_CANCEL = "access_request.cancel"
    RECORD_RETENTION_CHANGE = "settings.record_retention"
    SYSTEM_BACKUP = "system.backup"
    SYSTEM_RESTORE = "system.restore"
    SYSTEM_APP_ROLE = "system.app_role"
    JOB_QUEUE = "job.queue"
    JOB_FAIL = "job.fail"
    JOB_VIEW = "job.view"

    @property
    def label(self) -> str:
        return AUDIT_ACTION_LABELS[self]


AUDIT_ACTION_LABELS: dict[AuditAction, str] = {
    AuditAction.AUTH_LOGIN: _l("ログイン"),
    AuditAction.AUTH_LOGIN_FAILED: _l("ログイン失敗"),
    AuditAction.AUTH_LOCKOUT: _l("ロック"),
    AuditAction.AUTH_LOGOUT: _l("ログアウト"),
    AuditAction.AUTH_SESSION_EXPIRED: _l("セッション終了"),
    AuditAction.AUTH_PASSWORD_REENTERED: _l("パスワード再入力"),
    AuditAction.USER_CREATE: _l("ユーザー作成"),
    AuditAction.USER_ACTIVATE: _l("ユーザー有効化"),
    AuditAction.USER_DEACTIVATE: _l("ユーザー無効化"),
    AuditAction.USER_PASSWORD_CHANGE: _l("パスワード変更"),
    AuditAction.USER_UNLOCK: _l("ロック解除"),
    AuditAction.USER_PASSWORD_RESET: _l("パスワードの再設定"),
    AuditAction.USER_ROLE_CHANGE: _l("役割の変更"),
    AuditAction.SETTINGS_CHANGE: _l("設定の変更"),
    AuditAction.LOCATION_CREATE: _l("保管場所の追加"),
    AuditAction.LOCATION_CHANGE: _l("保管場所の変更"),
    AuditAction.LOCATION_RETIRE: _l("保管場所の廃止"),
    AuditAction.SYSTEM_SEED: _l("初期データ登録"),
    AuditAction.ENVELOPE_INTAKE: _l("返戻郵便の受付"),
    AuditAction.ENVELOPE_VIEW: _l("返戻郵便の閲覧"),
    AuditAction.ENVELOPE_EDIT: _l("返戻郵便の修正"),
    AuditAction.ENVELOPE_MOVE: _l("保管位置の変更"),
    AuditAction.LABEL_PRINT: _l("ラベル印刷"),
    AuditAction.IMPORT_COMMIT: _l("一括取込"),
    AuditAction.IMPORT_REFUSED: _l("一括取込の拒否"),
    AuditAction.ITEM_SEARCH: _l("通知物の検索"),
    AuditAction.ITEM_VIEW: _l("通知物の閲覧"),
    AuditAction.ITEM_EDIT: _l("通知物の修正"),
    AuditAction.ITEM_HISTORY_VIEW: _l("通知物の履歴の閲覧"),
    AuditAction.HANDOVER_FORM: _l("交付画面の表示"),
    AuditAction.HANDOVER_CREATE: _l("交付"),
    AuditAction.HANDOVER_REFUSED: _l("交付の拒否"),
    AuditAction.HANDOVER_VIEW: _l("交付記録の閲覧"),
    AuditAction.HANDOVER_REVIEW: _l("交付記録の点検"),
    AuditAction.HANDOVER_EXPORT: _l("交付記録の出力"),
    AuditAction.HANDOVER_VOID_REQUEST: _l("交付取消の依頼"),
    AuditAction.HANDOVER_VOID: _l("交付取消"),
    AuditAction.RECEIPT_PRINT: _l("受領書の印刷"),
    AuditAction.RECEIPT_REPRINT: _l("受領書の再発行"),
    AuditAction.IDENTITY_POLICY_CHANGE: _l("本人確認基準の変更"),
    AuditAction.RULE_CREATE: _l("廃棄基準の作成"),
    AuditAction.RULE_CHANGE: _l("廃棄基準の変更"),
    AuditAction.HOLD_PLACE: _l("保留"),
    AuditAction.HOLD_RELEASE: _l("保留の解除"),
    AuditAction.RETENTION_EXTEND: _l("保管期限の延長"),
    AuditAction.DISPOSAL_LIST_VIEW: _l("廃棄対象一覧の閲覧"),
    AuditAction.DISPOSAL_LIST_EXPORT: _l("廃棄対象一覧の出力"),
    AuditAction.DISPOSAL_CREATE: _l("廃棄処理の作成"),
    AuditAction.DISPOSAL_APPROVE: _l("廃棄処理の承認"),
    AuditAction.DISPOSAL_CANCEL: _l("廃棄処理の取消"),
    AuditAction.DISPOSAL_EXECUTE: _l("廃棄の実行"),
    AuditAction.CERTIFICATE_PRINT: _l("廃棄証明書の印刷"),
    AuditAction.CERTIFICATE_VERIFY: _l("廃棄証明書の照合"),
    AuditAction.DISPOSAL_EXCLUDE: _l("廃棄処理からの除外"),
    AuditAction.AUDIT_VERIFY: _l("監査ログの検証"),
    AuditAction.AUDIT_EXPORT: _l("監査ログの出力"),
    AuditAction.AUDIT_DIGEST_CHECK: _l("ダイジェストの照合"),
    AuditAction.PROTECTION_PLACE: _l("支援措置の設定"),
    AuditAction.PROTECTION_RELEASE: _l("支援措置の解除"),
    AuditAction.PROTECTION_CHANGE: _l("支援措置の変更"),
    AuditAction.REGISTER_RECORD: _l("住基照合結果の登録"),
    AuditAction.REGISTER_IMPORT: _l("住基照合結果の一括取込"),
    AuditAction.REGISTER_IMPORT_REFUSED: _l("住基照合結果の取込の拒否"),
    AuditAction.INVESTIGATION_LIST_EXPORT: _l("実態調査依頼一覧の出力"),
    AuditAction.REMAIL_REQUEST: _l("再送付の依頼"),
    AuditAction.REMAIL_MAIL: _l("再送付"),
    AuditAction.REMAIL_CANCEL: _l("再送付の取消"),
    AuditAction.REMAIL_RETURN: _l("再送付分の返戻"),
    AuditAction.REMAIL_CLOSE: _l("再送付の完了"),
    AuditAction.REMAIL_LIST_EXPORT: _l("再送付差出票の出力"),
    AuditAction.STOCK_CHECK_START: _l("棚卸の開始"),
    AuditAction.STOCK_CHECK_SCAN: _l("棚卸の読取"),
    AuditAction.STOCK_CHECK_CLOSE: _l("棚卸の締め"),
    AuditAction.STOCK_CHECK_SIGN_OFF: _l("棚卸の確認"),
    AuditAction.STOCK_CHECK_CANCEL: _l("棚卸の取消"),
    AuditAction.STOCK_CHECK_PRINT: _l("棚卸記録の印刷"),
    AuditAction.ITEM_FOUND: _l("通知物の発見"),
    AuditAction.ITEM_LOST: _l("紛失の確定"),
    AuditAction.LOSS_REPORT_PRINT: _l("紛失報告書の印刷"),
    AuditAction.INVESTIGATION_LIST_VIEW: _l("実態調査依頼一覧の閲覧"),
    AuditAction.CONTACT_RECORD: _l("接触記録"),
    AuditAction.NOTICE_TEMPLATE_CHANGE: _l("お知らせ文面の変更"),
    AuditAction.NOTICE_SEND: _l("お知らせの発送"),
    AuditAction.NOTICE_PRINT: _l("お知らせの印刷"),
    AuditAction.NOTICE_LIST_EXPORT: _l("お知らせ発送リストの出力"),
    AuditAction.NOTICE_PREVIEW: _l("お知らせの確認"),
    AuditAction.NOTICE_RETURN: _l("お知らせの返戻"),
    AuditAction.REGISTER_REQUEST_EXPORT: _l("住基照合依頼一覧の出力"),
    AuditAction.REGISTER_REQUEST_VIEW: _l("住基照合依頼一覧の閲覧"),
    AuditAction.PICKUP_DAY_OPEN: _l("受取予約日の設定"),
    AuditAction.PICKUP_DAY_CHANGE: _l("受取予約枠の変更"),
    AuditAction.PICKUP_DAY_CLOSE: _l("受取予約日の取消"),
    AuditAction.PICKUP_SLOTS_IMPORT: _l("受取予約枠の一括取込"),
    AuditAction.RESERVATION_CREATE: _l("受取予約"),
    AuditAction.RESERVATION_VIEW: _l("受取予約の閲覧"),
    AuditAction.RESERVATION_CANCEL: _l("受取予約の取消"),
    AuditAction.RESERVATION_NO_SHOW: _l("受取予約の不来庁"),
    AuditAction.RESERVATION_ATTEND: _l("受取予約の来庁"),
    AuditAction.PURGE_RUN: _l("保存期間経過データの消去"),
    AuditAction.ACCESS_REQUEST_CREATE: _l("開示請求の受付"),
    AuditAction.ACCESS_REQUEST_VIEW: _l("開示請求の閲覧"),
    AuditAction.ACCESS_REQUEST_APPROVE: _l("開示請求の承認"),
    AuditAction.ACCESS_REQUEST_EXPORT: _l("開示請求の出力"),
    AuditAction.ACCESS_REQUEST_CANCEL: _l("開示請求の取消"),
    AuditAction.RECORD_RETENTION_CHANGE: _l("記録の保存期間の変更"),
    AuditAction.SYSTEM_BACKUP: _l("バックアップ"),
    AuditAction.SYSTEM_RESTORE: _l("バックアップからの復元"),
    AuditAction.SYSTEM_APP_ROLE: _l("アプリ用データベースロールの設定"),
    AuditAction.JOB_QUEUE: _l("バックグラウンド処理の受付"),
    AuditAction.JOB_FAIL: _l("バックグラウンド処理の失敗"),
    AuditAction.JOB_VIEW: _l("バックグラウンド処理の結果の閲覧"),
}


class ObjectType(StrEnum):
    """What an audit event is about (``audit_events.object_type``, SPEC §8)."""

    ITEM = "item"
    ENVELOPE = "envelope"
    HANDOVER = "handover"
    DISPOSAL_BATCH = "disposal_batch"
    USER = "user"
    RETENTION_RULE = "retention_rule"
    IDENTITY_POLICY = "identity_policy"
    IMPORT = "import"
    SETTINGS = "settings"
    LOCATION = "location"
    REMAILING = "remailing"
    STOCK_CHECK = "stock_check"
    REGISTER_IMPORT = "register_import"
    NOTICE_BATCH = "notice_batch"
    NOTICE_TEMPLATE = "notice_template"
    PICKUP_DAY = "pickup_day"
    RESERVATION = "reservation"
    ACCESS_REQUEST = "access_request"
    BACKUP = "backup"
    DB_ROLE = "db_role"
    JOB = "job"

    @property
    def label(self) -> str:
        return OBJECT_TYPE_LABELS[self]


OBJECT_TYPE_LABELS: dict[ObjectType, str] = {
    ObjectType.ITEM: _l("通知物"),
    ObjectType.ENVELOPE: _l("返戻郵便"),
    ObjectType.HANDOVER: _l("交付"),
    ObjectType.DISPOSAL_BATCH: _l("廃棄処理"),
    ObjectType.USER: _l("ユーザー"),
    ObjectType.RETENTION_RULE: _l("廃棄基準"),
    ObjectType.IDENTITY_POLICY: _l("本人確認基準"),
    ObjectType.IMPORT: _l("一括取込"),
    ObjectType.SETTINGS: _l("設定"),
    ObjectType.LOCATION: _l("保管場所"),
    ObjectType.REMAILING: _l("再送付"),
    ObjectType.STOCK_CHECK: _l("棚卸"),
    ObjectType.REGISTER_IMPORT: _l("住基照合結果の取込"),
    ObjectType.NOTICE_BATCH: _l("お知らせの発送"),
    ObjectType.NOTICE_TEMPLATE: _l("お知らせ文面"),
    ObjectType.PICKUP_DAY: _l("受取予約日"),
    ObjectType.RESERVATION: _l("受取予約"),
    ObjectType.JOB: _l("バックグラウンド処理"),
    ObjectType.BACKUP: _l("バックアップ"),
    ObjectType.DB_ROLE: _l("データベースロール"),
    ObjectType.ACCESS_REQUEST: _l("開示請求"),
}


class RecordClass(StrEnum):
    """The tracker's own records, each with a retention period (文書保存規程, issue 16)."""

    ITEMS = "items"
    HANDOVERS = "handovers"
    RESERVATIONS = "reservations"
    CONTACTS = "contacts"

    @property
    def label(self) -> str:
        return RECORD_CLASS_LABELS[self]


RECORD_CLASS_LABELS: dict[RecordClass, str] = {
    RecordClass.ITEMS: _l("終了した通知物と返戻郵便"),
    RecordClass.HANDOVERS: _l("交付記録と受領書"),
    RecordClass.RESERVATIONS: _l("受取予約"),
    RecordClass.CONTACTS: _l("接触記録"),
}


#: The code lists a template may label (``{{ value | label("batch_status") }}``).
CODE_LISTS: dict[str, type[StrEnum]] = {
    "record_class": RecordClass,
    "item_status": ItemStatus,
    "item_action": ItemAction,
    "register_outcome": RegisterOutcome,
    "register_source": RegisterSource,
    "hold_kind": HoldKind,
    "remail_address_kind": RemailAddressKind,
    "remail_status": RemailStatus,
    "stock_check_status": StockCheckStatus,
    "stock_check_outcome": StockCheckOutcome,
    "contact_kind": ContactKind,
    "notice_method": NoticeMethod,
    "reservation_status": ReservationStatus,
    "access_request_status": AccessRequestStatus,
    "return_reason": ReturnReason,
    "recipient_kind": RecipientKind,
    "batch_status": BatchStatus,
    "batch_item_outcome": BatchItemOutcome,
    "destruction_method": DestructionMethod,
    "outcome": Outcome,
    "job_kind": JobKind,
    "job_state": JobState,
    "audit_action": AuditAction,
    "object_type": ObjectType,
}


def sql_in(values: type[StrEnum]) -> str:
    """``'a', 'b'`` for a CHECK constraint listing an enum's values."""
    return ", ".join(f"'{v.value}'" for v in values)
