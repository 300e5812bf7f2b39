"""The ``tracker`` command line (SPEC §7, a contract).

Exit codes: 0 success, 1 domain refusal or invalid input (message on stderr saying what and
where), 2 usage error (click's own). Each command commits once, at its end.

The commands live in the modules of this package, grouped by what they work on; this module
holds the ``main`` group (the console script ``tracker = "tracker.cli:main"``) and registers
them. What they share (``CliState``, ``fail``, ``resolve_actor``) is in :mod:`.common`.
"""

from __future__ import annotations

import click

from tracker.cli import (
    audit,
    backup,
    db,
    disposal,
    doctor,
    id_policy,
    imports,
    notices,
    purge,
    register,
    remail,
    rules,
    serve,
    slots,
    users,
    worker,
)
from tracker.cli.common import CliState, fail, pass_state, resolve_actor


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tracker")
@click.pass_context
def main(ctx: click.Context) -> None:
    """返戻通知カード保管管理 (tracker). The database is TRACKER_DATABASE_URL."""
    ctx.obj = CliState()
    ctx.call_on_close(ctx.obj.close)


main.add_command(db.init_db)
main.add_command(users.create_user)
main.add_command(imports.import_file)
main.add_command(register.register_check)
main.add_command(disposal.disposal_list)
main.add_command(disposal.certificate_verify)
main.add_command(audit.audit_verify)
main.add_command(users.demo_data)
main.add_command(serve.serve)
main.add_command(doctor.doctor)
main.add_command(worker.worker)
main.add_command(db.db_group)
main.add_command(rules.rules_group)
main.add_command(id_policy.id_policy_group)
main.add_command(remail.close_remailed)
main.add_command(slots.slots_group)
main.add_command(purge.purge)
main.add_command(notices.notices_command)
main.add_command(backup.backup_command)
main.add_command(backup.restore_command)

__all__ = ["CliState", "fail", "main", "pass_state", "resolve_actor"]
