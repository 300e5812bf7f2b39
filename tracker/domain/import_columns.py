"""The columns of the bulk-import CSV (SPEC §6.4, a contract), as data.

The importer reads these headers (Japanese or English, in any order), the upload page lists
them, and the synthetic generator writes them: all three from this one table. What a cell may
hold is decided by the field rules in :mod:`tracker.domain.records`, shared with the intake
form; the code lists it accepts (return reasons, item kinds) live in :mod:`tracker.domain.codes`
and :data:`tracker.domain.records.ITEM_KIND_LABELS`.

Issue 14 added the optional ``alias`` (通称) and the dates of an unclaimed My Number card
(``first_notice_on``, ``renotice_on``, ``card_expires_on``); a フリガナ cell may be empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class ImportColumn:
    #: The English header, also the field's name in :mod:`tracker.domain.records`.
    name: str
    #: The Japanese header, as an office's own files head the column.
    japanese: str
    #: A file whose header lacks this column is refused as a whole; whether a cell may be
    #: empty is the field rule's business.
    required: bool
    #: Shared by every row of one envelope: rows with one tracking number must agree on it.
    envelope: bool = False


#: In the order the upload page lists them and the generator writes them.
COLUMNS: Final[tuple[ImportColumn, ...]] = (
    ImportColumn("tracking_no", "お問い合わせ番号", True, envelope=True),  # SPEC §6.3
    ImportColumn("return_date", "返戻日", True, envelope=True),  # SPEC §6.1 date shapes
    ImportColumn("return_reason", "還付事由", True, envelope=True),  # code or Japanese label
    ImportColumn("addressee", "宛名", True, envelope=True),  # household head as mailed
    ImportColumn("address", "住所", True, envelope=True),
    ImportColumn("household_code", "世帯番号", False, envelope=True),
    ImportColumn("name", "氏名", True),
    ImportColumn("name_kana", "フリガナ", False),  # kana of any width, or empty (issue 14)
    ImportColumn("alias", "通称", False),  # registered alias (issue 14)
    ImportColumn("birth_date", "生年月日", True),  # SPEC §6.1 date shapes
    ImportColumn("relationship", "続柄", False),
    ImportColumn("item_kind", "種別", False),  # code or label; empty = notification card
    ImportColumn("location", "保管場所", False, envelope=True),  # name or code; empty = default
    ImportColumn("slot", "保管位置", False, envelope=True),
    # Unclaimed My Number cards only (issue 14); SPEC §6.1 date shapes.
    ImportColumn("first_notice_on", "交付通知書送付日", False),
    ImportColumn("renotice_on", "再通知日", False),
    ImportColumn("card_expires_on", "有効期限", False),
)

#: The English headers, in order.
COLUMN_NAMES: Final[tuple[str, ...]] = tuple(column.name for column in COLUMNS)
#: English header → Japanese header.
JAPANESE_HEADERS: Final[Mapping[str, str]] = {column.name: column.japanese for column in COLUMNS}
#: The envelope's columns, the tracking number (which groups the rows) first.
ENVELOPE_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in COLUMNS if c.envelope)
