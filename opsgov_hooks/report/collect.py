"""Read what a report needs from git: a handful of batched processes, then plain data.

* the policy and the records from HEAD's tree (what was committed is the evidence;
  an uncommitted edit is not), through one ``cat-file --batch``;
* the history from one ``git log -z --raw``;
* the ``ops-*`` tags from two ``for-each-ref`` calls;
* the ledger blobs that commits changed, through the same batch, so that a
  commit writing a ledger entry is tied to that entry's operation.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from opsgov_hooks.config import Policy, load_policy
from opsgov_hooks.gitio import NULL_SHA, Git, LogCommit
from opsgov_hooks.records.ledger import LedgerEntry, parse_changelog, parse_ledger_yaml
from opsgov_hooks.records.store import load_records, record_kind
from opsgov_hooks.report.model import Facts
from opsgov_hooks.sources import CommitSource
from opsgov_hooks.term import Progress


def collect(git: Git, progress: Progress) -> Facts:
    head = git.head()
    source = CommitSource(git, head)
    progress.update("reading the policy and records at HEAD...")
    policy = load_policy(source)
    tags = git.ops_tags()
    records = load_records(source, policy, tags=tags)
    progress.update("reading history...")
    commits = git.log_with_changes() if head else []
    progress.update(f"reading ledger changes of {len(commits)} commits...")
    touches = ledger_touches(git, commits, policy)
    return Facts(policy, records, tags, git.tag_dates(), commits, touches, os.path.basename(git.root), head)


def ledger_touches(git: Git, commits: Iterable[LogCommit], policy: Policy) -> dict[str, set[str]]:
    """commit sha -> ids whose ledger entry the commit adds, changes or removes (one batch read)."""
    pairs = [(c.sha, ch.path, ch.old_blob, ch.new_blob) for c in commits for ch in c.changes
             if record_kind(ch.path, policy) == "ledger"]
    blobs = sorted({b for _s, _p, old, new in pairs for b in (old, new) if b != NULL_SHA})
    contents = dict(zip(blobs, (data for _kind, data in git.read_objects(blobs))))
    parse = parse_changelog if policy.ledger_backend == "markdown" else parse_ledger_yaml
    cache: dict[tuple[str, str], dict[str, dict[str, object]]] = {}

    def entries(path: str, blob: str) -> dict[str, dict[str, object]]:
        if (path, blob) not in cache:
            raw = contents.get(blob)
            found: list[LedgerEntry] = parse(path, raw)[0] if raw else []
            cache[(path, blob)] = {e.operation_id: e.fields for e in found}
        return cache[(path, blob)]

    result: dict[str, set[str]] = {}
    for sha, path, old, new in pairs:
        before, after = entries(path, old), entries(path, new)
        changed = {i for i in before.keys() | after.keys() if before.get(i) != after.get(i)}
        if changed:
            result.setdefault(sha, set()).update(changed)
    return result
