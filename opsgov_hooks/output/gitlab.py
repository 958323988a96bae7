"""GitLab Code Quality (the merge request widget): a JSON array of Code Climate issues.

Severity: an error is ``major`` and a warning ``minor`` (GitLab's scale is info, minor,
major, critical, blocker; the exit code, not the severity, is what blocks a merge).
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from opsgov_hooks.findings import Finding, Severity
from opsgov_hooks.output.identity import fingerprints


def _issue(f: Finding, fingerprint: str) -> dict[str, object]:
    text = f.message + (f" (fix: {f.hint})" if f.hint else "")
    return {
        "type": "issue",
        "description": f"{f.code} {text}",
        "check_name": f.code,
        "fingerprint": fingerprint,
        "severity": "major" if f.severity is Severity.ERROR else "minor",
        "location": {"path": f.path, "lines": {"begin": f.line}},
    }


def render(findings: Sequence[Finding], judged: Sequence[str] = (), command: str = "opsgov check") -> str:
    issues = [_issue(f, fp) for f, fp in zip(findings, fingerprints(findings))]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
