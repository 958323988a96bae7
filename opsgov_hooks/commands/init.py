from __future__ import annotations

import sys

import click

from opsgov_hooks.commands.options import repo_option


@click.command()
@click.option("--hooks-repo", metavar="URL", help="Pin the pre-commit hooks to this opsgov repository (and "
              "--hooks-rev) instead of running the installed opsgov as a local hook.")
@click.option("--hooks-rev", metavar="REV", help="The revision of --hooks-repo (default: this version's tag).")
@click.option("-q", "--quiet", is_flag=True, help="Print only what needs your action.")
@repo_option
def init(hooks_repo: str | None, hooks_rev: str | None, quiet: bool, repo: str) -> int:
    """Set up opsgov in an existing git repository.

    Creates the configuration (.opsgov.yaml: the standard's defaults, commented),
    ops/operations/ and ops/ledger/, the runbook and prompt templates,
    docs/governance/OPS_GOVERNOR.md and the pre-commit configuration. It never
    overwrites a file: what exists is kept and reported, so it is safe to run again.
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.adoption.init import run_init

    return run_guarded(lambda: run_init(repo, hooks_repo=hooks_repo, hooks_rev=hooks_rev, quiet=quiet,
                                        out=sys.stdout))
