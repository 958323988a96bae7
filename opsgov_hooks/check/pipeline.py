"""The gate's modes: collect the change, read the policy from a trusted revision, load the records,
run the rules, return the findings.

Where each mode reads what (the decisions, also in docs/gate.md):

* staged: the change is the index against HEAD (the empty tree before the first
  commit). The policy comes from HEAD, not the index: the same "base" rule as in CI,
  so staging an edit of ``.opsgov.yaml`` cannot loosen the check of that very commit
  (and the edit is itself a governed change). Records: the index (resulting tree)
  against HEAD (base).
* commit-msg: the staged change again, now with the message's ``Ops-Id`` trailers.
* all: the tree of HEAD with the policy of HEAD; there is no change, so the question
  is whether every record is valid and every governed file is covered by some operation.
* range and pre-receive: see :mod:`opsgov_hooks.check.ranges`.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence

from opsgov_hooks.speed import parallel, results
from opsgov_hooks.speed.records_cache import forget_later, keep_later
from opsgov_hooks.speed.store import Store, has_store, open_store
from opsgov_hooks.policy.config import CONFIG_FILE, PYPROJECT_FILE, Policy
from opsgov_hooks.speed.policies import kept_policy
from opsgov_hooks.rules.context import CheckContext, judged_tags
from opsgov_hooks.findings import Finding, FindingTuple, Severity, from_tuple, to_tuple
from opsgov_hooks.rules.association import ChangeView, operation_of_approval, signs_nothing
from opsgov_hooks.check.judge import Judge
from opsgov_hooks.check.focus import alters_paths, focused_records
from opsgov_hooks.git.patches import added_lines
from opsgov_hooks.check.change_records import record_files
from opsgov_hooks.git.diffs import DiffEntry
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.records.store import RecordSet, record_kind
from opsgov_hooks.check.runner import run_history_rules, run_record_rules, run_scope_rules, run_tree_rules
from opsgov_hooks.rules import timestamps
from opsgov_hooks.git.sources import CommitSource


def policy_sources(git: Git, rev: str | None) -> tuple[bytes | None, bytes | None]:
    """``.opsgov.yaml`` and ``pyproject.toml`` as the trusted revision ``rev`` holds them (None: absent)."""
    contents = CommitSource(git, rev).read_few([CONFIG_FILE, PYPROJECT_FILE])
    return contents.get(CONFIG_FILE), contents.get(PYPROJECT_FILE)


def trusted_policy(git: Git, rev: str | None) -> Policy:
    """The policy as the trusted revision ``rev`` holds it (None: the empty tree, i.e. the defaults)."""
    return kept_policy(git, *policy_sources(git, rev))


def record_findings(head: RecordSet, base: RecordSet, policy: Policy, touched: set[str],
                    memo: Store | None = None) -> list[Finding]:
    """Record problems the change is answerable for: in files it touches, or new since the base.

    Problems already present at the base are left to ``opsgov validate`` / ``--all``, so one
    broken old record does not block every unrelated change.
    """
    def key(f: Finding) -> tuple[str, str, str]:
        return f.code, f.path, f.message

    # Per-operation rules need to see only the operations whose records the change touches:
    # the others' findings are the same at the base, and would be filtered out below anyway.
    focus = {d.operation_id for d in head.declarations + base.declarations if d.path in touched}
    focus |= {e.operation_id for e in head.entries + base.entries if e.path in touched}
    focus |= {path.rsplit("/", 1)[-1].removesuffix(".md") for path in touched if record_kind(path, policy)}
    before = {key(f) for f in base.findings + run_record_rules(base, policy, focus, memo)}
    return [f for f in head.findings + run_record_rules(head, policy, focus, memo)
            if f.path in touched or key(f) not in before]


def scope_findings(proposed: RecordSet, judge: Judge, touched: set[str]) -> list[Finding]:
    """Approved scopes the change rewrites (G021), in the declarations it touches.

    A scope changes only where its record does, so a finding elsewhere is not the change's: it
    comes from two records under one id (one of them is "approved"), which D006 reports.
    """
    return [f for f in run_scope_rules(proposed, judge.approved) if f.path in touched]


def history_findings(git: Git, judge: Judge, *, mode: str, head: RecordSet, base: RecordSet,
                     entries: list[DiffEntry], existing: frozenset[str], head_sha: str | None,
                     base_sha: str | None, op_changes: Mapping[str, tuple[str, ...]] | None = None) -> list[Finding]:
    """The history-aware rules other areas register (append-only ledger, rollback refs, tags)."""
    ctx = CheckContext(policy=judge.policy, head_records=head, base_records=base, mode=mode,
                       tags=list(judge.tags), existing_paths=existing, shallow=git.is_shallow(),
                       head_sha=head_sha, base_sha=base_sha, git=git,
                       answerable=answerable_operations(git, mode, head, base, head_sha, base_sha),
                       op_changes=dict(op_changes or {}),
                       paths_changed=mode == "all" or alters_paths(git, base_sha, entries),
                       approvals_touched=frozenset(op for e in entries for path in e.paths
                                                   if (op := operation_of_approval(path, judge.policy))))
    ctx.tags = git.complete_tags(ctx.tags, [t.name for t in judged_tags(ctx)])   # messages of these only
    return run_history_rules(ctx)


def carried_out(judge: Judge, view: ChangeView, head: RecordSet, tip: str,
                into: dict[str, tuple[str, ...]]) -> None:
    """Note ``tip`` (a commit; HEAD for the staged change) under each operation the change carries out.

    A change of declarations and approval records only is not carried out under the approval:
    the declaration comes before it, and a later change of scope is the digest's business (P006).
    """
    if signs_nothing(view.paths, judge.policy):
        return
    for op_id in judge.association(view, head).ops:
        into[op_id] = (*into.get(op_id, ()), tip)


def answerable_operations(git: Git, mode: str, head: RecordSet, base: RecordSet, head_sha: str | None,
                          base_sha: str | None) -> frozenset[str] | None:
    """The operations whose ledger entries differ between base and head (None: judge every one).

    A change answers for what it changes. An entry it leaves as it was keeps the findings it had
    at the base, as long as the head's history contains the base's: then every commit the base
    reaches, the head reaches too. A push that rewrites history (the base is not an ancestor of
    the head) is judged in full.
    """
    if mode == "all":
        return None
    if head_sha is not None and base_sha is not None and git.merge_base(base_sha, head_sha) != base_sha:
        return None
    before: dict[str, list[dict[str, object]]] = {}
    for entry in base.entries:
        before.setdefault(entry.operation_id, []).append(entry.fields)
    after: dict[str, list[dict[str, object]]] = {}
    for entry in head.entries:
        after.setdefault(entry.operation_id, []).append(entry.fields)
    return frozenset(op_id for op_id in before.keys() | after.keys() if before.get(op_id) != after.get(op_id))


@dataclasses.dataclass(frozen=True)
class Message:
    """A commit message being written (the commit-msg stage): its file and ``Ops-Id`` trailers."""

    path: str
    trailers: tuple[str, ...]
    lines: dict[str, int]


def read_message(git: Git, path: str) -> Message:
    with open(path, "rb") as f:
        raw = f.read()
    if b"ops-id" not in raw.lower():
        return Message(path, (), {})
    values = tuple(v for k, v in git.parse_trailers(raw) if k.lower() == "ops-id")
    text = raw.decode("utf-8", "replace").splitlines()
    lines = {}
    for value in values:
        pattern = re.compile(r"(?i)^ops-id\s*:\s*" + re.escape(value) + r"\s*$")
        lines[value] = next((i for i, line in enumerate(text, 1) if pattern.match(line)), 1)
    return Message(path, values, lines)


def merge_own_entries(git: Git, entries: list[DiffEntry]) -> tuple[list[DiffEntry], set[str] | None]:
    """While a merge is being concluded: the staged entries whose content differs from HEAD *and*
    from every commit being merged (what the merge commit will answer for), and those paths
    (None when no merge is in progress)."""
    heads = git.merge_heads() if entries else []
    if not heads:
        return entries, None
    own = set.intersection(*(git.staged_paths_against(h) for h in heads))
    return [e for e in entries if any(p in own for p in e.paths)], own


def _ungoverned(git: Git, judge: Judge, entries: list[DiffEntry], head: str | None, merging: set[str] | None,
                message: Message | None) -> list[Finding]:
    """A staged change that touches nothing governed: only the ``applies_to: all`` NOT ALLOWED rules judge it
    (at the pre-commit stage; the commit-msg stage would repeat them)."""
    if message is not None or not judge.everywhere:
        return []
    findings = judge.ungoverned(entries, None)
    if judge.needs_content(judge.everywhere):
        lines = added_lines(git.staged_patch(head))
        findings += judge.content(lines if merging is None else [a for a in lines if a.path in merging], None,
                                  judge.everywhere)
    return findings


def check_staged(git: Git, message: Message | None = None,
                 on_policy: Callable[[bytes | None, bytes | None, Policy], None] | None = None) -> list[Finding]:
    """The staged change (with ``message``: at the commit-msg stage). ``on_policy`` is told the trusted
    configuration and the policy it gives (the command keeps it for the fast path)."""
    head = git.head()
    entries, merging = merge_own_entries(git, git.staged_entries(head))
    trailers = message.trailers if message else None
    if not entries and not trailers:
        return []
    # Asked later, known now: git answers on the other core while the policy and records load.
    git.prefetch_tag_names()   # unused (and ended) when the policy keeps its ledger in tags
    git.prefetch_remotes_without_tags()
    if entries and message is None:
        git.prefetch_staged_patch(head)
    sources = policy_sources(git, head)
    policy = kept_policy(git, *sources)
    if message is None and on_policy is not None:
        on_policy(*sources, policy)
    # Names only: the tags this change answers for are read in full before the history rules run.
    judge = Judge(git, policy, git.ops_tags(messages=policy.ledger_backend == "tags"), head)
    if not judge.governed(entries) and not trailers:
        return _ungoverned(git, judge, entries, head, merging, message)
    judge.know_tags_from(head)
    existing: frozenset[str] = frozenset()   # the index's paths: read when a procedure is judged
    focused = focused_records(git, judge, entries, trailers or (), head, merging)
    if focused is not None:
        head_records, base_records = focused   # the records the change can concern (check/focus.py)
    else:
        index = git.ls_index()
        existing = frozenset(index)
        head_records = judge.records.load(record_files(index, policy))
        base_records = judge.records.load(judge.records.tree_files(head))
    judge.approve(base_records)   # scopes approved at HEAD are what the change is judged against
    view = judge.view(entries, trailers, None, head, head_records)
    if message is not None:
        # The pre-commit stage already reported everything but what the trailers change.
        findings = judge.judge(view, head_records, head_records, message_path=message.path,
                               trailer_lines=message.lines)
        return [f for f in findings if f.severity is Severity.ERROR]
    findings = judge.judge(view, head_records, head_records, entry_may_follow=policy.allow_ledger_followup)
    findings += scope_findings(head_records, judge, set(view.paths))
    findings += judge.reverts(view, entries, head, head_records)
    op_changes: dict[str, tuple[str, ...]] = {}
    if head is not None:
        carried_out(judge, view, head_records, head, op_changes)
    if judge.needs_content():
        lines = added_lines(git.staged_patch(head))
        findings += judge.content(lines if merging is None else [a for a in lines if a.path in merging])
    findings += record_findings(head_records, base_records, policy, set(view.paths),
                                open_store(git, "findings", policy))
    findings += history_findings(git, judge, mode="staged", head=head_records, base=base_records, entries=entries,
                                 existing=existing, head_sha=None, base_sha=head, op_changes=op_changes)
    return findings


def check_all(git: Git) -> list[Finding]:
    """Every record valid, every governed file covered, every tag honest, at HEAD.

    A repeated run with nothing changed is answered from what the last one found
    (:mod:`opsgov_hooks.speed.results` says what "nothing changed" covers).
    """
    head = git.head()
    if head is None:
        return []  # no commit yet: nothing exists to be governed
    now = timestamps.utc_now()   # the clock the timestamp rules read
    key = results.inputs_key(git, head)
    kept = results.recall(git, key, now) if key is not None else None
    if kept is not None:
        return kept
    policy = trusted_policy(git, head)
    findings, records = _check_all(git, head, policy)
    if key is not None and not keys_outside(policy, records):  # then the answer depends on more than the repository
        results.remember(git, key, findings, timestamps.horizon(records, policy, now))
    return findings


def _forget_parents_work(git: Git) -> None:
    """In the history child: the parent's git questions and cache rows stay the parent's."""
    git.forget_batch()
    forget_later()


def keys_outside(policy: Policy, records: RecordSet) -> bool:
    """Do this run's signature checks read keys outside the repository (a keyring, git's own config)?"""
    if policy.require_signed_tags:
        return True
    return not policy.allowed_signers_file and any(policy.requires_signed_approval(d.risk_class)
                                                   for d in records.declarations)


def _check_all(git: Git, head: str, policy: Policy) -> tuple[list[Finding], RecordSet]:
    tags = git.ops_tags()
    judge = Judge(git, policy, tags, head)
    if parallel.cores() >= 2 and not has_store(git, "ancestry", None):
        # Nothing kept of the history's ancestry: the rollback rule will walk all of it from HEAD and
        # the tags' commits. git starts now, on the core that is idle while the records load.
        git.prefetch_walk([head, *(tag.target_sha for tag in tags if tag.complete)])
    listing = git.ls_tree(head)
    with keep_later():   # cold: the record cache is written at the end of the block, while the history child runs
        records = judge.records.load(record_files(listing, policy))

        def history() -> list[FindingTuple]:
            return [to_tuple(f) for f in history_findings(git, judge, mode="all", head=records, base=RecordSet(),
                                                          entries=[], existing=frozenset(listing), head_sha=head,
                                                          base_sha=None)]

        # The history rules (mostly git: the ancestry walk, the sealed entries) run in a forked
        # child while the record rules run here; nothing here uses git until the child is joined.
        # The child writes no rows of what this process parsed: this process does, once its own
        # rules are done, while the child (the longer of the two) still works.
        git.settle_walk()   # the child reads the early walk's file, and only the parent can wait for its git
        pending = parallel.in_background(history, before_in_child=lambda: _forget_parents_work(git))
        findings = records.findings + run_record_rules(records, policy, memo=open_store(git, "findings", policy))
        governed = [p for p in listing if not record_kind(p, policy) and judge.governed_by_globs(p)
                    and not operation_of_approval(p, policy)]
        findings += run_tree_rules(governed, records)
    findings += [from_tuple(f) for f in pending.result()]
    return findings, records
