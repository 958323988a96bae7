"""Reporters only format findings; they decide nothing.

Every reporter takes the findings and, for the formats with one entry per thing judged
(JUnit), what was judged: commit ids and record paths. ``command`` names the run
(``opsgov check``) where a format has a place for it.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Protocol

from opsgov_hooks.findings import Finding, Severity

FORMATS = ("text", "json", "github", "sarif", "gitlab", "junit")

Render = Callable[[Sequence[Finding], Sequence[str], str], str]


class Reporter(Protocol):
    def __call__(self, findings: Sequence[Finding], judged: Sequence[str] = ()) -> str: ...


def default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def _renderer(name: str, quiet: bool) -> Render:
    if name == "json":
        from opsgov_hooks.output.json_reporter import render
    elif name == "github":
        from opsgov_hooks.output.github import render
    elif name == "sarif":
        from opsgov_hooks.output.sarif import render
    elif name == "gitlab":
        from opsgov_hooks.output.gitlab import render
    elif name == "junit":
        from opsgov_hooks.output.junit import render
    else:
        from opsgov_hooks.output.text import render, render_quiet

        return render_quiet if quiet else render
    return render


def get_reporter(name: str, *, quiet: bool = False, command: str = "opsgov check") -> Reporter:
    """The reporter called ``name``; ``quiet``: errors only, and no summary line."""
    render = _renderer(name, quiet)

    def report(findings: Sequence[Finding], judged: Sequence[str] = ()) -> str:
        if quiet and name != "text":
            findings = [f for f in findings if f.severity is Severity.ERROR]
        return render(findings, judged, command)

    return report
