from __future__ import annotations

import sys

import click

from opsgov_hooks.commands.options import repo_option


@click.command()
@click.option("--since", metavar="DATE", help="Start of the period: a UTC date (2026-01-01) or instant "
              "(2026-01-01T00:00:00Z). Default: the beginning of history (a history of more than 20,000 commits: "
              "the 365 days before --until).")
@click.option("--until", metavar="DATE", help="End of the period, inclusive (a date means the whole day). "
              "Default: now.")
@click.option("--format", "output_format", type=click.Choice(("md", "json", "html", "sarif", "gitlab", "junit")),
              default="md", show_default=True, help="md for reading, json for machines (schemas/report.schema.json), "
              "html for one self-contained page with a timeline chart; sarif, gitlab (Code Quality) and junit give "
              "the report's findings only.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to FILE (atomically) "
              "instead of standard output.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no status line.")
@repo_option
def report(since: str | None, until: str | None, output_format: str, output: str | None, quiet: bool,
           repo: str) -> int:
    """Audit report of a period: operations, governed commits traced to them, gaps by requirement.

    Every operation with its risk class, requester, approver, timestamps, outcome, tag
    and rollback evidence; every commit of the period that touches a governed path,
    traced to its operation (or not); overdue emergency approvals; findings grouped
    by SOC 2 CC8.1, ISO/IEC 27001:2022 A.8.32 and NIST SP 800-53 CM-3. Read from
    HEAD's committed records and history. Exit 1 when the report holds error findings.
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.audit.run import run_report

    return run_guarded(lambda: run_report(repo, since, until, output_format, output, quiet=quiet,
                                          out=sys.stdout, err=sys.stderr))
