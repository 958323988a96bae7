"""The ``opsgov`` command line: a Click group whose subcommands load lazily.

Commands only parse: each builds plain arguments and calls one function that
returns an exit code. Keeping imports lazy keeps ``opsgov check`` on a commit
with nothing governed close to the cost of git itself.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from opsgov_hooks import __version__

# name -> (module, attribute, one-line help). Help is duplicated here so that
# ``opsgov --help`` does not import every command.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("opsgov_hooks.commands.validate", "validate", "Validate operation records, ledger files and the config."),
    "check": ("opsgov_hooks.commands.check", "check", "Gate a change: staged, a range, a push, or the whole repository."),
    "new": ("opsgov_hooks.commands.new", "new", "Declare a new operation (allocates the next OPS id)."),
    "ledger": ("opsgov_hooks.commands.ledger", "ledger", "Record, roll back, list and show ledger entries."),
    "approve": ("opsgov_hooks.commands.approve", "approve", "Sign an operation's declared scope as its approver."),
    "tag": ("opsgov_hooks.commands.tag", "tag", "Close an operation with an annotated ops-YYYY-MM-DD-NNN tag."),
    "run": ("opsgov_hooks.commands.run", "run", "Run and record one step of an operation, with verification."),
    "prompt": ("opsgov_hooks.commands.prompt", "prompt", "Print the canonical ops prompt filled for an operation."),
    "init": ("opsgov_hooks.commands.init", "init", "Set up opsgov in an existing repository."),
    "demo": ("opsgov_hooks.commands.demo", "demo", "Walk a whole operation lifecycle in a throwaway repository."),
    "report": ("opsgov_hooks.commands.report", "report", "Audit report of a period (md, json, html)."),
    "explain": ("opsgov_hooks.commands.explain", "explain", "Explain a finding code."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (module, _a, _h) in COMMANDS.items() if _available(module))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None or not _available(spec[0]):
            return None
        command: click.Command = getattr(importlib.import_module(spec[0]), spec[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="opsgov")
def cli() -> None:
    """opsgov: every operational change declared, scoped, approved, verified, reversible and recorded.

    Implements Ops Governor v1.0 (P4) and its P5 sign-off ledger. Exit codes:
    0 clean, 1 findings, 2 usage or environment problem.
    """


def main(argv: Sequence[str] | None = None) -> int:
    try:
        result: Any = cli.main(args=list(argv) if argv is not None else None, prog_name="opsgov",
                               standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 2
    return int(result) if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
