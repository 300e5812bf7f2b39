"""``tracker serve``: the production WSGI server."""

from __future__ import annotations

import click

from tracker.cli.common import CliState, fail, pass_state


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@pass_state
def serve(state: CliState, host: str, port: int, threads: int) -> None:
    """Run the production WSGI server (waitress)."""
    from waitress import serve as waitress_serve

    from tracker import create_app
    from tracker.schema import current_revision, head_revision

    if current_revision(state.database.engine) != head_revision():
        fail("データベースの構成が古いか未作成です。先に `tracker init-db` を実行してください")
    app = create_app(state.config)
    click.echo(f"http://{host}:{port}/ で待ち受けています（Ctrl+C で終了）")
    waitress_serve(app, host=host, port=port, threads=threads, ident="tracker")
