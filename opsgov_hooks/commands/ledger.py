"""``opsgov ledger``: record, roll back, approve, list and show P5 ledger entries."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from opsgov_hooks.commands.options import repo_option

F = TypeVar("F", bound=Callable[..., Any])

OUTCOMES = ("SUCCESS", "ROLLBACK", "PARTIAL")


def _format(f: F) -> F:
    return click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text",
                        show_default=True, help="Output format.")(f)


@click.group()
def ledger() -> None:
    """Record, amend, roll back, approve, list and show ledger entries (in the configured backend)."""


@ledger.command()
@click.argument("operation_id")
@click.option("--requested-by", help="Who asked for the operation (default: git config user.email).")
@click.option("--approved-by", help="Who approved it: a name or e-mail, or SELF (default: the committed signed "
              "approval's approver, else SELF with solo_mode).")
@click.option("--approval-timestamp", help="ISO 8601 UTC instant, or 'now' (default: the committed signed "
              "approval's).")
@click.option("--execution-timestamp", help="ISO 8601 UTC instant, or 'now'.")
@click.option("--changes-summary", help="A one-line summary of the changes.")
@click.option("--rollback-ref", help="A commit, 'command: ...' or 'procedure: ...'.")
@click.option("--outcome", type=click.Choice(OUTCOMES), default="SUCCESS", show_default=True)
@click.option("--notes", help="Optional free text (may grow later, never be rewritten).")
@click.option("--emergency", is_flag=True, help="Executed before approval: someone other than the requester "
              "must approve within emergency_approval_hours ('opsgov ledger approve').")
@click.option("--rollback-timestamp", help="With --outcome ROLLBACK (or PARTIAL): when it was rolled back, ISO "
              "8601 UTC or 'now'.")
@click.option("--rollback-evidence", help="With --outcome ROLLBACK (or PARTIAL): what shows the rollback worked.")
@_format
@repo_option
def record(operation_id: str, requested_by: str | None, approved_by: str | None, approval_timestamp: str | None,
           execution_timestamp: str | None, changes_summary: str | None, rollback_ref: str | None, outcome: str,
           notes: str | None, emergency: bool, rollback_timestamp: str | None, rollback_evidence: str | None,
           output_format: str, repo: str) -> int:
    """Write OPERATION_ID's ledger entry, and section 6 of its record.

    operation_name, risk_class and blast_radius come from the operation's declaration. Before
    anything is written, the rules the gate will run on the operation run (report sections,
    verified steps, evidence for its risk class, the rollback reference): every problem at once.
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.record import EntryOptions, record_entry

    opts = EntryOptions(requested_by, approved_by, approval_timestamp, execution_timestamp, changes_summary,
                        rollback_ref, outcome, notes, emergency, rollback_timestamp, rollback_evidence)
    return run_guarded(lambda: record_entry(repo, operation_id, opts, output_format, sys.stdout))


@ledger.command()
@click.argument("operation_id")
@click.option("--requested-by", help="Who asked for the operation.")
@click.option("--approved-by", help="Who approved it.")
@click.option("--approval-timestamp", help="ISO 8601 UTC instant, or 'now'.")
@click.option("--execution-timestamp", help="ISO 8601 UTC instant, or 'now'.")
@click.option("--changes-summary", help="A one-line summary of the changes.")
@click.option("--rollback-ref", help="A commit, 'command: ...' or 'procedure: ...'.")
@click.option("--outcome", type=click.Choice(OUTCOMES))
@click.option("--notes", help="Free text.")
@click.option("--rollback-timestamp", help="ISO 8601 UTC instant, or 'now'.")
@click.option("--rollback-evidence", help="What shows the rollback worked.")
@_format
@repo_option
def amend(operation_id: str, output_format: str, repo: str, **fields: str | None) -> int:
    """Correct OPERATION_ID's entry before any commit holds it; section 6 follows.

    Only the fields given change. Once HEAD's history holds the entry it is append-only:
    'opsgov ledger rollback' is then the only change it takes.
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.amend import amend_entry

    return run_guarded(lambda: amend_entry(repo, operation_id, fields, output_format, sys.stdout))


@ledger.command()
@click.argument("operation_id")
@click.option("--at", "at", required=True, help="When the rollback was executed: ISO 8601 UTC instant, or 'now'.")
@click.option("--evidence", required=True, help="Verification evidence that the rollback worked.")
@click.option("--outcome", type=click.Choice(("ROLLBACK", "PARTIAL")), default="ROLLBACK", show_default=True)
@_format
@repo_option
def rollback(operation_id: str, at: str, evidence: str, outcome: str, output_format: str, repo: str) -> int:
    """Record that OPERATION_ID was rolled back; the original approval stays as it was."""
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.rollback import rollback_entry

    return run_guarded(lambda: rollback_entry(repo, operation_id, at, evidence, outcome, output_format,
                                              sys.stdout))


@ledger.command()
@click.argument("operation_id")
@click.option("--by", "by", help="The approver: someone other than the requester (default: the signer of the "
              "committed approval 'opsgov approve' made).")
@click.option("--at", "at", help="When they approved: ISO 8601 UTC instant, or 'now' (default: the time of that "
              "signed approval).")
@_format
@repo_option
def approve(operation_id: str, by: str | None, at: str | None, output_format: str, repo: str) -> int:
    """Record the second approval of an emergency operation (executed before approval)."""
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.rollback import approve_entry

    return run_guarded(lambda: approve_entry(repo, operation_id, by, at, output_format, sys.stdout))


@ledger.command(name="list")
@_format
@repo_option
def list_(output_format: str, repo: str) -> int:
    """List every ledger entry, with its outcome and whether a tag seals it."""
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.listing import list_entries

    return run_guarded(lambda: list_entries(repo, output_format, sys.stdout, sys.stderr))


@ledger.command()
@click.argument("operation_id")
@_format
@repo_option
def show(operation_id: str, output_format: str, repo: str) -> int:
    """Show OPERATION_ID's ledger entry."""
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.lifecycle.listing import show_entry

    return run_guarded(lambda: show_entry(repo, operation_id, output_format, sys.stdout, sys.stderr))
