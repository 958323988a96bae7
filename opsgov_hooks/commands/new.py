from __future__ import annotations

import sys

import click

from opsgov_hooks.commands.options import repo_option


@click.command()
@click.option("--name", help="OPERATION_NAME: a short name.")
@click.option("--objective", help="OBJECTIVE: what the operation is meant to achieve.")
@click.option("--risk", help="RISK_CLASS: READ_ONLY, LOW_RISK_CONFIG, SERVICE_RESTART, FILESYSTEM_WRITE or a "
              "custom class of the config.")
@click.option("--blast-radius", help="BLAST_RADIUS: what can break.")
@click.option("--rollback", help="ROLLBACK_STRATEGY: how to revert.")
@click.option("--path", "paths", multiple=True, help="ALLOWED_PATHS: a repository glob the operation may "
              "modify (repeat for more).")
@click.option("--service", "services", multiple=True, help="ALLOWED_SERVICES: a service the operation may "
              "restart or reload (repeat for more).")
@click.option("--no-services", is_flag=True, help="ALLOWED_SERVICES is empty: the operation restarts nothing.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="Allocate the id of this UTC day (default: today, UTC).")
@repo_option
def new(name: str | None, objective: str | None, risk: str | None, blast_radius: str | None,
        rollback: str | None, paths: tuple[str, ...], services: tuple[str, ...], no_services: bool,
        day: str | None, repo: str) -> int:
    """Declare an operation: allocate the next OPS-YYYY-MM-DD-NNN and write its record.

    Prints the new id and the record's path. In a terminal, fields missing from the
    flags are asked for; without one, a missing field is an error (exit 2).
    """
    from opsgov_hooks.cli import run_guarded
    from opsgov_hooks.lifecycle.declare import NewRequest, run_new

    if services and no_services:
        raise click.UsageError("--service and --no-services contradict each other")
    request = NewRequest(name, objective, risk, blast_radius, rollback, paths, services, no_services, day)
    return run_guarded(lambda: run_new(repo, request, sys.stdout))
