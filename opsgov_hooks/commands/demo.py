from __future__ import annotations

import sys

import click


@click.command()
@click.option("--dir", "keep", type=click.Path(file_okay=False), default=None,
              help="Build the demo repository in this (new or empty) folder and keep it.")
def demo(keep: str | None) -> int:
    """Walk a whole operation lifecycle in a throwaway repository.

    Real git and the real opsgov commands: a change blocked, the operation declared,
    a step recorded with verification, the ledger entry written, the change allowed,
    the operation tagged, and a later rollback recorded.
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.adoption.demo import run_demo

    return run_guarded(lambda: run_demo(keep, sys.stdout))
