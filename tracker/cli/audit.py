"""``tracker audit-verify``: recompute the audit hash chain (SPEC §8)."""

from __future__ import annotations

import sys

import click

from tracker.cli.common import CliState, fail, pass_state
from tracker.services import audit


@click.command("audit-verify")
@click.option(
    "--expect-head",
    metavar="SEQ:HASH",
    help="A head recorded earlier (e.g. on a certificate): also catches deleted newest events.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1, max=64),
    metavar="N",
    help="Processes that share the work (default: the CPUs, at most 8, from 50,000 events).",
)
@pass_state
def audit_verify(state: CliState, expect_head: str | None, processes: int | None) -> None:
    """Recompute the audit hash chain: exit 0 if intact, 1 naming the first broken event.

    The chain is cut into ``seq`` ranges checked side by side, and joined in order: the
    answer, and the event it names, are those of one walk from the first event."""
    from sqlalchemy.exc import SQLAlchemyError

    from tracker.domain.chain import Checkpoint

    try:
        checkpoint = Checkpoint.parse(expect_head) if expect_head else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--expect-head") from None
    try:
        result = audit.verify_chain_in_processes(
            state.config.database_url, processes, checkpoint=checkpoint
        )
    except SQLAlchemyError as error:
        fail(
            "監査ログを読めません。データベースに接続できないか、初期化されていません"
            f"（tracker init-db）: {type(error).__name__}"
        )
    if result.ok:
        click.echo(
            f"OK: 監査ログは改ざんされていません（{result.checked}件、"
            f"先頭ハッシュ {result.head_hash}）"
        )
        return
    click.echo(
        f"NG: 監査ログの連鎖が事象 {result.broken_seq} で壊れています: {result.problem}"
        f"（それより前の {result.checked} 件は正常）",
        err=True,
    )
    sys.exit(1)
