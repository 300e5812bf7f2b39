"""``tracker notices``: a large mailing of お知らせ from the command line (issue 15).

Chooses items (``--select rule:<id or label>|within:<days>|items:<file>``), records the
sending (a notice batch, a ``notice_mail`` contact per item, ``notice_sent_on``, one audit
event) and streams the letters PDF to ``--output`` (and the mailing list CSV to ``--list``).
The sending is committed first (so the notices lock and the row locks end before any
rendering); the letters are then drawn from the recorded batch, as the web reprint does, into
temporary files renamed when complete. A refused sending commits nothing. If drawing fails
after the commit, no file is left behind, the exit code is 1 (SPEC §7) and the message names
the recorded batch and how to print it again (``--reprint N…``).
``--dry-run`` prints the counts and writes nothing.
"""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import click

from tracker.cli.common import CliState, fail, pass_state, resolve_actor
from tracker.cli.disposal import _parse_cli_date
from tracker.domain.codes import NoticeMethod, Role

METHODS = {m.value: m for m in NoticeMethod}


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


@click.command("notices")
@click.option(
    "--select",
    "select_text",
    help="rule:<rule id or label> | within:<days> | items:<file of control numbers>",
)
@click.option(
    "--reprint",
    help="Print a recorded batch's letters again (its number, N…) instead of sending.",
)
@click.option(
    "--as-of", "as_of", help="within:N counts from this day (ISO or 和暦); default today."
)
@click.option("--sent-on", "sent_on", help="Date of sending (ISO or 和暦); default today (JST).")
@click.option(
    "--method",
    type=click.Choice(sorted(METHODS)),
    default=NoticeMethod.ORDINARY.value,
    show_default=True,
    help="普通郵便 (ordinary) or 簡易書留 (simple_registered).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Letters PDF (one per page).",
)
@click.option(
    "--list",
    "list_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the mailing list (発送リスト) CSV here (UTF-8 with BOM).",
)
@click.option("--dry-run", is_flag=True, help="Print the counts; send and write nothing.")
@click.option("--actor", help="Audit actor (a records officer); default cli:<OS user>.")
@pass_state
def notices_command(
    state: CliState,
    select_text: str | None,
    as_of: str | None,
    sent_on: str | None,
    method: str,
    output: Path,
    list_path: Path | None,
    dry_run: bool,
    actor: str | None,
    reprint: str | None,
) -> None:
    """Send お知らせ to the selected items: letters PDF, mailing list, contacts."""
    from tracker.clock import today_jst

    today = today_jst()
    day = _parse_cli_date(as_of, "--as-of") or today
    sending = _parse_cli_date(sent_on, "--sent-on") or today
    if (select_text is None) == (reprint is None):
        raise click.UsageError("--select か --reprint のどちらか一方を指定してください")
    kind, _, value = (select_text or "").partition(":")
    if reprint is None and (kind not in {"rule", "within", "items"} or not value):
        raise click.BadParameter(
            "rule:<基準のIDか名前>、within:<日数>、items:<ファイル> のいずれかです",
            param_hint="--select",
        )
    for path in (output, list_path):
        if path is not None and not path.parent.is_dir():
            fail(f"{path.parent} というフォルダがありません")
    if reprint is None:
        sent_letters, excluded, batch_no = _send(
            state, select_text or "", kind, value, day, sending, method, dry_run, actor
        )
        if dry_run:
            return
    else:
        batch_no = reprint.strip().upper()
    _write_files(state, batch_no, output, list_path, actor, sent=reprint is None)
    if reprint is None:
        click.echo(
            f"letters={sent_letters} excluded={sum(excluded.values())} batch={batch_no}"
            + _reasons(excluded)
        )
    else:
        click.echo(f"reprinted batch={batch_no}")


def _send(
    state: CliState,
    select_text: str,
    kind: str,
    value: str,
    day: date,
    sending: date,
    method: str,
    dry_run: bool,
    actor: str | None,
) -> tuple[int, dict[str, int], str]:
    """Record the sending and commit (the locks end here, before any rendering)."""
    from tracker.clock import now_utc, today_jst
    from tracker.services import notices
    from tracker.services.transitions import Conflict

    with state.database.session_scope() as session:
        actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER])
        try:
            if kind == "items":
                try:
                    text = Path(value).read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError) as error:
                    fail(f"--select items: {value} を読めません（{error}）")
                selection = notices.by_hand(text)
            else:
                selection = notices.parse_selection(session, select_text)
            if dry_run:
                tally = notices.Tally()
                for _ in notices.walk(session, selection, as_of=day, sent_on=sending, tally=tally):
                    pass
                session.rollback()
                click.echo(
                    f"letters={tally.letters} excluded={tally.excluded_total} dry_run"
                    + _reasons(tally.excluded)
                )
                return 0, {}, ""
            sent = notices.send(
                session,
                actor=actor_name,
                selection=selection,
                as_of=day,
                sent_on=sending,
                method=METHODS[method],
                now=now_utc(),
                today=today_jst(),
            )
        except (notices.NoticeError, Conflict) as error:
            fail(f"{error}（何も送っていません）")
        return sent.letters, sent.excluded, sent.batch.batch_no


def _write_files(
    state: CliState,
    batch_no: str,
    output: Path,
    list_path: Path | None,
    actor: str | None,
    *,
    sent: bool,
) -> None:
    """The batch's letters (and list) into temporary files, renamed when complete; on a
    failure the partial files are removed and the user is told how to reprint."""
    from tracker.domain.export import encode_csv
    from tracker.pdf.notices import LetterTooLong
    from tracker.services import notice_returns, notices

    written: list[tuple[Path, Path]] = []
    try:
        with state.database.session_scope() as session:
            actor_name = resolve_actor(session, actor, [Role.RECORDS_OFFICER])
            batch = notice_returns.find_batch(session, batch_no)
            if batch is None:
                fail(f"発送番号「{batch_no[:20]}」のお知らせはありません")
            partial = _partial(output)
            written.append((partial, output))
            with partial.open("wb") as sink:
                tally = notices.write_letters(session, batch, sink)
            notices.record_print(session, actor=actor_name, batch=batch, letters=tally.letters)
            if list_path is not None:
                partial_list = _partial(list_path)
                written.append((partial_list, list_path))
                with partial_list.open("wb") as sink:
                    rows = notices.mailing_rows(session, batch)
                    for chunk in encode_csv(notices.LIST_HEADER, rows):
                        sink.write(chunk)
                notices.record_list_export(
                    session, actor=actor_name, batch=batch, encoding="utf-8-sig"
                )
        for partial, final in written:
            partial.replace(final)
    except (LetterTooLong, OSError) as error:
        _cleanup(written)
        recorded = f"発送は発送番号 {batch_no} として記録済みです。" if sent else ""
        fail(
            f"お知らせのPDFを作れませんでした（{error}）。{recorded}"
            f"原因を直してから tracker notices --reprint {batch_no} --output <ファイル> "
            f"（または画面の /notices/<番号>/letters.pdf）で印刷し直してください"
        )
    finally:
        _cleanup(written)


def _cleanup(written: list[tuple[Path, Path]]) -> None:
    for partial, _final in written:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _reasons(excluded: dict[str, int]) -> str:
    if not excluded:
        return ""
    return " (" + ", ".join(f"{reason}: {n}" for reason, n in sorted(excluded.items())) + ")"
