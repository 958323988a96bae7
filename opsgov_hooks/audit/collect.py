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
import re
from collections.abc import Iterable, Iterator

from opsgov_hooks.policy.config import CONFIG_FILE, Policy, load_policy
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.history import LogCommit
from opsgov_hooks.git.objects import NULL_SHA
from opsgov_hooks.git.signing import descendants
from opsgov_hooks.records.store import RecordSet, record_kind
from opsgov_hooks.check.approval_facts import read_approvals
from opsgov_hooks.rules.approvals import requires_signed_approval
from opsgov_hooks.rules.context import ApprovalFacts
from opsgov_hooks.speed.records_cache import load_records
from opsgov_hooks.audit.model import Facts
from opsgov_hooks.audit.period import Period, parse_instant
from opsgov_hooks.audit.trace import gitignore_spec
from opsgov_hooks.git.sources import CommitSource
from opsgov_hooks.term import Progress


def collect(git: Git, progress: Progress, period: Period) -> Facts:
    head = git.head()
    source = CommitSource(git, head)
    progress.update("reading the policy and records at HEAD...")
    policy = load_policy(source)
    tags = git.ops_tags()
    records = load_records(source, policy, tags=tags)
    progress.update("reading history...")
    commits = list(_needed(git.iter_log_with_changes(), policy, period)) if head else []
    progress.update(f"reading the ledger changes of {len(commits)} commits...")
    touches = ledger_touches(git, commits, policy, period)
    progress.update("verifying signed approvals...")
    approvals, after = approval_facts(git, head, policy, records)
    adoption, before = adoption_facts(git, head)
    return Facts(policy, records, tags, git.tag_dates(), commits, touches, os.path.basename(git.root), head,
                 approvals, after, adoption, before)


def adoption_facts(git: Git, head: str | None) -> tuple[str | None, frozenset[str]]:
    """The commit that first added .opsgov.yaml, and its ancestors: the history before the adoption.

    The gate judges changes from the adoption on; the report shows the commits before it as such.
    """
    if head is None:
        return None, frozenset()
    added = git.run("log", "--diff-filter=A", "--format=%H", "--end-of-options", head, "--", CONFIG_FILE).split()
    if not added:
        return None, frozenset()
    adoption = added[-1].decode()
    parents = git.parents(adoption)
    before = git.rev_list(*parents) if parents else []
    return adoption, frozenset(before)


def approval_facts(git: Git, head: str | None, policy: Policy,
                   records: RecordSet) -> tuple[dict[str, ApprovalFacts], dict[str, frozenset[str]]]:
    """Every approval record at HEAD (and every operation that needs one), verified against HEAD's allowed
    signers as ``check --all`` does, and the commits that descend from each approval commit."""
    if head is None:
        return {}, {}
    present = git.ls_tree(head, [policy.approvals_dir])
    ids = [d.operation_id for d in records.declarations
           if policy.approval_path(d.operation_id) in present or requires_signed_approval(policy, d)]
    facts = read_approvals(git, head, head, policy, ids)
    after = {op_id: descendants(git, f.commit, head) for op_id, f in facts.items() if f.commit is not None}
    return facts, after


def _needed(commits: Iterable[LogCommit], policy: Policy, period: Period) -> Iterator[LogCommit]:
    """What the report keeps of a streamed history: the period's commits that touch a governed path
    or a record, whole (the others are in no row and trace nothing); of the commits outside the
    period, only those that added an operation record (when each operation was declared opens its
    window), and only that."""
    spec = gitignore_spec(policy.governed_paths)
    for commit in commits:
        if period.contains(parse_instant(commit.commit_date)):
            if any(record_kind(c.path, policy) or spec.match_file(c.path) for c in commit.changes):
                yield commit
            continue
        added = tuple(c for c in commit.changes if c.status == "A" and record_kind(c.path, policy) == "operation")
        if added:
            yield LogCommit(commit.sha, (), "", commit.commit_date, "", "", "", added)


def ledger_touches(git: Git, commits: Iterable[LogCommit], policy: Policy, period: Period) -> dict[str, set[str]]:
    """commit sha -> ids whose ledger entry the commit adds, changes or removes (one batch read).

    Only the period's commits are looked at. Entries are compared as text blocks
    (one ``---`` document each), so only the blocks that differ are read for their
    operation id: a month file of a thousand entries is split, not parsed, per commit.
    """
    pairs = [(c.sha, ch.old_blob, ch.new_blob) for c in commits if period.contains(parse_instant(c.commit_date))
             for ch in c.changes if record_kind(ch.path, policy) == "ledger"]
    blobs = sorted({b for _s, old, new in pairs for b in (old, new) if b != NULL_SHA})
    contents = dict(zip(blobs, (data for _kind, data in git.read_objects(blobs))))
    result: dict[str, set[str]] = {}
    for sha, old, new in pairs:
        before, after = entry_blocks(contents.get(old)), entry_blocks(contents.get(new))
        changed = {op_id for block in before ^ after for op_id in _ENTRY_ID.findall(block)}
        if changed:
            result.setdefault(sha, set()).update(changed)
    return result


_ENTRY_ID = re.compile(r"^operation_id:[ \t]*[\"']?(OPS-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{3})\b", re.MULTILINE)


def entry_blocks(raw: bytes | None) -> set[str]:
    """The ``---``-separated blocks of a ledger file (YAML month file or Markdown changelog), as text."""
    if not raw:
        return set()
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    return {block.strip("\n") for block in re.split(r"^(?:---|\.\.\.)[ \t]*$", text, flags=re.MULTILINE)}
