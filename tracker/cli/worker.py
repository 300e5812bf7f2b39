"""``tracker worker``: runs the background jobs (issue 17) that the pages queue."""

from __future__ import annotations

import logging

import click

from tracker.cli.common import CliState, fail, pass_state


@click.command("worker")
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Jobs run at the same time (threads of this process).",
)
@click.option(
    "--poll",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.1, 60),
    help="Longest wait between looks at a SQLite queue, in seconds.",
)
@pass_state
def worker(state: CliState, workers: int, poll: float) -> None:
    """Run queued background jobs (imports, register checks, notice letters, purges) until
    stopped (Ctrl+C, SIGTERM).

    The queue is TRACKER_JOBS_URL (default: a SQLite file in the instance folder). At start,
    running jobs whose heartbeat stopped (a worker killed mid-way) are marked failed. Made
    files (letters PDFs) not downloaded within a day are deleted at start and every 10 minutes.
    """
    from tracker import create_app
    from tracker.clock import now_utc
    from tracker.jobs import IMMEDIATE, JobQueue, forget, still_alive, sweep_files
    from tracker.jobs.runner import WORKER_ACTOR
    from tracker.schema import current_revision, head_revision
    from tracker.services import jobs

    if state.config.jobs_url == IMMEDIATE:
        fail("TRACKER_JOBS_URL=immediate はテスト用です。ワーカーは起動できません")
    if current_revision(state.database.engine) != head_revision():
        fail("データベースの構成が古いか未作成です。先に `tracker init-db` を実行してください")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(state.config)
    queue: JobQueue = app.extensions["tracker.jobs"]
    with queue.database.session_scope() as session:
        marked = jobs.fail_stale(
            session,
            now=now_utc(),
            stale_after=state.config.jobs_stale_after,
            actor=WORKER_ACTOR,
            still_alive=lambda job_id: still_alive(state.config, job_id),
        )
    for job_id, file_path in marked:
        forget(state.config, job_id, file_path)
        click.echo(f"処理 {job_id} は中断されていたため、失敗として記録しました", err=True)
    sweep_files(state.config)
    consumer = queue.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=True, max_delay=poll
    )
    click.echo(f"ワーカーを起動しました（同時実行 {workers}）。Ctrl+C で終了します", err=True)
    consumer.run()
