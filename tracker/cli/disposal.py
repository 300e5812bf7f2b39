"""Disposal from the command line: ``disposal-list`` (the items eligible as of a date, SPEC §3)
and ``certificate-verify`` (is this file a certificate we issued?)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.domain.codes import AuditAction, Role
from tracker.services import audit


def _parse_cli_date(value: str | None, option: str) -> date | None:
    from tracker.domain.errors import InputError
    from tracker.domain.wareki import parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except InputError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


DISPOSAL_LIST_KEYS = (
    "tracking_no",
    "name",
    "birth_date",
    "return_date",
    "rule",
    "control_no",
    "retain_until",
    #: Why the item is eligible: the event of an event rule (死亡（異動日 令和8年11月1日）),
    #: else the retain-until date passed (issue 13).
    "reason",
)


@click.command("disposal-list")
@click.option("--as-of", "as_of", help="Eligibility date (ISO or 和暦); default today in Japan.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--encoding",
    type=click.Choice(["utf-8-sig", "utf-8", "cp932"]),
    default="utf-8-sig",
    show_default=True,
    help="CSV encoding (SPEC §6.5: UTF-8 with BOM for Excel by default).",
)
@click.option("--actor", help="Audit actor (an officer or auditor); default cli:<OS user>.")
@pass_state
def disposal_list(
    state: CliState,
    as_of: str | None,
    output_format: str,
    output: Path | None,
    encoding: str,
    actor: str | None,
) -> None:
    """Items eligible for disposal as of DATE (SPEC §3): one record per item."""
    import json as jsonlib

    from tracker.clock import today_jst
    from tracker.domain.export import ExportEncodingError, encode_csv
    from tracker.services import retention

    day = _parse_cli_date(as_of, "--as-of") or today_jst()

    def records(session: Session) -> Iterator[list[str]]:
        for e in retention.iter_eligible(session, day):
            yield [
                e.tracking_no,
                e.name,
                e.birth_date.isoformat(),
                e.returned_on.isoformat(),
                e.rule.label,
                e.control_no,
                e.retain_until.isoformat(),
                e.reason_text,
            ]

    count = 0

    def counted(rows: Iterator[list[str]]) -> Iterator[list[str]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    with state.database.read_session() as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER, Role.AUDITOR])
        if output_format == "csv" and encoding == "cp932":
            try:  # every character checked before anything is written (SPEC §6.5)
                for _ in encode_csv(DISPOSAL_LIST_KEYS, records(session), "cp932"):
                    pass
            except ExportEncodingError as error:
                fail(str(error))
        with _output_stream(output) as sink:
            if output_format == "json":
                sink.write(b"[")
                for row in records(session):
                    sink.write(b"," if count else b"")
                    sink.write(b"\n ")
                    sink.write(
                        jsonlib.dumps(
                            dict(zip(DISPOSAL_LIST_KEYS, row, strict=True)), ensure_ascii=False
                        ).encode("utf-8")
                    )
                    count += 1
                sink.write(b"\n]\n")
            else:
                for chunk in encode_csv(DISPOSAL_LIST_KEYS, counted(records(session)), encoding):
                    sink.write(chunk)
    with state.database.session_scope() as session:
        audit.record(
            session,
            actor=actor_name,
            action=AuditAction.DISPOSAL_LIST_EXPORT,
            details={"as_of": day.isoformat(), "items": count, "format": output_format},
        )
    if output is not None:
        click.echo(f"{count}件を {output} に書き出しました（基準日 {day.isoformat()}）", err=True)


@contextmanager
def _output_stream(output: Path | None) -> Iterator[Any]:
    """stdout, or a file written whole: a temporary file renamed into place on success."""
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    temporary = output.with_name(f".{output.name}.partial")
    try:
        with temporary.open("wb") as sink:
            yield sink
        temporary.replace(output)
    finally:
        temporary.unlink(missing_ok=True)


@click.command("certificate-verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def certificate_verify(state: CliState, file: Path) -> None:
    """Does FILE match a disposal certificate this tracker issued (by SHA-256)?"""
    import hashlib

    from tracker.services import certificates

    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    with state.database.read_session() as session:
        batch = certificates.find_by_certificate_sha256(session, digest)
        if batch is None:
            fail(f"{file}: この証明書は発行記録と一致しません（SHA-256 {digest}）")
        click.echo(
            f"OK: {file} は廃棄証明書 {batch.certificate_no}（基準日 {batch.as_of.isoformat()}、"
            f"廃棄日 {batch.destroyed_on.isoformat() if batch.destroyed_on else '—'}）と一致します"
            f"（SHA-256 {digest}）"
        )
