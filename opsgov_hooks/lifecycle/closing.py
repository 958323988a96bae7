"""Which operation ``opsgov tag`` closes when no id is given: the one the tagged commit carries out.

A commit belongs to an operation by the records it writes and by its ``Ops-Id`` trailers (the
gate's rules (a) and (b)). Exactly one such operation without a tag yet is the answer; none or
several is a usage error that lists them, so ``opsgov tag`` never guesses.
"""
from __future__ import annotations

from opsgov_hooks.findings import UsageError
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.ids import ID_RE, tag_name
from opsgov_hooks.rules.association import operation_of_record


def operations_of_commit(git: Git, sha: str, policy: Policy) -> list[str]:
    """The operations ``sha`` writes the records of or names in an ``Ops-Id`` trailer, sorted."""
    parents = git.parents(sha)
    found = {op for entry in git.diff_entries(parents[0] if parents else None, sha) if entry.status != "D"
             for op in [operation_of_record(entry.path, policy)] if op}
    message = git.commit_messages([sha]).get(sha, "")
    if "ops-id" in message.lower():
        found |= {value.strip() for key, value in git.parse_trailers(message.encode("utf-8"))
                  if key.lower() == "ops-id" and ID_RE.match(value.strip())}
    return sorted(found)


def operation_to_close(git: Git, sha: str, rev: str, policy: Policy) -> str:
    ops = operations_of_commit(git, sha, policy)
    open_ops = [op for op in ops if git.local_tag(tag_name(op)) is None]
    if len(open_ops) == 1:
        return open_ops[0]
    if not ops:
        raise UsageError(f"{rev} writes no operation record and names none in an Ops-Id trailer: name the "
                         "operation to close, e.g. opsgov tag OPS-2026-01-27-001")
    if not open_ops:
        raise UsageError(f"every operation {rev} belongs to is closed already ({', '.join(ops)})")
    raise UsageError(f"{rev} belongs to {len(open_ops)} open operations ({', '.join(open_ops)}): name the one to "
                     f"close, e.g. opsgov tag {open_ops[0]}")
