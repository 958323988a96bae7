from __future__ import annotations

import sys

import click

from opsgov_hooks.commands.options import repo_option


@click.command()
@click.argument("operation_id", metavar="OPS-ID")
@repo_option
def prompt(operation_id: str, repo: str) -> int:
    """Print the canonical ops prompt (ops/ops_prompt_template_v1.txt) filled for OPS-ID.

    The repository's own template is used when it has one, else the one shipped with
    opsgov. Every placeholder is filled; an unknown one is an error (exit 2).
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.prompt import run_prompt

    return run_guarded(lambda: run_prompt(repo, operation_id, sys.stdout))
