"""The lifecycle table (issue 13, SPEC §2): every (status, action) pair, allowed or refused."""

from __future__ import annotations

import itertools

import pytest

from tracker.domain import lifecycle
from tracker.domain.codes import ItemAction, ItemStatus
from tracker.domain.lifecycle import IllegalMove

#: The moves the issue describes, written out again by hand so the table cannot drift.
EXPECTED = {
    (ItemStatus.IN_CUSTODY, ItemAction.HAND_OVER): ItemStatus.HANDED_OVER,
    (ItemStatus.HANDED_OVER, ItemAction.VOID_HANDOVER): ItemStatus.IN_CUSTODY,
    (ItemStatus.IN_CUSTODY, ItemAction.REMAIL): ItemStatus.REMAILED,
    (ItemStatus.REMAILED, ItemAction.RETURN_REMAILED): ItemStatus.IN_CUSTODY,
    (ItemStatus.REMAILED, ItemAction.CLOSE_REMAILED): ItemStatus.REDELIVERED,
    (ItemStatus.IN_CUSTODY, ItemAction.DESTROY): ItemStatus.DESTROYED,
    (ItemStatus.IN_CUSTODY, ItemAction.CONFIRM_LOST): ItemStatus.LOST,
    (ItemStatus.LOST, ItemAction.FIND): ItemStatus.IN_CUSTODY,
}

STATUS_WORDS = {
    ItemStatus.IN_CUSTODY: "保管中",
    ItemStatus.HANDED_OVER: "交付済",
    ItemStatus.REMAILED: "再送付中",
    ItemStatus.REDELIVERED: "再送付済",
    ItemStatus.DESTROYED: "廃棄済",
    ItemStatus.LOST: "紛失",
}

PAIRS = list(itertools.product(ItemStatus, ItemAction))


def test_the_table_is_the_issue_s_table() -> None:
    assert lifecycle.TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=lambda v: str(v))
def test_every_pair_is_allowed_to_its_target_or_refused_with_a_reason(
    status: ItemStatus, action: ItemAction
) -> None:
    expected = EXPECTED.get((status, action))
    if expected is not None:
        assert lifecycle.move(status, action) is expected
        assert lifecycle.target(status.value, action) is expected
        assert action in lifecycle.allowed_actions(status)
        return
    assert lifecycle.target(status, action) is None
    assert action not in lifecycle.allowed_actions(status)
    with pytest.raises(IllegalMove) as refused:
        lifecycle.move(status, action)
    message = str(refused.value)
    assert refused.value.status is status and refused.value.action is action
    # It names the item's status now, and the status the action needs.
    needed = lifecycle.source_of(action)
    assert message.startswith(f"この通知物は{STATUS_WORDS[status]}")
    assert f"{STATUS_WORDS[needed]}の通知物だけです" in message
    assert message == lifecycle.reason(status, action)


def test_every_action_starts_from_exactly_one_status() -> None:
    for action in ItemAction:
        sources = {before for before, act in EXPECTED if act is action}
        assert sources == {lifecycle.source_of(action)}


def test_a_handed_over_card_cannot_be_remailed_and_says_why() -> None:
    assert lifecycle.reason(ItemStatus.HANDED_OVER, ItemAction.REMAIL) == (
        "この通知物は交付済です。再送付できるのは保管中の通知物だけです"
    )


def test_nothing_leaves_destroyed_or_redelivered() -> None:
    assert lifecycle.allowed_actions(ItemStatus.DESTROYED) == []
    assert lifecycle.allowed_actions(ItemStatus.REDELIVERED) == []


def test_an_unknown_status_is_not_a_status() -> None:
    with pytest.raises(ValueError):
        lifecycle.move("misplaced", ItemAction.FIND)
