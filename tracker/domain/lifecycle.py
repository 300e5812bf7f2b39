"""The life of an item (SPEC §2, issue 13): which status an action moves it to, and why not.

The table is the only place the allowed moves are written down. Services ask :func:`move`
(or :func:`source_of` for the conditional update's expected status) and refuse with the
:class:`IllegalMove` message; :func:`tracker.services.transitions.move_item` applies a move as
one conditional update. Pure: no Flask, no database.

    保管中 ── 交付 ──────────→ 交付済 ── 交付取消 ──→ 保管中
          ── 再送付 ────────→ 再送付中 ── 再送付分の返戻 ─→ 保管中
                                      ── 再送付の完了 ──→ 再送付済
          ── 廃棄 ──────────→ 廃棄済
          ── 紛失の確定 ────→ 紛失 ── 発見 ──→ 保管中
"""

from __future__ import annotations

from tracker.domain.codes import ItemAction, ItemStatus

#: (status before, action) → status after. Every pair not listed is refused.
TRANSITIONS: dict[tuple[ItemStatus, ItemAction], ItemStatus] = {
    (ItemStatus.IN_CUSTODY, ItemAction.HAND_OVER): ItemStatus.HANDED_OVER,
    (ItemStatus.HANDED_OVER, ItemAction.VOID_HANDOVER): ItemStatus.IN_CUSTODY,
    (ItemStatus.IN_CUSTODY, ItemAction.REMAIL): ItemStatus.REMAILED,
    (ItemStatus.REMAILED, ItemAction.RETURN_REMAILED): ItemStatus.IN_CUSTODY,
    (ItemStatus.REMAILED, ItemAction.CLOSE_REMAILED): ItemStatus.REDELIVERED,
    (ItemStatus.IN_CUSTODY, ItemAction.DESTROY): ItemStatus.DESTROYED,
    (ItemStatus.IN_CUSTODY, ItemAction.CONFIRM_LOST): ItemStatus.LOST,
    (ItemStatus.LOST, ItemAction.FIND): ItemStatus.IN_CUSTODY,
}

#: Why an item in a status can do nothing more, or what it is waiting for (for refusals).
_STATUS_REASONS: dict[ItemStatus, str] = {
    ItemStatus.IN_CUSTODY: "この通知物は保管中です",
    ItemStatus.HANDED_OVER: "この通知物は交付済です",
    ItemStatus.REMAILED: "この通知物は再送付中です（返戻されるか、再送付の完了を待っています）",
    ItemStatus.REDELIVERED: "この通知物は再送付済です（保管していません）",
    ItemStatus.DESTROYED: "この通知物は廃棄済です",
    ItemStatus.LOST: "この通知物は紛失として確定しています",
}


#: "…できるのは" for each action, for the second half of a refusal.
_CAN: dict[ItemAction, str] = {
    ItemAction.HAND_OVER: "交付できる",
    ItemAction.VOID_HANDOVER: "交付を取り消せる",
    ItemAction.REMAIL: "再送付できる",
    ItemAction.RETURN_REMAILED: "再送付分の返戻として受け付けられる",
    ItemAction.CLOSE_REMAILED: "再送付を完了にできる",
    ItemAction.DESTROY: "廃棄できる",
    ItemAction.CONFIRM_LOST: "紛失を確定できる",
    ItemAction.FIND: "発見を記録できる",
}


class IllegalMove(ValueError):
    """The action is not allowed from the item's status; the message says why, in Japanese."""

    def __init__(self, status: ItemStatus, action: ItemAction) -> None:
        self.status = status
        self.action = action
        super().__init__(reason(status, action))


def source_of(action: ItemAction) -> ItemStatus:
    """The one status ``action`` starts from (every action has exactly one)."""
    (status,) = [before for before, act in TRANSITIONS if act is action]
    return status


def target(status: ItemStatus | str, action: ItemAction) -> ItemStatus | None:
    """The status ``action`` moves an item in ``status`` to, or None when it is not allowed."""
    return TRANSITIONS.get((ItemStatus(status), action))


def move(status: ItemStatus | str, action: ItemAction) -> ItemStatus:
    """The status after ``action``; :class:`IllegalMove` (with the reason) if not allowed."""
    after = target(status, action)
    if after is None:
        raise IllegalMove(ItemStatus(status), action)
    return after


def allowed_actions(status: ItemStatus | str) -> list[ItemAction]:
    """The actions open to an item in ``status``, in the order of :class:`ItemAction`."""
    return [action for action in ItemAction if target(status, action) is not None]


def reason(status: ItemStatus | str, action: ItemAction) -> str:
    """Why ``action`` is refused for an item in ``status``: its state, and what it needs.

    ``この通知物は交付済です。再送付できるのは保管中の通知物だけです``
    """
    current = ItemStatus(status)
    needed = source_of(action)
    return f"{_STATUS_REASONS[current]}。{_CAN[action]}のは{needed.label}の通知物だけです"
