"""The ``opsgov`` console script: the fast answer, else the hook's staged check, else the CLI.

Most commits touch nothing governed, and the pre-commit hook runs on every one of them:
:func:`opsgov_hooks.fastpath.quick_check` answers those with git alone, before anything
else is imported. ``opsgov check`` and ``opsgov check --staged`` (the hook's command lines:
nothing to parse) then run the staged check without importing Click; anything else is the CLI.
"""
from __future__ import annotations

import os
import sys

from opsgov_hooks.fastpath import asks, not_sure, quick_check

TYPE_CHECKING = False   # typing.TYPE_CHECKING without importing typing (the fast path imports almost nothing)
if TYPE_CHECKING:
    from typing import NoReturn

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


def run() -> NoReturn:
    """The installed ``opsgov`` script: :func:`main`, then exit without tearing the interpreter down.

    Why: a cold run over 10,000 operations holds millions of small objects, and freeing them
    one by one at exit costs 0.1-0.3 s nobody waits for (mypy's ``--fast-exit`` does the same).
    Everything opsgov writes is written, and every cache transaction committed, before
    :func:`main` returns; the standard streams are flushed here. A stream whose reader has
    gone (``opsgov check | head``) makes a clean run exit 1, as a broken pipe does inside a command.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)
