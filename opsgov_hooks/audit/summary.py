"""Counts every format shows the same way."""
from __future__ import annotations

from collections import Counter
from typing import TypedDict

from opsgov_hooks.policy.config import STANDARD_RISK_CLASSES
from opsgov_hooks.findings import Severity
from opsgov_hooks.audit.model import OPEN, Report

OUTCOMES = ("SUCCESS", "ROLLBACK", "PARTIAL", OPEN)


def risk_classes(report: Report) -> list[str]:
    """The standard's four classes, then any other class an operation of the period uses."""
    extra = sorted({o.risk_class for o in report.operations} - set(STANDARD_RISK_CLASSES))
    return [*STANDARD_RISK_CLASSES, *extra]


class Summary(TypedDict):
    operations: int
    by_risk_class: dict[str, int]
    by_outcome: dict[str, int]
    governed_commits: int
    traced_commits: int
    untraced_commits: int
    overdue_emergency_approvals: int
    errors: int
    warnings: int


def summary(report: Report) -> Summary:
    by_class = Counter(o.risk_class for o in report.operations)
    by_outcome = Counter(o.outcome for o in report.operations)
    traced = sum(c.traced for c in report.commits)
    errors = sum(f.severity is Severity.ERROR for f in report.findings)
    return Summary(
        operations=len(report.operations),
        by_risk_class={c: by_class.get(c, 0) for c in risk_classes(report)},
        by_outcome={o: by_outcome.get(o, 0) for o in OUTCOMES},
        governed_commits=len(report.commits),
        traced_commits=traced,
        untraced_commits=len(report.commits) - traced,
        overdue_emergency_approvals=len(report.overdue),
        errors=errors,
        warnings=len(report.findings) - errors,
    )
