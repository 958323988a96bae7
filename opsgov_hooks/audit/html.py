"""The report as ONE self-contained HTML file: inline CSS, inline SVG, no script, no network.

A Content-Security-Policy in the page itself forbids every fetch, so even a
tampered copy cannot load anything; every value from the records is escaped.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from opsgov_hooks.output.text import format_line
from opsgov_hooks.audit.model import Report
from opsgov_hooks.audit.period import iso
from opsgov_hooks.audit.requirements import group_findings
from opsgov_hooks.audit.summary import risk_classes, summary
from opsgov_hooks.audit.timeline import COLOURS, render_svg

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; margin: 24px auto;
       max-width: 1180px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 18px 0 4px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; } .meta { color: #57606a; } code { font-size: 12px; }
.bad { color: #c62828; font-weight: 600; } .ok { color: #2e7d32; }
blockquote { margin: 4px 0 8px; padding-left: 10px; border-left: 3px solid #d0d7de; color: #57606a; }
.outcome { display: inline-block; padding: 0 6px; border-radius: 8px; color: #fff; }
figure { margin: 0; overflow-x: auto; }
"""


def render(report: Report) -> str:
    body = _header(report) + _chart(report) + _summary(report) + _operations(report) + _evidence(report)
    body += _approvals(report)
    body += _commits(report) + _overdue(report) + _requirements(report)
    title = escape(f"Audit report: {report.repository}")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n"
            f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table whose cells are already-escaped HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _e(value: object) -> str:
    return "-" if value is None or value == "" else escape(str(value))


def _header(report: Report) -> list[str]:
    head = report.head[:12] if report.head else "(no commit)"
    since = iso(report.period.since) or "beginning of history"
    paths = ", ".join(f"<code>{escape(p)}</code>" for p in report.governed_paths)
    return [f"<h1>Audit report: {escape(report.repository)}</h1>",
            f"<p class=\"meta\">Period {escape(since)} to {_e(iso(report.period.until))} (UTC). Generated "
            f"{_e(iso(report.generated_at))} at HEAD <code>{escape(head)}</code>. Policy: "
            f"{escape(report.policy_source)}; governed paths: {paths}.</p>"]


def _chart(report: Report) -> list[str]:
    return ["<h2>Timeline: operations by risk class and outcome</h2>",
            "<figure>" + render_svg(report.operations, risk_classes(report)) + "</figure>"]


def _summary(report: Report) -> list[str]:
    s = summary(report)
    classes = ", ".join(f"{escape(k)} {v}" for k, v in s["by_risk_class"].items())
    outcomes = ", ".join(f"{escape(k)} {v}" for k, v in s["by_outcome"].items())
    untraced = f"<span class=\"{'bad' if s['untraced_commits'] else 'ok'}\">{s['untraced_commits']} untraced</span>"
    rows = [["Operations", f"{s['operations']} ({classes})"], ["Outcomes", outcomes],
            ["Governed commits", f"{s['governed_commits']} ({s['traced_commits']} traced, {untraced})"],
            ["Overdue emergency approvals", str(s["overdue_emergency_approvals"])],
            ["Findings", f"{s['errors']} error(s), {s['warnings']} warning(s)"]]
    return ["<h2>Summary</h2>", _table(("Item", "Value"), rows)]


def _outcome(outcome: str) -> str:
    colour = COLOURS.get(outcome, COLOURS["OPEN"])
    return f"<span class=\"outcome\" style=\"background:{colour}\">{escape(outcome)}</span>"


def _approvals(report: Report) -> list[str]:
    """Signed approvals, when any operation of the period has (or needs) one."""
    rows = [[f"<code>{escape(o.operation_id)}</code>", _e(o.approval.approved_by), _e(o.approval.fingerprint),
             _e(o.approval.verdict), _e(o.approval.commit[:12] if o.approval.commit else None), _e(o.approval.after)]
            for o in report.operations if o.approval is not None]
    if not rows:
        return []
    headers = ("Operation", "Approved by", "Key fingerprint", "Verified", "Approval commit", "Changes after approval")
    return ["<h2>Signed approvals</h2>", _table(headers, rows)]


