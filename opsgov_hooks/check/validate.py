"""``opsgov validate``: records on disk, checked on their own and against each other (no history)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from opsgov_hooks.speed.nogc import paused_gc
from opsgov_hooks.speed.store import open_store
from opsgov_hooks.policy.config import CONFIG_FILE, PYPROJECT_FILE, Policy, load_policy
from opsgov_hooks.findings import Finding, UsageError, has_errors, sort_findings
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.process import find_root
from opsgov_hooks.git.tags import TagRef
from opsgov_hooks.records.store import RecordSet, record_kind, record_prefixes
from opsgov_hooks.speed.records_cache import load_records
from opsgov_hooks.output import get_reporter
from opsgov_hooks.check.runner import run_record_rules
from opsgov_hooks.git.sources import WorktreeSource


def validate_paths(root: str, paths: Sequence[str] | None, start: str | None = None,
                   ) -> tuple[Policy, RecordSet, list[Finding]]:
    """Policy, records and findings for ``paths`` (relative to ``start``), or for every record."""
    source = WorktreeSource(root)
    policy = load_policy(source)  # a broken config is exit 2, with its findings
    tags = _tags(root) if policy.ledger_backend == "tags" else []
    selected = None if not paths else select_records(root, start or root, paths, policy, source)
    records = load_records(source, policy, paths=selected, tags=tags if selected is None else ())
    findings = list(records.findings)
    if selected is None or selected:
        # Cross-record rules see every record, so a single file is still checked against the rest.
        everything = records if selected is None else load_records(source, policy, tags=tags)
        wanted = None if selected is None else set(selected)
        memo = open_store(Git(root), "findings", policy)
        findings += [f for f in run_record_rules(everything, policy, memo=memo) if wanted is None or f.path in wanted]
    return policy, records, findings


def select_records(root: str, start: str, paths: Sequence[str], policy: Policy,
                   source: WorktreeSource) -> list[str]:
    """Repository paths of the record files named (a directory names the records under it).

    Exit 2 for a path that does not exist or is not a record of this policy: a
    validator that skips what it was asked to check would pass by accident.
    """
    selected: list[str] = []
    missing, unknown = [], []
    for path in paths:
        full = os.path.join(os.path.abspath(start), path)
        rel = os.path.relpath(full, root).replace(os.sep, "/")
        if not os.path.exists(full):
            missing.append(path)
        elif rel in (CONFIG_FILE, PYPROJECT_FILE):
            continue  # already validated by load_policy
        elif os.path.isdir(full) and not rel.startswith("../"):
            prefix = "" if rel == "." else rel
            selected += [p for p in source.list([prefix] if prefix else record_prefixes(policy))
                         if record_kind(p, policy)]
        elif rel.startswith("../") or record_kind(rel, policy) is None:
            unknown.append(path)
        else:
            selected.append(rel)
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")
    if unknown:
        raise UsageError(f"not a record file of this repository's policy: {', '.join(unknown)} "
                         f"(operation records live in {policy.operations_dir}/, the ledger in "
                         f"{policy.ledger_path or 'ops-* tags'})")
    return list(dict.fromkeys(selected))


def _tags(root: str) -> list[TagRef]:
    with Git.discover(root) as git:
        return git.ops_tags()


def run_validate(start: str, paths: Sequence[str] | None, output_format: str, out: TextIO, *,
                 quiet: bool = False) -> int:
    if not os.path.isdir(start):
        raise UsageError(f"{start} is not a directory; pass the repository with -C")
    root = find_root(start)
    with paused_gc():   # as for ``opsgov check`` (check/run.py): full collections re-scan every record for nothing
        _policy, records, findings = validate_paths(root, paths, start)
    ordered = sort_findings(findings)
    judged = sorted(set(records.files))
    out.write(get_reporter(output_format, quiet=quiet, command="opsgov validate")(ordered, judged))
    return 1 if has_errors(ordered) else 0
