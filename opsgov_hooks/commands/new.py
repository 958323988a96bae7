from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from opsgov_hooks.commands.options import repo_option

if TYPE_CHECKING:
    from opsgov_hooks.policy.config import Policy


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
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.declare import NewRequest, run_new

    if services and no_services:
        raise click.UsageError("--service and --no-services contradict each other")
    request = NewRequest(name, objective, risk, blast_radius, rollback, paths, services, no_services, day)
    # Questions in a terminal only: a hook or CI job must never hang on a prompt.
    ask = terminal_ask if sys.stdin.isatty() else None
    return run_guarded(lambda: run_new(repo, request, sys.stdout, ask))


def terminal_ask(name: str, policy: Policy) -> object:
    """One declaration field, asked in the terminal until the answer is usable."""
    if name == "RISK_CLASS":
        return click.prompt(name, type=click.Choice(policy.risk_classes), err=True)
    if name == "ALLOWED_PATHS":
        answer = click.prompt(f"{name} (globs, comma-separated)", err=True)
        return [p.strip() for p in answer.split(",") if p.strip()] or terminal_ask(name, policy)
    if name == "ALLOWED_SERVICES":
        answer = click.prompt(f"{name} (comma-separated; empty for none)", default="", show_default=False,
                              err=True)
        return [s.strip() for s in answer.split(",") if s.strip()]
    text: str = click.prompt(name, err=True)
    return text.strip() or terminal_ask(name, policy)