def _operations(report: Report) -> list[str]:
    if not report.operations:
        return ["<h2>Operations</h2>", "<p>No operation in this period.</p>"]
    rows = []
    for o in report.operations:
        rollback = (f"{_e(iso(o.rollback_timestamp))}: {_e(o.rollback_evidence)}" if o.outcome == "ROLLBACK"
                    else f"ref <code>{_e(o.rollback_ref)}</code>" if o.rollback_ref else "-")
        rows.append([f"<code>{escape(o.operation_id)}</code>", _e(o.name), _e(o.risk_class), _e(o.requested_by),
                     _e(o.approved_by), _e(iso(o.approval_timestamp)), _e(iso(o.execution_timestamp)),
                     _outcome(o.outcome) + (" emergency" if o.emergency else ""),
                     _e(o.tag.name if o.tag.present else "none"), _e(o.tag.status), rollback])
    headers = ("Operation", "Name", "Risk class", "Requested by", "Approved by", "Approved", "Executed",
               "Outcome", "Tag", "Tag status", "Rollback evidence")
    return ["<h2>Operations</h2>", _table(headers, rows)]


def _evidence(report: Report) -> list[str]:
    rows = [[_e(o.operation_id), _e(str(e.step)), f"<code>{escape(e.command)}</code>", _e(e.status), _e(e.step_status)]
            for o in report.operations for e in o.evidence]
    if not rows:
        return ["<h2>Verification evidence</h2>", "<p>No operation of this period logged a verification.</p>"]
    headers = ("Operation", "Step", "Verification command", "Exit status", "Step")
    return ["<h2>Verification evidence</h2>", _table(headers, rows)]


def _commits(report: Report) -> list[str]:
    if not report.commits:
        return ["<h2>Governed commits</h2>", "<p>No commit of this period touches a governed path.</p>"]
    rows = [[f"<code>{escape(c.sha[:12])}</code>", _e(iso(c.committed_at)), _e(c.author), _e(c.subject),
             _e(", ".join(c.operation_ids) or "before adoption") if c.traced else "<span class=\"bad\">NOT TRACED</span>",
             _e(c.method), "<br>".join(escape(p) for p in c.governed_paths)] for c in report.commits]
    headers = ("Commit", "Committed", "Author", "Subject", "Operation", "Traced by", "Governed paths")
    return ["<h2>Governed commits</h2>", _table(headers, rows)]


def _overdue(report: Report) -> list[str]:
    if not report.overdue:
        return ["<h2>Overdue emergency approvals</h2>", "<p>None.</p>"]
    rows = [[_e(o.operation_id), _e(iso(o.execution_timestamp)), _e(iso(o.deadline)),
             _e(iso(o.approval_timestamp)), _e(o.hours_late), _e(o.approved_by)] for o in report.overdue]
    headers = ("Operation", "Executed", "Approval due", "Approved", "Hours late", "Approved by")
    return ["<h2>Overdue emergency approvals</h2>", _table(headers, rows)]


def _requirements(report: Report) -> list[str]:
    parts = ["<h2>Findings by requirement</h2>"]
    for group in group_findings([f.code for f in report.findings]):
        req = group.requirement
        parts += [f"<h3>{escape(req.framework)} {escape(req.control)}: {escape(req.title)}</h3>",
                  f"<blockquote>{escape(req.text)}</blockquote>", "<ul>"]
        for area in group.areas:
            items = "".join(f"<li><code>{escape(format_line(report.findings[i]))}</code></li>"
                            for i in area.findings)
            parts.append(f"<li><strong>{escape(area.area.title)}</strong> ({escape(area.aspect)}): "
                         f"{len(area.findings)} finding(s)" + (f"<ul>{items}</ul>" if items else "") + "</li>")
        parts.append("</ul>")
    return parts
