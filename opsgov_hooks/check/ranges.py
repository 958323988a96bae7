"""Range (CI, pre-push) and pre-receive (server) modes: every new commit judged on its own.

Decisions (also in docs/gate.md):

* Each commit is judged against its parent, for association, scope and NOT ALLOWED,
  with the records of its own tree: a change must be declared at or before the commit
  that makes it. A merge answers only for the paths whose content differs from every
  parent (git's combined diff: what it resolved by hand or changed itself), and for the
  lines it adds against every parent; what it takes unchanged from a parent is that
  parent's change, judged once, on the commits that made it.
* The ledger entry must exist by the end of the range (the pushed tip), and the record
  and history rules run once, on the end of the range against its base, not once per
  commit: they judge the records the range leaves behind, and once is enough.
* The policy is read from the base: BASE of ``--range``; for a push, the ref's old
  value, or the server's HEAD for a new ref. Nothing in the change can loosen it.
* A shallow clone that cannot show the whole range (the base unreachable, or a commit
  whose parents were cut off) is an environment error naming the fix, never a pass.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from opsgov_hooks.speed.store import open_store
from opsgov_hooks.findings import Finding, UsageError, of_commit
from opsgov_hooks.check.association import all_named, named_focus
from opsgov_hooks.check.focus import assemble, range_focus
from opsgov_hooks.check.judge import Judge
from opsgov_hooks.check.pushed_tags import created_tags, pushed_tag_findings
from opsgov_hooks.git.patches import added_lines_by_commit
from opsgov_hooks.check.adoption_boundary import before_adoption
from opsgov_hooks.check.pipeline import (carried_out, history_findings, record_findings, scope_findings,
                                        trusted_policy)
from opsgov_hooks.git.diffs import CommitDiff, DiffEntry
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.process import GitError
from opsgov_hooks.records.store import RecordSet, record_kind

SHALLOW_FIX = ("fetch the full history: 'git fetch --unshallow' (GitHub Actions: actions/checkout with "
               "'fetch-depth: 0'; GitLab CI: GIT_DEPTH: 0)")
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?\Z")


@dataclasses.dataclass(frozen=True)
class Job:
    commits: list[tuple[str, list[str]]]   # (commit, parents), oldest first
    head: str                               # the end of the range: where ledger entries must be
    history_base: str | None                # what the record and history rules compare against
    mode: str


def parse_range(spec: str) -> tuple[str, str]:
    for sep in ("...", ".."):
        if sep in spec:
            base, head = spec.split(sep, 1)
            if base:
                return base, head or "HEAD"
    raise UsageError(f"--range takes BASE..HEAD (e.g. origin/main..HEAD), not {spec!r}")


def _apply(files: Mapping[str, str], entries: Sequence[DiffEntry], judge: Judge) -> dict[str, str]:
    """The record files of a commit's tree, from its first parent's and the commit's change."""
    new = dict(files)
    for entry in entries:
        if entry.status in "DR":
            new.pop(entry.old_path or entry.path, None)
        if entry.status != "D" and record_kind(entry.path, judge.policy):
            new[entry.path] = entry.new_sha
    return new


def _record_states(judge: Judge, pairs: Sequence[tuple[str, str | None]], diffs: Mapping[str, CommitDiff],
                   starts: Mapping[str, dict[str, str]] | None = None,
                   ) -> tuple[dict[str, dict[str, str]], set[tuple[str, str]]]:
    """The record files (path -> blob) of every commit's tree, from one listing per outside parent
    (or what ``starts`` keeps of it: see :class:`~opsgov_hooks.check.focus.RangeFocus`), and every
    file version among them (found as the trees are built, not by scanning each tree)."""
    states: dict[str, dict[str, str]] = {}
    versions: set[tuple[str, str]] = set()
    for commit, parent in pairs:
        if parent in states:
            start = states[parent]
        elif starts is not None and parent is not None and parent in starts:
            start = starts[parent]
            versions.update(start.items())
        else:
            start = judge.records.tree_files(parent)
            versions.update(start.items())
        states[commit] = new = _apply(start, diffs[commit].entries, judge)
        versions.update((entry.path, new[entry.path]) for entry in diffs[commit].entries if entry.path in new)
    return states, versions


def own_changes(diffs: Mapping[str, CommitDiff], merge_paths: Mapping[str, set[str]]) -> dict[str, CommitDiff]:
    """Each commit's change as it answers for it: a merge keeps the entries of its first-parent
    diff that touch a path its combined diff lists (content unlike every parent's)."""
    own = dict(diffs)
    for merge, paths in merge_paths.items():
        diff = diffs.get(merge)
        if diff is not None:
            kept = [e for e in diff.entries if any(p in paths for p in e.paths)]
            own[merge] = dataclasses.replace(diff, entries=kept)
    return own


