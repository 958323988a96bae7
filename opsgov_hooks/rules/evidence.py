"""The configuration's evidence patterns, compiled (for the X012 rule in :mod:`opsgov_hooks.rules.execution`).

A pattern that does not compile is the configuration loader's C002, which stops the run
before any rule (:func:`opsgov_hooks.policy.config._check_patterns`); the defaults all compile
(tests/unit/test_linear.py). No rule checks them again on every run: compiling them with RE2
was about 4 ms of each governed commit.
"""
from __future__ import annotations

import re

from opsgov_hooks import linear
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.policy.config import Policy


def evidence_patterns(policy: Policy) -> tuple[dict[str, list[linear.Pattern]], list[Finding]]:
    """kind -> the patterns that compiled, and a C002 for each that did not."""
    compiled: dict[str, list[linear.Pattern]] = {}
    findings = []
    for kind, patterns in policy.evidence_patterns.items():
        compiled[kind] = []
        for pattern in patterns:
            try:
                compiled[kind].append(linear.compiled(pattern))
            except re.error as exc:
                findings.append(error("C002", f"evidence_patterns.{kind}: invalid regular expression "
                                      f"{pattern!r}: {exc}", policy.source))
    return compiled, findings
