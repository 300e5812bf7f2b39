"""The UI's code labels: every stored code has a label, in Japanese by default and in English
when the English UI is chosen; a stored value no list knows is shown as stored."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from tracker.domain.codes import CODE_LISTS, BatchStatus
from tracker.domain.records import ITEM_KIND_LABELS
from tracker.web.filters import KIND_LABELS, code_label


def test_item_kind_labels_match_the_domain_table(app: Flask) -> None:
    with app.test_request_context():
        assert {k: str(v) for k, v in KIND_LABELS.items()} == ITEM_KIND_LABELS


@pytest.mark.parametrize("list_name", sorted(CODE_LISTS))
def test_every_code_has_a_japanese_and_an_english_label(app: Flask, list_name: str) -> None:
    with app.test_request_context():
        for code in CODE_LISTS[list_name]:
            japanese = code_label(code.value, list_name)
            assert japanese and japanese != code.value
            with force_locale("en"):
                english = code_label(code.value, list_name)
            assert english.isascii() and english != japanese, (list_name, code, english)


def test_labels_read_well_and_unknown_values_pass_through(app: Flask) -> None:
    with app.test_request_context():
        assert code_label(BatchStatus.APPROVED, "batch_status") == "承認済（廃棄待ち）"
        with force_locale("en"):
            assert code_label("shredding", "destruction_method") == "Shredding"
        assert code_label("something_old", "batch_status") == "something_old"
        assert code_label(None, "outcome") == "—"
