"""``path:line:col: CODE message (fix: hint)``, one line per finding, and a summary line."""
from __future__ import annotations

from collections.abc import Sequence

from opsgov_hooks.findings import Finding, Severity


def format_line(f: Finding) -> str:
    label = "" if f.severity is Severity.ERROR else "warning: "
    hint = f" (fix: {f.hint})" if f.hint else ""
    return f"{_one_line(f.path)}:{f.line}:{f.column}: {f.code} {label}{_one_line(f.message)}{_one_line(hint)}"


def _one_line(text: str) -> str:
    # A path or value may hold a newline; one finding must stay one line.
    return text.replace("\r", "\\r").replace("\n", "\\n")


def render(findings: Sequence[Finding], judged: Sequence[str] = (), command: str = "") -> str:
    lines = [format_line(f) for f in findings]
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = len(findings) - errors
    if findings:
        lines.append(f"Found {errors} error(s), {warnings} warning(s).")
    return "\n".join(lines) + ("\n" if lines else "")


def render_quiet(findings: Sequence[Finding], judged: Sequence[str] = (), command: str = "") -> str:
    """``--quiet``: the error lines only."""
    lines = [format_line(f) for f in findings if f.severity is Severity.ERROR]
    return "\n".join(lines) + ("\n" if lines else "")
