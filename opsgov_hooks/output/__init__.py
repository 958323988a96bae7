"""Reporters only format findings; they decide nothing."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from opsgov_hooks.findings import Finding, Severity

Reporter = Callable[[Sequence[Finding]], str]

FORMATS = ("text", "json", "github")


def default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def get_reporter(name: str, *, quiet: bool = False) -> Reporter:
    """The reporter called ``name``; ``quiet``: errors only, and no summary line."""
    if name == "json":
        from opsgov_hooks.output.json_reporter import render
    elif name == "github":
        from opsgov_hooks.output.github import render
    else:
        from opsgov_hooks.output.text import render, render_quiet

        return render_quiet if quiet else render
    if not quiet:
        return render
    return lambda findings: render([f for f in findings if f.severity is Severity.ERROR])