@dataclasses.dataclass
class _Judged:
    findings: list[Finding] = dataclasses.field(default_factory=list)
    judged: list[tuple[str, str | None]] = dataclasses.field(default_factory=list)     # whole, every rule
    elsewhere: list[tuple[str, str | None]] = dataclasses.field(default_factory=list)  # 'applies_to: all' only
    touched: set[str] = dataclasses.field(default_factory=set)
    # operation id -> its governed commits that must descend from its signed approval
    op_changes: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)


def _judge_each(judge: Judge, pairs: Sequence[tuple[str, str | None]], diffs: Mapping[str, CommitDiff],
                states: Mapping[str, dict[str, str]], final: RecordSet) -> _Judged:
    """Rules 1-3 and forbidden paths for each governed commit, and the ``applies_to: all`` rules' paths
    for the others."""
    out = _Judged()
    findings, judged, touched = out.findings, out.judged, out.touched
    for commit, parent in pairs:
        diff = diffs[commit]
        if not diff.trailers and not judge.governed(diff.entries):
            # nothing governed and no operation named: only the rules that apply to every change
            if judge.everywhere and diff.entries:
                findings += of_commit(judge.ungoverned(diff.entries, commit), commit)
                out.elsewhere.append((commit, parent))
            continue
        head = judge.records.declared(states[commit])  # the rules of one commit read its declarations only
        view = judge.view(diff.entries, diff.trailers, commit, parent, head)
        findings += of_commit(judge.judge(view, head, final, range_end=True), commit)
        findings += of_commit(judge.reverts(view, diff.entries, parent, head), commit)
        carried_out(judge, view, head, commit, out.op_changes)
        judged.append((commit, parent))
        touched.update(view.paths)
    return out


def judge_commits(git: Git, judge: Judge, job: Job, judged_out: list[str] | None = None) -> list[Finding]:
    """The findings of a range; ``judged_out`` collects the commits judged (for per-commit reports: JUnit)."""
    judge.know_range(job.commits)
    pairs = [(c, parents[0] if parents else None) for c, parents in job.commits]
    if job.history_base is not None:
        git.prefetch_diff_entries(job.history_base, job.head)   # the range's net change, beside the commits'
    diffs = git.commit_diffs(pairs)
    if any(commit not in diffs for commit, _parent in pairs):
        raise GitError("git diff-tree did not describe every commit of the range; run again, and report it "
                       "if it persists")
    # The trees' record files follow every commit's whole first-parent diff; the judgement
    # follows what each commit answers for.
    net = git.diff_entries(job.history_base, job.head) if job.history_base is not None else None
    merges = {c for c, parents in job.commits if len(parents) > 1}
    own = own_changes(diffs, git.merge_own_paths(sorted(merges)))
    focus = None
    if net is not None and job.head in diffs:
        # Commits that name their operations need no scope but theirs (check/association.py);
        # otherwise the index says which operations could cover what the range touches.
        focus = named_focus(git, judge, pairs, diffs, job.head, job.history_base, net)
        if focus is not None:
            states, versions = _record_states(judge, pairs, diffs, focus.starts)
            if not all_named(judge, pairs, own, states):
                focus = None
        if focus is None:
            focus = range_focus(git, judge, pairs, diffs, job.head, job.history_base, net)
            states, versions = _record_states(judge, pairs, diffs, focus.starts if focus is not None else None)
    else:
        states, versions = _record_states(judge, pairs, diffs)
    end_files = states[job.head] if job.head in states else judge.records.tree_files(job.head)
    judge.records.prefetch_versions([*versions, *end_files.items()])
    if focus is not None and job.history_base is not None:   # the records the range can concern (check/focus.py)
        final = assemble(judge, end_files, focus.end_entries)
        base = assemble(judge, focus.starts[job.history_base], focus.base_entries)
    else:
        final = judge.records.load(end_files)
        base = judge.records.load(judge.records.tree_files(job.history_base))
    judge.approve(base)   # every commit is judged against the scopes approved at the trusted base
    result = _judge_each(judge, pairs, own, states, final)
    findings = result.findings
    if result.judged:
        findings += scope_findings(final, judge, result.touched)
    if judged_out is not None:
        judged_out += [commit for commit, _parent in result.judged]
    scan = [*(result.judged if judge.needs_content() else []),
            *(result.elsewhere if judge.needs_content(judge.everywhere) else [])]
    if scan:
        lines = added_lines_by_commit(git.commit_patches([p for p in scan if p[0] not in merges]))
        lines.update(added_lines_by_commit(git.merge_patches([c for c, _p in scan if c in merges])))
        whole = {c for c, _p in result.judged}
        for commit, _parent in scan:
            findings += of_commit(judge.content(lines.get(commit, []), commit,
                                                None if commit in whole else judge.everywhere), commit)
    if not result.judged:
        return findings
    return findings + _range_end(git, judge, job, final, base, result.touched, result.op_changes, net)


