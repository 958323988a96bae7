"""GitHub Actions workflow commands: ``::error file=...,line=...,col=...,title=CODE::message``."""
from __future__ import annotations

from collections.abc import Sequence

from opsgov_hooks.findings import Finding, Severity


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: Sequence[Finding], judged: Sequence[str] = (), command: str = "") -> str:
    out = []
    for f in findings:
        level = "error" if f.severity is Severity.ERROR else "warning"
        message = f.message + (f" (fix: {f.hint})" if f.hint else "")
        out.append(f"::{level} file={_escape_property(f.path)},line={f.line},col={f.column},"
                   f"title={_escape_property(f.code)}::{_escape_data(f.code + ' ' + message)}")
    return "\n".join(out) + ("\n" if out else "")
