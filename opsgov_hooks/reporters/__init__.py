"""Reporters only format findings; they decide nothing."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from opsgov_hooks.findings import Finding

Reporter = Callable[[Sequence[Finding]], str]

FORMATS = ("text", "json", "github")


def default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def get_reporter(name: str) -> Reporter:
    if name == "json":
        from opsgov_hooks.reporters.json_reporter import render
    elif name == "github":
        from opsgov_hooks.reporters.github import render
    else:
        from opsgov_hooks.reporters.text import render
    return render
