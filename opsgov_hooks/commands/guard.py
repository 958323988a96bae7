"""A command body's outcome as an exit code: usage and environment problems are exit 2, never a traceback.

Click-free, so the console script can run the staged check (``opsgov check``, the
pre-commit hook) without importing the command-line parser.
"""
from __future__ import annotations

import sys
from collections.abc import Callable


def run_guarded(action: Callable[[], int]) -> int:
    """Run a command body: usage and environment problems become exit 2, never a traceback.

    The cyclic garbage collector is paused meanwhile: every command loads records, hundreds of
    thousands of small acyclic objects, and full collections only re-scan them (a fifth of a
    cold ``opsgov validate`` at 10,000 operations). Reference counting still frees the rest.
    """
    from opsgov_hooks.findings import UsageError
    from opsgov_hooks.speed.nogc import paused_gc

    try:
        with paused_gc():
            return action()
    except UsageError as exc:
        _say(f"opsgov: error: {exc}")
        return 2
    except KeyboardInterrupt:
        _say("opsgov: interrupted")
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:
        _say(f"opsgov: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return 2


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def staged_check(staged_flag: bool) -> int:
    """``opsgov check`` / ``opsgov check --staged``, exactly as the command parses them."""
    from opsgov_hooks.check.run import CheckArgs, run_check

    args = CheckArgs("staged" if staged_flag else None)
    return run_guarded(lambda: run_check(args, sys.stdout, sys.stdin))
