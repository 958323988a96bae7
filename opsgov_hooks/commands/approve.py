"""``opsgov approve OPS-ID``: sign the operation's declared scope as its approver."""
from __future__ import annotations

import sys

import click

from opsgov_hooks.commands.options import repo_option


@click.command()
@click.argument("operation_id")
@click.option("--yes", is_flag=True, help="Approve without asking for confirmation (after reading the scope).")
@repo_option
def approve(operation_id: str, yes: bool, repo: str) -> int:
    """Show OPERATION_ID's declaration and commit a signed approval of its scope.

    Run by the approver in their own clone: writes ops/approvals/OPERATION_ID.yaml and commits it
    alone with 'git commit -S' (git's signing: gpg.format ssh, openpgp or x509, user.signingkey).
    The operation's changes must then be built on top of that commit.
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.approve import ApproveRequest, approve_operation

    return run_guarded(lambda: approve_operation(repo, ApproveRequest(operation_id, yes), sys.stdout))
