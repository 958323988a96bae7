from __future__ import annotations

import sys

import click

from opsgov_hooks.commands.options import format_option, quiet_option, repo_option


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@format_option
@quiet_option
@repo_option
def validate(paths: tuple[str, ...], output_format: str | None, quiet: bool, repo: str) -> int:
    """Validate operation records, ledger files and the configuration.

    With no PATH, everything the configuration knows of. Needs no git history.
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.output import default_format
    from opsgov_hooks.check.validate import run_validate

    return run_guarded(lambda: run_validate(repo, paths or None, output_format or default_format(), sys.stdout, quiet=quiet))
