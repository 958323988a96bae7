"""The report as Markdown: tables an auditor can read in a pull request or a wiki."""
from __future__ import annotations

from collections.abc import Sequence

from opsgov_hooks.output.text import format_line
from opsgov_hooks.audit.model import CommitRow, OperationRow, Report
from opsgov_hooks.audit.period import iso
from opsgov_hooks.audit.requirements import group_findings
from opsgov_hooks.audit.summary import summary


def cell(value: object) -> str:
    """A table cell: never breaks the table (pipes escaped, one line), a dash when empty; what a record
    says is shown as text, never read as HTML or Markdown (``<script>`` from a ledger field stays text)."""
    if value is None or value == "":
        return "-"
    return text(str(value).replace("\r", " ").replace("\n", " ")).replace("|", "\\|")


# HTML as entities (a renderer then shows '<script>' as text), and a backslash before what would
# start a link, so '[x](javascript:...)' from a record field is no link either.
_MARKDOWN = str.maketrans({"\\": "\\\\", "[": "\\[", "]": "\\]", "<": "&lt;", ">": "&gt;", "&": "&amp;"})


def text(value: str) -> str:
    """``value`` as literal Markdown text: HTML special characters as entities, link brackets escaped."""
    return value.translate(_MARKDOWN)


def code(value: str) -> str:
    """``value`` as an inline code span whatever backticks it holds (HTML is never rendered inside one)."""
    flat = value.replace("\n", " ")
    if "`" not in flat:
        return f"`{flat}`"
    ticks = "`" * (max(len(r) for r in _runs(flat)) + 1)
    return f"{ticks} {flat} {ticks}"   # the spaces keep a backtick at either end out of the fence


def _runs(value: str) -> list[str]:
    runs, current = [], ""
    for ch in value:
        if ch == "`":
            current += ch
        elif current:
            runs.append(current)
            current = ""
    return runs + ([current] if current else [])


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def render(report: Report) -> str:
    lines = _header(report) + _summary(report) + _operations(report.operations) + _evidence(report.operations)
    lines += _approvals(report.operations)
    lines += _commits(report.commits) + _overdue(report) + _requirements(report)
    return "\n".join(lines).rstrip("\n") + "\n"


def _header(report: Report) -> list[str]:
    head = report.head[:12] if report.head else "(no commit)"
    return [f"# Audit report: {text(report.repository)}", "",
            f"- Period: {iso(report.period.since) or 'beginning of history'} to {iso(report.period.until)} (UTC)",
            f"- Generated: {iso(report.generated_at)} at HEAD {head}",
            f"- Policy: {report.policy_source}; governed paths: "
            + ", ".join(code(p) for p in report.governed_paths), ""]


def _summary(report: Report) -> list[str]:
    s = summary(report)
    by_class = ", ".join(f"{k} {v}" for k, v in s["by_risk_class"].items())
    by_outcome = ", ".join(f"{k} {v}" for k, v in s["by_outcome"].items())
    rows = [("Operations", f"{s['operations']} ({by_class})"), ("Outcomes", by_outcome),
            ("Governed commits", f"{s['governed_commits']} ({s['traced_commits']} traced, "
                                 f"{s['untraced_commits']} untraced)"),
            ("Overdue emergency approvals", s["overdue_emergency_approvals"]),
            ("Findings", f"{s['errors']} error(s), {s['warnings']} warning(s)")]
    return ["## Summary", ""] + table(("Item", "Value"), rows) + [""]


def _operations(operations: Sequence[OperationRow]) -> list[str]:
    lines = ["## Operations", ""]
    if not operations:
        return lines + ["No operation in this period.", ""]
    rows = [(o.operation_id, o.name, o.risk_class, o.requested_by, o.approved_by, iso(o.approval_timestamp),
             iso(o.execution_timestamp), o.outcome + (" (emergency)" if o.emergency else ""), o.tag.name
             if o.tag.present else "none", o.tag.status, _rollback(o)) for o in operations]
    headers = ("Operation", "Name", "Risk class", "Requested by", "Approved by", "Approved", "Executed",
               "Outcome", "Tag", "Tag status", "Rollback evidence")
    return lines + table(headers, rows) + [""]


def _evidence(operations: Sequence[OperationRow]) -> list[str]:
    lines = ["## Verification evidence", ""]
    rows = [(o.operation_id, e.step, e.command, e.status, e.step_status) for o in operations for e in o.evidence]
    if not rows:
        return lines + ["No operation of this period logged a verification.", ""]
    return lines + table(("Operation", "Step", "Verification command", "Exit status", "Step"), rows) + [""]


def _approvals(operations: Sequence[OperationRow]) -> list[str]:
    """Signed approvals, when any operation of the period has (or needs) one."""
    rows = [(o.operation_id, o.approval.approved_by, o.approval.fingerprint, o.approval.verdict,
             o.approval.commit[:12] if o.approval.commit else None, o.approval.after)
            for o in operations if o.approval is not None]
    if not rows:
        return []
    headers = ("Operation", "Approved by", "Key fingerprint", "Verified", "Approval commit", "Changes after approval")
    return ["## Signed approvals", ""] + table(headers, rows) + [""]


def _rollback(o: OperationRow) -> str:
    if o.outcome == "ROLLBACK":
        return f"{iso(o.rollback_timestamp)}: {o.rollback_evidence}"
    return f"ref {o.rollback_ref}" if o.rollback_ref else ""


def _commits(commits: Sequence[CommitRow]) -> list[str]:
    lines = ["## Governed commits", ""]
    if not commits:
        return lines + ["No commit of this period touches a governed path.", ""]
    rows = [(c.sha[:12], iso(c.committed_at), c.author, c.subject, ", ".join(c.operation_ids) or
             ("before adoption" if c.traced else "NOT TRACED"), c.method, ", ".join(c.governed_paths)) for c in commits]
    lines += table(("Commit", "Committed", "Author", "Subject", "Operation", "Traced by", "Governed paths"), rows)
    untraced = [c for c in commits if not c.traced]
    lines += ["", f"Untraced governed commits: {len(untraced)}.", ""]
    return lines


def _overdue(report: Report) -> list[str]:
    lines = ["## Overdue emergency approvals", ""]
    if not report.overdue:
        return lines + ["None.", ""]
    rows = [(o.operation_id, iso(o.execution_timestamp), iso(o.deadline), iso(o.approval_timestamp),
             o.hours_late, o.approved_by) for o in report.overdue]
    return lines + table(("Operation", "Executed", "Approval due", "Approved", "Hours late", "Approved by"),
                         rows) + [""]


def _requirements(report: Report) -> list[str]:
    lines = ["## Findings by requirement", ""]
    for group in group_findings([f.code for f in report.findings]):
        req = group.requirement
        lines += [f"### {req.framework} {req.control}: {req.title}", "", f"> {req.text}", ""]
        for area in group.areas:
            lines.append(f"- **{area.area.title}** ({area.aspect}): {len(area.findings)} finding(s)")
            lines += [f"  - {code(format_line(report.findings[i]))}" for i in area.findings]
        lines.append("")
    return lines
