"""The UI's code labels match the SPEC's tables (they are written out for translation)."""

from __future__ import annotations

from tracker.domain.codes import RETURN_REASON_LABELS
from tracker.domain.records import ITEM_KIND_LABELS
from tracker.web.filters import KIND_LABELS, REASON_LABELS


def test_ui_labels_match_the_domain_tables(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context():
        assert {k: str(v) for k, v in REASON_LABELS.items()} == RETURN_REASON_LABELS
        assert {k: str(v) for k, v in KIND_LABELS.items()} == ITEM_KIND_LABELS
