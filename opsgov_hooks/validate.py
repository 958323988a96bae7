"""``opsgov validate``: records on disk, checked on their own and against each other (no history)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from opsgov_hooks.config import CONFIG_FILE, PYPROJECT_FILE, Policy, load_policy
from opsgov_hooks.findings import Finding, UsageError, has_errors, sort_findings
from opsgov_hooks.records.store import RecordSet, load_records, record_kind
from opsgov_hooks.reporters import get_reporter
from opsgov_hooks.rules.registry import run_record_rules
from opsgov_hooks.sources import WorktreeSource


def find_root(start: str) -> str:
    """The repository root when inside git (without needing git history), else ``start``."""
    here = os.path.abspath(start)
    probe = here
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


def validate_paths(root: str, paths: Sequence[str] | None) -> tuple[Policy, RecordSet, list[Finding]]:
    source = WorktreeSource(root)
    policy = load_policy(source)  # a broken config is exit 2, with its findings
    tags = _tags(root) if policy.ledger_backend == "tags" else []
    selected = None
    if paths:
        selected = []
        unknown = []
        for path in paths:
            rel = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
            if rel in (CONFIG_FILE, PYPROJECT_FILE):
                continue  # already validated by load_policy
            if rel.startswith("../") or record_kind(rel, policy) is None:
                unknown.append(path)
            else:
                selected.append(rel)
        if unknown:
            raise UsageError(f"not a record file of this repository's policy: {', '.join(unknown)} "
                             f"(operation records live in {policy.operations_dir}/, the ledger in "
                             f"{policy.ledger_path or 'ops-* tags'})")
    records = load_records(source, policy, paths=selected, tags=tags)
    findings = list(records.findings)
    if selected is None or len(selected) > 0:
        # Cross-record rules see every record, so a single file is still checked against the rest.
        everything = records if selected is None else load_records(source, policy, tags=tags)
        findings += [f for f in run_record_rules(everything, policy) if selected is None or f.path in selected]
    return policy, records, findings


def _tags(root: str) -> list:  # type: ignore[type-arg]
    from opsgov_hooks.gitio import Git

    return Git.discover(root).ops_tags()


def run_validate(start: str, paths: Sequence[str] | None, output_format: str, out: TextIO) -> int:
    root = find_root(start)
    _policy, _records, findings = validate_paths(root, paths)
    ordered = sort_findings(findings)
    out.write(get_reporter(output_format)(ordered))
    return 1 if has_errors(ordered) else 0
