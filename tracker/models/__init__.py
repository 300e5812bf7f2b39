"""SQLAlchemy models: one module per aggregate. Importing this registers them all."""

from tracker.models.access import AccessRequest, AccessRequestItem
from tracker.models.audit import AuditEvent
from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.custody import (
    Envelope,
    Hold,
    Item,
    ItemRevision,
    Location,
    Protection,
    RetentionExtension,
)
from tracker.models.disposal import DisposalBatch, DisposalBatchItem
from tracker.models.handover import Handover, HandoverItem
from tracker.models.jobs import Job
from tracker.models.lifecycle import (
    LossReport,
    RegisterResult,
    Remailing,
    StockCheck,
    StockCheckEntry,
)
from tracker.models.outreach import (
    Contact,
    NoticeBatch,
    NoticeTemplate,
    PickupDay,
    PickupSlot,
    Reservation,
    ReservationItem,
)
from tracker.models.policy import IdentityPolicy, RetentionRule
from tracker.models.settings import Setting
from tracker.models.users import LoginFailure, LoginLock, User, UserSession

__all__ = [
    "AccessRequest",
    "AccessRequestItem",
    "AuditEvent",
    "Base",
    "Contact",
    "DisposalBatch",
    "DisposalBatchItem",
    "Envelope",
    "Handover",
    "HandoverItem",
    "Hold",
    "IdentityPolicy",
    "Item",
    "ItemRevision",
    "Job",
    "Location",
    "LoginFailure",
    "LoginLock",
    "LossReport",
    "NoticeBatch",
    "NoticeTemplate",
    "PickupDay",
    "PickupSlot",
    "Protection",
    "RegisterResult",
    "Remailing",
    "Reservation",
    "ReservationItem",
    "RetentionExtension",
    "RetentionRule",
    "Setting",
    "StockCheck",
    "StockCheckEntry",
    "UTCDateTime",
    "User",
    "UserSession",
    "utcnow",
]
