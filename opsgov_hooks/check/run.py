"""``opsgov check``: choose the mode, run it, report. Heavy modules load only past the fast path."""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import TextIO

from opsgov_hooks.speed.nogc import paused_gc
from opsgov_hooks.findings import Finding, UsageError, has_errors, sort_findings

MODES = ("staged", "range", "all", "pre-receive", "pre-push", "commit-msg")


@dataclasses.dataclass(frozen=True)
class CheckArgs:
    mode: str | None = None          # None: staged, or the range pre-commit gives in PRE_COMMIT_FROM/TO_REF
    range_spec: str | None = None
    message_file: str | None = None
    repo: str = "."
    output_format: str | None = None
    quiet: bool = False


def choose_mode(args: CheckArgs, env: Mapping[str, str]) -> CheckArgs:
    if args.mode is not None:
        return args
    if env.get("PRE_COMMIT_FROM_REF") and env.get("PRE_COMMIT_TO_REF"):
        spec = f"{env['PRE_COMMIT_FROM_REF']}..{env['PRE_COMMIT_TO_REF']}"
        return dataclasses.replace(args, mode="range", range_spec=spec)
    return dataclasses.replace(args, mode="staged")


def pre_push_range(env: Mapping[str, str]) -> tuple[str | None, str]:
    """(base, head) of what a push sends, as pre-commit's pre-push stage describes it."""
    if env.get("PRE_COMMIT_FROM_REF") and env.get("PRE_COMMIT_TO_REF"):
        return env["PRE_COMMIT_FROM_REF"], env["PRE_COMMIT_TO_REF"]
    if env.get("PRE_COMMIT_LOCAL_BRANCH"):
        return None, env["PRE_COMMIT_LOCAL_BRANCH"]  # the remote has none of this history yet
    raise UsageError("--pre-push runs from pre-commit's pre-push stage (which sets PRE_COMMIT_FROM_REF and "
                     "PRE_COMMIT_TO_REF); elsewhere use --range BASE..HEAD")


def collect_findings(args: CheckArgs, stdin: TextIO, judged: list[str] | None = None) -> list[Finding]:
    """The findings of the chosen mode, with the cyclic garbage collector paused; ``judged`` collects
    the commits a range or push judged.

    A check builds hundreds of thousands of small, acyclic, long-lived objects (records,
    outlines, findings) and frees almost nothing until it exits: measured on 10,000
    operations, six full collections cost about a second of a cold ``--all`` and found
    about 570 objects to free. Reference counting still frees everything else.
    """
    with paused_gc():
        return _collect(args, stdin, judged)


def _collect(args: CheckArgs, stdin: TextIO, judged: list[str] | None) -> list[Finding]:
    from opsgov_hooks.check import pipeline
    from opsgov_hooks.fastpath import remember
    from opsgov_hooks.git.gitio import Git

    if args.mode in ("pre-receive", "range", "pre-push"):
        from opsgov_hooks.check import ranges   # not on the governed commit's path
    if args.mode == "pre-receive":
        with Git.discover_any(args.repo) as git:
            return list(ranges.check_pre_receive(git, stdin.read(), judged))
    with Git.discover(args.repo) as git:
        if args.mode == "all":
            return list(pipeline.check_all(git))
        if args.mode == "commit-msg":
            assert args.message_file is not None
            return list(pipeline.check_staged(git, pipeline.read_message(git, args.message_file)))
        if args.mode in ("range", "pre-push"):
            base, head = (ranges.parse_range(args.range_spec or "") if args.mode == "range"
                          else pre_push_range(os.environ))
            return list(ranges.check_range(git, base, head, judged))
        return list(pipeline.check_staged(git, on_policy=remember))   # the next commit may take the fast path


def _printable(text: str) -> str:
    """A path git gave as bytes that are not UTF-8 is shown as ``\\xff`` escapes, never a crash."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def printable(finding: Finding) -> Finding:
    hint = _printable(finding.hint) if finding.hint else finding.hint
    return dataclasses.replace(finding, path=_printable(finding.path), message=_printable(finding.message), hint=hint)


def run_check(args: CheckArgs, out: TextIO, stdin: TextIO) -> int:
    from opsgov_hooks.output import default_format, get_reporter

    args = choose_mode(args, os.environ)
    render = get_reporter(args.output_format or default_format(), quiet=args.quiet, command="opsgov check")
    if args.mode == "staged":
        from opsgov_hooks.fastpath import asked_already, nothing_to_judge

        if not asked_already(args.repo) and nothing_to_judge(args.repo):
            out.write(render([]))
            return 0
    judged: list[str] = []
    ordered = sort_findings(printable(f) for f in collect_findings(args, stdin, judged))
    out.write(render(ordered, judged))
    return 1 if has_errors(ordered) else 0
