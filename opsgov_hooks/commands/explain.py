from __future__ import annotations

import sys
from typing import TextIO

import click


@click.command()
@click.argument("code", required=False)
def explain(code: str | None) -> int:
    """Explain a finding code (e.g. F007); with no CODE, list every code."""
    from opsgov_hooks.commands.guard import run_guarded

    return run_guarded(lambda: run_explain(code, sys.stdout))


def run_explain(code: str | None, out: TextIO) -> int:
    """Print one code's entry, or the list of codes; unknown code: :class:`UsageError` (exit 2)."""
    from opsgov_hooks.codes import CODES, RANGES
    from opsgov_hooks.findings import UsageError

    write = out.write
    if code is None:
        for c in sorted(CODES.values(), key=lambda c: c.code):
            write(f"{c.code}  {c.title}\n")
        return 0
    entry = CODES.get(code.strip().upper())
    if entry is None:
        raise UsageError(f"unknown finding code {code!r}; 'opsgov explain' lists every code "
                         "(also in docs/rules.md)")
    area = RANGES.get(entry.code[0], "other")
    write(f"{entry.code}: {entry.title}\n\n{entry.explanation}\n\nArea: {area}. See docs/rules.md.\n")
    return 0
