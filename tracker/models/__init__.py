"""SQLAlchemy models: one module per aggregate. Importing this registers them all."""

from tracker.models.audit import AuditEvent
from tracker.models.base import Base, UTCDateTime, utcnow
from tracker.models.custody import (
    Envelope,
    Hold,
    Item,
    Location,
    Protection,
    RetentionExtension,
)
from tracker.models.disposal import DisposalBatch, DisposalBatchItem
from tracker.models.handover import Handover, HandoverItem
from tracker.models.lifecycle import (
    LossReport,
    RegisterResult,
    Remailing,
    StockCheck,
    StockCheckEntry,
)
from tracker.models.policy import IdentityPolicy, RetentionRule
from tracker.models.settings import Setting
from tracker.models.users import LoginFailure, LoginLock, User, UserSession

__all__ = [
    "AuditEvent",
    "Base",
    "DisposalBatch",
    "DisposalBatchItem",
    "Envelope",
    "Handover",
    "HandoverItem",
    "Hold",
    "IdentityPolicy",
    "Item",
    "Location",
    "LoginFailure",
    "LoginLock",
    "LossReport",
    "Protection",
    "RegisterResult",
    "Remailing",
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
