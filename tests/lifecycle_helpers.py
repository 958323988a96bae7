"""Helpers for the lifecycle tests: declared operations in real repositories, and check contexts."""
from __future__ import annotations

import datetime

from conftest import Repo, declaration_text

OP = "OPS-2026-01-27-001"
# What 'opsgov ledger record OP' with record_args() writes, byte for byte (without the '---' line).
RECORDED_YAML = (
    f"operation_id: {OP}\n"
    "operation_name: Tune Prometheus scrape interval\n"
    "requested_by: operator@example.com\n"
    "approved_by: bob@example.com\n"
    "approval_timestamp: 2026-01-27T09:00:00Z\n"
    "execution_timestamp: 2026-01-27T10:00:00Z\n"
    "risk_class: LOW_RISK_CONFIG\n"
    "blast_radius: Prometheus metrics freshness only\n"
    "changes_summary: scrape_interval 15s -> 30s\n"
    "rollback_ref: 'command: git revert HEAD'\n"
    "outcome: SUCCESS\n"
)
NOW = datetime.datetime(2026, 2, 1, 12, 0, tzinfo=datetime.timezone.utc)

RECORD_DEFAULTS = {
    "--approved-by": "bob@example.com",
    "--approval-timestamp": "2026-01-27T09:00:00Z",
    "--execution-timestamp": "2026-01-27T10:00:00Z",
    "--changes-summary": "scrape_interval 15s -> 30s",
    "--rollback-ref": "command: git revert HEAD",
}


def record_args(op_id: str = OP, **overrides: str | None) -> list[str]:
    """``ledger record`` arguments; override a flag as a keyword (approved_by=...) or drop it with None."""
    flags = dict(RECORD_DEFAULTS)
    for key, value in overrides.items():
        flag = "--" + key.replace("_", "-")
        if value is None:
            flags.pop(flag, None)
        else:
            flags[flag] = value
    args = ["ledger", "record", op_id]
    for flag, value in flags.items():
        args += [flag] if value == "" else [flag, value]
    return args


def declare(repo: Repo, op_id: str = OP, commit: bool = True, **overrides: object) -> str:
    repo.write(f"ops/operations/{op_id}.md", declaration_text(op_id, **overrides))
    return repo.commit(f"declare {op_id}") if commit else ""


def context(repo: Repo, base: str | None, head: str | None, *, mode: str = "range",
            tags: bool = True):  # type: ignore[no-untyped-def]
    """A CheckContext built as the gate builds it: records from real commits (head None: the index)."""
    from opsgov_hooks.policy.config import load_policy
    from opsgov_hooks.rules.context import CheckContext
    from opsgov_hooks.git.gitio import Git
    from opsgov_hooks.check.pipeline import answerable_operations
    from opsgov_hooks.speed.records_cache import load_records
    from opsgov_hooks.git.sources import CommitSource, IndexSource

    git = Git(str(repo.path))
    trusted = CommitSource(git, base) if base else CommitSource(git, head)
    policy = load_policy(trusted)
    tag_refs = git.ops_tags() if tags else []
    head_source = CommitSource(git, head) if head else IndexSource(git)
    tagged = tag_refs if policy.ledger_backend == "tags" else []
    head_records = load_records(head_source, policy, tags=tagged)
    base_records = load_records(CommitSource(git, base), policy, tags=tagged)
    # As the gate does: a change answers for the entries it changes (all of them under --all).
    answerable = answerable_operations(git, mode, head_records, base_records, head, base)
    ctx = CheckContext(policy, head_records, base_records, mode, tags=tag_refs, head_sha=head,
                       base_sha=base, git=git, answerable=answerable)
    return ctx


def history(repo: Repo, base: str | None, head: str | None, **kwargs: object) -> list[str]:
    """Text lines of the findings of every registered history rule (preparers run first).

    The gate's own history rules (G codes) are tested by their owner, so they are left out.
    """
    from opsgov_hooks.output.text import format_line
    from opsgov_hooks.check.runner import run_history_rules

    ctx = context(repo, base, head, **kwargs)  # type: ignore[arg-type]
    return [format_line(f) for f in run_history_rules(ctx) if not f.code.startswith("G")]
