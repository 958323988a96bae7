"""The ``opsgov`` console script: the fast answer, else the hook's staged check, else the CLI.

Most commits touch nothing governed, and the pre-commit hook runs on every one of them:
:func:`opsgov_hooks.fastpath.quick_check` answers those with git alone, before anything
else is imported. ``opsgov check`` and ``opsgov check --staged`` (the hook's command lines:
nothing to parse) then run the staged check without importing Click; anything else is the CLI.
"""
from __future__ import annotations

import sys

from opsgov_hooks.fastpath import asks, not_sure, quick_check

HOOK_COMMANDS = (["check"], ["check", "--staged"])


def main() -> int:
    argv = sys.argv[1:]
    code = quick_check(argv)
    if code is not None:
        return code
    if argv in HOOK_COMMANDS:
        if asks(argv):
            not_sure()   # quick_check asked git and could not answer: the staged check will not ask again
        from opsgov_hooks.commands.guard import staged_check

        return staged_check(argv == ["check", "--staged"])
    from opsgov_hooks.cli import main as cli_main

    return cli_main()
