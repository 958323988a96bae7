"""The configuration's evidence patterns: compiled once, and C002 for one that does not compile.

Apart from the execution-log rules that use them (:mod:`opsgov_hooks.rules.execution`): the
C002 check runs on every check, and must not load the execution-log parsers to do it.
"""
from __future__ import annotations

import re

from opsgov_hooks import linear
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.store import RecordSet


def evidence_patterns_valid(records: RecordSet, policy: Policy) -> list[Finding]:
    """C002 for a pattern that does not compile: once per run, however many operations there are."""
    return evidence_patterns(policy)[1]


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
