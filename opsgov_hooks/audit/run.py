"""``opsgov report``: collect the period's facts, build the report, render it in the chosen format."""
from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import TextIO

from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.audit.analyse import build_report
from opsgov_hooks.audit.collect import collect
from opsgov_hooks.audit.model import Report
from opsgov_hooks.audit.period import UTC, make_period
from opsgov_hooks.findings import has_errors
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.output import get_reporter
from opsgov_hooks.term import Printer, Progress

FORMATS = ("md", "json", "html", "sarif", "gitlab", "junit")
FINDING_FORMATS = ("sarif", "gitlab", "junit")   # the per-finding part only, as 'opsgov check' gives it
# A history longer than this is reported over its last DEFAULT_SPAN unless --since says otherwise: an
# audit covers a period (SOC 2 type II: typically twelve months), and the whole of a decade-long
# history is neither asked for nor cheap.
LONG_HISTORY = 20_000
DEFAULT_SPAN = datetime.timedelta(days=365)


def _findings_renderer(fmt: str) -> Callable[[Report], str]:
    reporter = get_reporter(fmt, command="opsgov report")

    def render(report: Report) -> str:
        # JUnit: one test case per governed commit of the period and per operation record.
        judged = [c.sha for c in report.commits] + sorted({op.record_path for op in report.operations
                                                           if op.record_path})
        return reporter(report.findings, judged)

    return render


def renderer(fmt: str) -> Callable[[Report], str]:
    """The door to the report's formats: only the chosen renderer is imported."""
    if fmt in FINDING_FORMATS:
        return _findings_renderer(fmt)
    if fmt == "json":
        from opsgov_hooks.audit.jsonout import render
    elif fmt == "html":
        from opsgov_hooks.audit.html import render
    else:
        from opsgov_hooks.audit.markdown import render
    return render


def run_report(start: str, since: str | None, until: str | None, fmt: str, output: str | None, *,
               quiet: bool, out: TextIO, err: TextIO, now: datetime.datetime | None = None) -> int:
    """Write the report; exit 1 when it holds error findings (gaps in the evidence), else 0."""
    moment = now or datetime.datetime.now(UTC)
    period = make_period(since, until, moment)
    with Git.discover(start) as git, Progress(err, quiet=quiet) as progress:
        if since is None and git.head() is not None:
            count = git.count_commits()
            if count > LONG_HISTORY:
                period = dataclasses.replace(period, since=period.until - DEFAULT_SPAN)
                Printer(err, quiet=quiet).info(
                    f"the history has {count} commits: the report covers the {DEFAULT_SPAN.days} days up to "
                    f"{period.until.date().isoformat()}; choose the period with --since (--since 1970-01-01 "
                    "for the whole history)")
        facts = collect(git, progress, period)
        progress.update("building the report...")
        report = build_report(facts, period, moment)
    text = renderer(fmt)(report)
    if output is None:
        out.write(text)
    else:
        write_atomic(output, text.encode("utf-8"))
        gaps = "with error findings" if has_errors(report.findings) else "no error findings"
        Printer(out, quiet=quiet).info(f"wrote {output}: {len(report.operations)} operation(s), "
                                       f"{len(report.commits)} governed commit(s), {gaps}")
    return 1 if has_errors(report.findings) else 0
