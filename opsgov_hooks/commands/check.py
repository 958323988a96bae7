from __future__ import annotations

import sys

import click

from opsgov_hooks.commands.options import format_option, quiet_option, repo_option


@click.command()
@click.option("--staged", is_flag=True, help="Judge the staged change (the default).")
@click.option("--range", "range_spec", metavar="BASE..HEAD",
              help="Judge each commit of HEAD not in BASE (CI). The default when pre-commit sets "
                   "PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF.")
@click.option("--all", "all_", is_flag=True, help="Judge the repository at HEAD: every record valid, every "
                                                   "governed file covered by an operation.")
@click.option("--pre-receive", is_flag=True,
              help="Judge a push on the server: read 'old new ref' lines on stdin (a pre-receive hook).")
@click.option("--pre-push", is_flag=True, help="Judge what a push sends (pre-commit's pre-push stage).")
@click.option("--commit-msg", "message_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Check the Ops-Id trailers of a commit message against the staged change (commit-msg stage).")
@format_option
@quiet_option
@repo_option
def check(staged: bool, range_spec: str | None, all_: bool, pre_receive: bool, pre_push: bool,
          message_file: str | None, output_format: str | None, quiet: bool, repo: str) -> int:
    """Gate a change: staged, a range of commits, a push, or the whole repository.

    Exit 0 when clean (warnings allowed), 1 when any error is found, 2 for usage or
    environment problems (not a repository, unknown revision, history too shallow).
    """
    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.check.run import CheckArgs, run_check

    chosen = [mode for mode, given in (("staged", staged), ("range", range_spec is not None), ("all", all_),
                                       ("pre-receive", pre_receive), ("pre-push", pre_push),
                                       ("commit-msg", message_file is not None)) if given]
    if len(chosen) > 1:
        raise click.UsageError("choose one of --staged, --range, --all, --pre-receive, --pre-push, --commit-msg")
    args = CheckArgs(chosen[0] if chosen else None, range_spec, message_file, repo, output_format, quiet)
    return run_guarded(lambda: run_check(args, sys.stdout, sys.stdin))
