"""``opsgov tag OPS-ID [REV]``: close an operation with an annotated ops tag."""
from __future__ import annotations

import sys

import click

from opsgov_hooks.commands.options import repo_option


@click.command()
@click.argument("operation_id", required=False)
@click.argument("rev", default="HEAD")
@click.option("--sign", is_flag=True, help="Sign the tag with git's configured signing (GPG or SSH).")
@click.option("--dry-run", is_flag=True, help="Check everything and print the tag message; create nothing.")
@click.option("--remote", metavar="NAME", help="Refuse an id the remote already has, then push the tag there.")
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True,
              help="Format of the findings when the tag is refused.")
@repo_option
def tag(operation_id: str | None, rev: str, sign: bool, dry_run: bool, remote: str | None, output_format: str,
        repo: str) -> int:
    """Create the annotated tag ops-yyyy-mm-dd-nnn for OPERATION_ID at REV (default HEAD).

    Without OPERATION_ID: the one open operation HEAD carries out (the records it writes,
    its Ops-Id trailers); none or several is refused with the ids to choose from.

    Refused unless the declaration and the ledger entry at REV are valid and every
    rule passes. Never opens an editor; never moves or overwrites a tag.
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.tagging import TagRequest, close_operation

    request = TagRequest(operation_id, rev, sign, dry_run, remote)
    return run_guarded(lambda: close_operation(repo, request, output_format, sys.stdout))
