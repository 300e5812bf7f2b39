"""Ids and dates from URLs and query strings, checked before they reach the database (issue 10).

An attack run got 500s from ``/items/99999999999999999999`` and ``/audit?before=…`` (PostgreSQL:
integer out of range) and from ``/handovers?date=9999-12-31``. The checks live here, once:

* **Ids in paths**: :class:`IdConverter` replaces Flask's ``int`` converter on the app, so every
  ``<int:…>`` route accepts only 1 … :data:`ID_MAX`. Anything else cannot name a row and is a
  404, exactly like an id that names no row, before the view runs.
* **Ids in query strings**: :func:`id_arg` and :func:`id_args`, the same rule.
* **Dates in query strings**: :func:`date_arg` reads them with the one date parser
  (:func:`tracker.domain.wareki.parse_date`, which also bounds them to 1868-01-25 … 2100-12-31);
  a date it refuses is a 400 page that names the parameter and says why. Forms keep showing
  their own date errors beside the field, with the same parser and so the same bound.
"""

from __future__ import annotations

from datetime import date

from flask import abort, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

from tracker.domain.errors import InputError
from tracker.domain.wareki import parse_date

#: Every id column is SQLAlchemy ``Integer`` (PostgreSQL ``integer``, 32-bit signed; see
#: tracker/models, checked by tests/web/test_input_edges.py). Ids start at 1.
ID_MAX = 2**31 - 1
_ID_DIGITS = len(str(ID_MAX))


class IdConverter(IntegerConverter):
    """``<int:…>`` for row ids: 1 … :data:`ID_MAX`, else no match (a 404).

    Werkzeug's own ``min``/``max`` do the check; only the defaults change. Python refuses to
    read integers of more than 4,300 digits, which werkzeug also turns into no match.
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = 1,
        max: int | None = ID_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def is_id(value: str) -> bool:
    """True if ``value`` is written as an id a row could have (ASCII digits, 1 … ID_MAX)."""
    return (
        0 < len(value) <= _ID_DIGITS
        and value.isascii()
        and value.isdigit()
        and 1 <= int(value) <= ID_MAX
    )


def id_arg(name: str) -> int | None:
    """The id in query argument ``name``; None when absent or empty, 404 when it cannot be one."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if not is_id(value):
        abort(404)
    return int(value)


def id_args(name: str, *, limit: int) -> list[int]:
    """Every id given as ``name`` (query string or form), at most ``limit`` of them; 404 when
    any of them cannot be an id (a list naming a row that cannot exist names no rows)."""
    values = [v.strip() for v in request.values.getlist(name)][:limit]
    if not all(is_id(v) for v in values):
        abort(404)
    return [int(v) for v in values]


class InvalidParameter(BadRequest):
    """A query argument that cannot be used; the 400 page shows :attr:`description`."""


def date_arg(name: str, label: str, default: date | None = None) -> date | None:
    """The date in query argument ``name`` (ISO or 和暦); ``default`` when absent or empty.

    A date :func:`parse_date` refuses (unreadable, impossible, or outside 1868-01-25 …
    2100-12-31) raises :class:`InvalidParameter`: a 400 page saying which parameter, as the
    person called it (``label``), and why. The message quotes no individual number.
    """
    value = request.args.get(name, "").strip()
    if not value:
        return default
    try:
        return parse_date(value)
    except InputError as error:
        raise InvalidParameter(description=f"{label}（{name}）: {error}") from None