def _range_end(git: Git, judge: Judge, job: Job, final: RecordSet, base: RecordSet,
               touched: set[str], op_changes: Mapping[str, tuple[str, ...]],
               net: list[DiffEntry] | None) -> list[Finding]:
    """Record and history rules, once, on the end of the range against its base."""
    if any(str(e.get("rollback_ref") or "").lstrip().startswith("procedure:") for e in final.entries):
        git.prefetch_ls_tree(job.head)   # the end's paths, which a judged procedure is checked against
    findings = record_findings(final, base, judge.policy, touched, open_store(git, "findings", judge.policy))
    entries = net if net is not None else git.diff_entries(job.history_base, job.head)
    # The end's paths are listed only when a procedure is judged (check/ref_facts.py), as staged.
    return findings + history_findings(git, judge, mode=job.mode, head=final, base=base, entries=entries,
                                       existing=frozenset(), head_sha=job.head, base_sha=job.history_base,
                                       op_changes=op_changes)


def _refuse_shallow(git: Git, commits: Sequence[tuple[str, list[str]]], what: str) -> None:
    if not git.is_shallow():
        return
    cut = git.shallow_commits()
    if any(commit in cut for commit, _parents in commits):
        raise GitError(f"this clone's history is too shallow to judge {what}: some of its commits have their "
                       f"parents cut off; {SHALLOW_FIX}")


def check_range(git: Git, base_rev: str | None, head_rev: str, judged_out: list[str] | None = None,
                ) -> list[Finding]:
    """``--range BASE..HEAD``; ``base_rev`` None judges the whole history of HEAD (a first push)."""
    head = git.resolve_commit(head_rev)
    base = git.resolve_commit(base_rev) if base_rev is not None else None
    fork = git.merge_base(base, head) if base else None
    if base and fork is None and git.is_shallow():
        raise GitError(f"this clone's history is too shallow to reach the merge base of {base_rev} and "
                       f"{head_rev}; {SHALLOW_FIX}")
    commits = git.commits_between(head, [base] if base else [])
    _refuse_shallow(git, commits, f"{base_rev}..{head_rev}" if base_rev else f"the history of {head_rev}")
    past = before_adoption(git, commits, base)
    commits = [c for c in commits if c[0] not in past]
    if not commits:
        return []
    judge = Judge(git, trusted_policy(git, base), git.ops_tags(), base)
    judge.know_tags_from(fork or base)
    return judge_commits(git, judge, Job(commits, head, fork or base, "range"), judged_out)


def parse_updates(text: str) -> list[tuple[str, str, str]]:
    """``old new ref`` lines as git feeds a pre-receive hook."""
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(" ", 2)
        if len(parts) != 3 or not _SHA.match(parts[0]) or not _SHA.match(parts[1]):
            raise UsageError(f"line {number} of standard input is not '<old> <new> <ref>' as git gives a "
                             "pre-receive hook; run 'opsgov check --pre-receive' from the hook only")
        updates.append((parts[0], parts[1], parts[2]))
    return updates


def check_pre_receive(git: Git, text: str, judged_out: list[str] | None = None) -> list[Finding]:
    """Every commit a push brings that no existing ref reaches, judged under the policy of its ref's base."""
    findings: list[Finding] = []
    seen: set[str] = set()
    tags = git.ops_tags()
    updates = parse_updates(text)
    created = created_tags(git, updates)   # not refs yet: they close their operations for the commits after them
    for old, new, _ref in updates:
        if set(new) == {"0"}:
            continue  # a deleted ref brings nothing to judge
        peeled = git.peel_commits([new] + ([old] if set(old) != {"0"} else []))
        if new not in peeled:
            continue  # a tag of a tree or blob: no commits
        commits = [c for c in git.commits_between(peeled[new], exclude_all_refs=True) if c[0] not in seen]
        seen.update(c for c, _parents in commits)
        if not commits:
            continue
        _refuse_shallow(git, commits, "this push")
        old_commit = peeled.get(old)
        trusted = old_commit or git.head()
        past = before_adoption(git, commits, trusted)
        commits = [c for c in commits if c[0] not in past]
        if not commits:
            continue
        base = old_commit or (commits[0][1][0] if commits[0][1] else None)
        judge = Judge(git, trusted_policy(git, trusted), tags, trusted, pushed=created)
        findings += judge_commits(git, judge, Job(commits, peeled[new], base, "pre-receive"), judged_out)
    return findings + pushed_tag_findings(git, updates, created)   # the ops-* tags it creates or moves
