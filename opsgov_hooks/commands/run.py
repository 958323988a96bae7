from __future__ import annotations

import sys

import click

from opsgov_hooks.commands.options import repo_option


@click.command()
@click.argument("operation_id", metavar="OPS-ID")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- COMMAND...")
@click.option("--verify", "verifies", multiple=True, metavar="CHECK",
              help="A verification command run after COMMAND (repeatable). Split like a shell would, run "
                   "without one: for a pipe write it yourself, e.g. --verify \"sh -c '... | grep ...'\".")
@click.option("--rollback", is_flag=True, help="This step rolls back: the only kind allowed after a failed step.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop the command (and each check) after this long; the step then FAILS.")
@repo_option
def run(operation_id: str, command: tuple[str, ...], verifies: tuple[str, ...], rollback: bool,
        timeout: float | None, repo: str) -> int:
    """Run one step of OPS-ID and record it in the operation's Execution log.

    COMMAND runs without a shell. The step is PASS only if COMMAND and every CHECK
    succeed; on FAIL the declared ROLLBACK_STRATEGY is printed and the exit code is
    1 (130 when interrupted). A command outside the scope contract is refused
    without running (HALT, exit 2). The command's output goes to stdout; opsgov's
    own messages to stderr.
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.execution.recorder import Halt, StepRequest, record_step

    argv = command[1:] if command[:1] == ("--",) else command
    if not argv:
        raise click.UsageError("give the command to run after '--', e.g. opsgov run OPS-ID -- systemctl reload x")
    request = StepRequest(operation_id, tuple(argv), verifies, rollback, timeout)

    def body() -> int:
        try:
            return record_step(repo, request, sys.stdout, sys.stderr)
        except Halt as exc:
            click.echo(f"opsgov: HALT: {exc}", err=True)
            return 2

    return run_guarded(body)
