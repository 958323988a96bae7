"""One change, judged: which paths are governed, which operations it belongs to, what the rules say.

Shared by every mode; the modes differ only in how they collect changes and where
they read the records (see :mod:`opsgov_hooks.check.pipeline`).
"""
from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Iterable, Mapping, Sequence

from opsgov_hooks.policy.config import CONFIG_FILE, PYPROJECT_FILE, ForbiddenRule, Policy
from opsgov_hooks.findings import Finding, UsageError, error
from opsgov_hooks.rules.association import (ROLLBACK_OUTCOMES, Association, ChangeView, associate, candidates,
                                           changed_entry_ids, operation_of_approval, operation_of_record,
                                           own_record_files, rolled_back_ids)
from opsgov_hooks.policy.globs import CoverageIndex, literal_prefix, matches
from opsgov_hooks.git.patches import AddedLine
from opsgov_hooks.check.change_records import RecordCache
from opsgov_hooks.git.diffs import DiffEntry
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.objects import NULL_SHA
from opsgov_hooks.git.process import GitError
from opsgov_hooks.git.tags import TagRef
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ids import id_from_tag
from opsgov_hooks.records.scope import with_approved_scope
from opsgov_hooks.records.store import RecordSet, record_kind
from opsgov_hooks.rules.gate import NEW_OPERATION, AddedLines, GateInput, TouchedPaths
from opsgov_hooks.rules.secrets import BASELINE_FILE, BASELINE_LIMIT, Baseline
from opsgov_hooks.check.runner import run_change_rules, run_content_rules, run_path_rules
from opsgov_hooks.speed.screens import KeptScreens

GITLINK = "160000"   # the mode of a submodule entry: a commit of another repository

NEW_OPERATION_HINT = NEW_OPERATION


class Judge:
    """State shared by every change of one run: the policy, parsed records, tag facts."""

    def __init__(self, git: Git, policy: Policy, tags: Sequence[TagRef], trusted: str | None = None,
                 pushed: Sequence[TagRef] = ()) -> None:
        self.git = git
        self.policy = policy
        self.trusted = trusted   # the revision the policy (and a .secrets.baseline) is read from
        self._baseline: list[Baseline | None] = []   # empty: not read yet
        self._screens = KeptScreens(git)
        self._unknowable: tuple[frozenset[str], str] | None = None   # see know_tags_from
        self.tags = list(tags)
        self.records = RecordCache(git, policy, tags)
        # Tags the push being judged creates (a pre-receive hook): no refs yet, but they close their
        # operations for every commit built on them, in this push as in the next.
        self._pushed = [t for t in pushed if t.target_sha]
        self._tagged = {id_from_tag(t.name) for t in [*tags, *self._pushed]}
        self._merged: dict[str, set[str]] = {}
        self._coverage = CoverageIndex()   # shared by every change of the run (a range: every commit)
        self._range_parents: dict[str, list[str]] = {}
        self._declared: tuple[RecordSet, dict[str, Declaration]] | None = None
        self._approved: dict[str, Declaration] = {}
        self._recorded: tuple[RecordSet, frozenset[str]] | None = None

    # -- can this clone know which operations are closed? -------------------------------------
    def know_tags_from(self, base: str | None) -> None:
        """Fail safe without tags. The clone cannot know which operations are closed when

        * a remote is set never to fetch tags (``tagOpt = --no-tags``: ``git clone --no-tags``);
        * it is shallow and holds no ``ops-*`` tag (CI checkouts fetch tags only when asked);
        * it holds no ``ops-*`` tag while the base's ledger records a rollback (outcome ROLLBACK or
          PARTIAL), which only follows a close.

        Then an operation the base already records (its ledger entry; with the tags backend, its
        declaration) may be closed for all the gate can see, and a change that relies on one is
        exit 2 with the fix, never a pass (see :meth:`view`). Otherwise nothing more is read.
        """
        no_fetch = self.git.remotes_without_tags()
        if self.tags and not no_fetch:
            return
        shallow = not no_fetch and self.git.is_shallow()
        records = self.records.load(self.records.tree_files(base))
        rolled_back = sorted({e.operation_id for e in records.entries if e.get("outcome") in ROLLBACK_OUTCOMES})
        if no_fetch:
            why = f"remote {', '.join(no_fetch)} is set never to fetch tags (tagOpt = --no-tags)"
        elif shallow:
            why = "this shallow clone has no ops-* tags"
        elif rolled_back:
            why = f"this clone has no ops-* tags although the ledger records the rollback of {rolled_back[0]}"
        else:
            return
        ids = ({d.operation_id for d in records.declarations} if self.policy.ledger_backend == "tags"
               else {e.operation_id for e in records.entries})
        self._unknowable = (frozenset(ids), why)

    def _refuse_unknowable(self, ops: set[str]) -> None:
        if self._unknowable is None:
            return
        ids, why = self._unknowable
        unknown = sorted((ops & ids) - self._tagged)
        if unknown:
            raise GitError(f"cannot tell whether {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} closed "
                           f"(the base records {'it' if len(unknown) == 1 else 'them'}): {why}; fetch the tags: "
                           "'git fetch --tags' (GitHub Actions: actions/checkout with 'fetch-tags: true'; a clone "
                           "made with --no-tags: 'git config --unset remote.origin.tagOpt' first)")

    # -- facts about a change ----------------------------------------------------------
    def governed(self, entries: Sequence[DiffEntry]) -> tuple[str, ...]:
        """The touched paths that are governed: the configured globs, the records, and the config itself."""
        found: dict[str, None] = {}
        for entry in entries:
            if entry.status == "U":
                raise UsageError(f"{entry.path} has unresolved merge conflicts; resolve them, then run again")
            for path in entry.paths:
                if self._is_governed(path, entry):
                    found[path] = None
        return tuple(found)

    def governed_by_globs(self, path: str) -> bool:
        return matches(self.policy.governed_paths, path)

    def _is_governed(self, path: str, entry: DiffEntry) -> bool:
        if path == CONFIG_FILE or record_kind(path, self.policy) or self.governed_by_globs(path):
            return True
        if GITLINK in (entry.old_mode, entry.new_mode) and self._may_govern_inside(path):
            return True
        return path == PYPROJECT_FILE and self._opsgov_table_changed(entry)

    def _may_govern_inside(self, path: str) -> bool:
        """A submodule (gitlink) at ``path``: its files are not in this repository, so their contents
        cannot be inspected. Besides its own path matching, it is governed when a governed glob's fixed
        leading folder lies inside it or contains it (``ops/**`` governs a submodule at ``ops/vendor``,
        ``vendor/dash/**`` one at ``vendor``)."""
        inside = path.rstrip("/") + "/"
        for pattern in self.policy.governed_paths:
            prefix = literal_prefix(pattern)
            if prefix and not pattern.startswith("!") and (prefix.startswith(inside) or inside.startswith(prefix)):
                return True
        return False

    def _opsgov_table_changed(self, entry: DiffEntry) -> bool:
        import tomllib

        tables: list[object] = []
        for sha in (entry.old_sha, entry.new_sha):
            data = self.git.read_objects([sha])[0][1] if sha != NULL_SHA else b""
            try:
                tables.append(tomllib.loads((data or b"").decode("utf-8")).get("tool", {}).get("opsgov"))
            except (UnicodeDecodeError, tomllib.TOMLDecodeError):
                return True  # cannot tell: treat it as a change to the policy
        return bool(tables[0] != tables[1])

    def record_ids(self, entries: Sequence[DiffEntry]) -> tuple[tuple[str, ...], frozenset[str]]:
        """(a) the operations whose records the change adds or modifies, and those whose rollback it records."""
        found: set[str] = set()
        rolling_back: set[str] = set()
        for entry in entries:
            if entry.status == "D":
                continue
            op = operation_of_record(entry.path, self.policy) or operation_of_approval(entry.path, self.policy)
            if op:
                found.add(op)
            elif record_kind(entry.path, self.policy) == "ledger":
                old = self.records.entries(entry.old_path or entry.path, entry.old_sha)
                new = self.records.entries(entry.path, entry.new_sha)
                found |= changed_entry_ids(old, new)
                rolling_back |= rolled_back_ids(old, new)
        return tuple(sorted(found)), frozenset(rolling_back)

    def closed_for(self, base: str | None, ops: Iterable[str]) -> frozenset[str]:
        """The operations among ``ops`` whose tag is ``base`` or one of its ancestors.

        An operation is open from its declaration until its tag closes it: a change
        building on history that already contains the tag gets no permit from it, while
        the commits the tag itself closes (before it, on its branch) keep theirs.
        """
        relevant = set(ops) & self._tagged
        if not relevant or base is None:
            return frozenset()
        return frozenset(relevant & self._merged_into(base))

    def know_range(self, commits: Sequence[tuple[str, list[str]]]) -> None:
        """The commits of a range and their parents: what a commit of the range builds on is then
        derived from its parents, with one ``--merged`` walk per parent outside the range, not per commit."""
        self._range_parents.update(commits)

    def _merged_into(self, base: str) -> set[str]:
        """The tagged operations whose tag is ``base`` or one of its ancestors."""
        pending = [base]
        while pending:  # parents before children, without recursion (a range may hold thousands)
            commit = pending[-1]
            if commit in self._merged:
                pending.pop()
                continue
            parents = self._range_parents.get(commit)
            if parents is None:
                merged = {id_from_tag(name) for name in self.git.tags_merged_into(commit)}
                merged |= {id_from_tag(t.name) for t in self._pushed if self.git.is_ancestor(t.target_sha, commit)}
                self._merged[commit] = merged
                continue
            todo = [p for p in parents if p not in self._merged]
            if todo:
                pending.extend(todo)
                continue
            own = {id_from_tag(t.name) for t in [*self.tags, *self._pushed] if t.target_sha == commit}
            self._merged[commit] = own.union(*(self._merged[p] for p in parents))
        return self._merged[base]

    def approve(self, base: RecordSet) -> None:
        """Freeze the scope of every operation recorded at the trusted base ``base``.

        From then on each change is judged against those operations' scope as approved
        (see :mod:`opsgov_hooks.records.scope`), however its own tree rewrites them.
        """
        recorded = {e.operation_id for e in base.entries}
        self._approved = {op: d for op, d in base.by_id().items() if op in recorded}
        self._declared = None

    @property
    def approved(self) -> Mapping[str, Declaration]:
        return self._approved

    def declared(self, head: RecordSet) -> dict[str, Declaration]:
        """``head.by_id()`` with approved scopes frozen, built once per record set (every rule of one
        change asks for it)."""
        if self._declared is None or self._declared[0] is not head:
            declared = head.by_id()
            for op_id, approved in self._approved.items():
                if op_id in declared and declared[op_id] is not approved:  # the same record: nothing to freeze
                    declared[op_id] = with_approved_scope(declared[op_id], approved)
            self._declared = (head, declared)
        return self._declared[1]

    def recorded(self, final: RecordSet) -> frozenset[str]:
        """Operations with a valid ledger entry in ``final`` (a range's end is the same for every commit)."""
        if self._recorded is None or self._recorded[0] is not final:
            self._recorded = (final, frozenset(e.operation_id for e in final.entries))
        return self._recorded[1]

    def view(self, entries: Sequence[DiffEntry], trailers: tuple[str, ...] | None, commit: str | None,
             base: str | None, head: RecordSet) -> ChangeView:
        paths = tuple(dict.fromkeys(p for e in entries for p in e.paths))
        record_ids, rolling_back = self.record_ids(entries)
        view = ChangeView(paths, self.governed(entries), record_ids, trailers, commit, rolling_back=rolling_back)
        declared = self.declared(head)
        maybe = candidates(view, declared, set(declared) | head.invalid_ids, self._coverage)
        self._refuse_unknowable(maybe)
        # Recording its rollback re-opens a closed operation for exactly that change (and only to revert).
        closed = self.closed_for(base, maybe)
        return dataclasses.replace(view, closed=closed - rolling_back, reopened=closed & rolling_back)

    def reverts(self, view: ChangeView, entries: Sequence[DiffEntry], base: str | None,
                head: RecordSet) -> list[Finding]:
        """The rollback exemption permits a revert only (G022).

        Each touched path whose only permit is a re-opened operation must end with exactly the
        content it had before that operation's first change to it, or be gone if the operation
        created it: anything else is new work, which needs a new operation.
        """
        if not view.reopened or base is None:
            return []
        declared = self.declared(head)
        ops = [op for op in sorted(view.reopened) if op in declared]
        own = set().union(*(own_record_files(op, self.policy) for op in view.record_ids), set())
        others = [declared[op] for op in declared if op not in view.closed and op not in view.reopened
                  and op in view.record_ids]
        findings: list[Finding] = []
        for entry in entries:
            for path in entry.paths:
                if path in own or any(matches(d.allowed_paths, path) for d in others):
                    continue
                op = next((op for op in ops if matches(declared[op].allowed_paths, path)), None)
                if op is None:
                    continue   # outside the re-opened scope: the scope rule reports it
                after = entry.new_sha if path == entry.path and entry.status != "D" else None
                findings += self._not_reverted(op, path, after, base, view)
        return findings

    def _not_reverted(self, op: str, path: str, after: str | None, base: str, view: ChangeView) -> list[Finding]:
        record = self.policy.record_path(op)
        declaring = self.git.path_commits(base, record, added=True)
        if not declaring:
            return [error("G022", f"{path}: {op}'s declaration is not in the history, so opsgov cannot tell "
                          f"what a revert of it is{view.where}", path, hint=NEW_OPERATION_HINT)]
        parents = self.git.parents(declaring[0])
        touched = self.git.path_commits(base, path, exclude=parents[0] if parents else None, first_parent=True)
        before_rev: str | None = base
        if touched:
            first_parents = self.git.parents(touched[0])
            before_rev = first_parents[0] if first_parents else None
        before = self.git.blob_at(before_rev, path)
        if after == before:
            return []
        if not touched:
            hint = f"leave it as it is: git checkout {base[:12]} -- {shlex.quote(path)}" if before else (
                f"leave it out: git rm --cached -- {shlex.quote(path)}")
            said = f"{op} never changed it, so its rollback has nothing to bring back"
        elif before is None or before_rev is None:
            hint = f"remove it, as before {op}: git rm -- {shlex.quote(path)}"
            said = f"{op} created it, so its rollback may only remove it"
        else:
            hint = f"restore it as before {op}: git checkout {before_rev[:12]} -- {shlex.quote(path)}"
            said = f"a rollback may only bring it back to its content before {op}'s first change"
        return [error("G022", f"{path} is not a revert: {said}{view.where}", path,
                      hint=f"{hint}; anything else is new work: {NEW_OPERATION_HINT}")]

    # -- verdicts ----------------------------------------------------------------------
    def association(self, view: ChangeView, head: RecordSet) -> Association:
        declared = self.declared(head)
        return associate(view, declared, set(declared) | head.invalid_ids, self._coverage)

    def judge(self, view: ChangeView, head: RecordSet, final: RecordSet, *, entry_may_follow: bool = False,
              range_end: bool = False, message_path: str | None = None,
              trailer_lines: Mapping[str, int] | None = None) -> list[Finding]:
        """Rules 1-3 and rule 4's path part for one change."""
        findings = run_change_rules(GateInput(view, self.association(view, head), head, final, self.policy,
                                              entry_may_follow, range_end, self.declared(head),
                                              self.recorded(final), message_path, dict(trailer_lines or {})))
        return findings + run_path_rules(TouchedPaths(view, self.policy))

    @property
    def everywhere(self) -> tuple[ForbiddenRule, ...]:
        """The NOT ALLOWED rules with ``applies_to: all``: they judge changes the gate otherwise leaves alone."""
        return tuple(r for r in self.policy.forbidden if r.applies_to == "all")

    def ungoverned(self, entries: Sequence[DiffEntry], commit: str | None) -> list[Finding]:
        """A change that belongs to no operation: the path part of the ``applies_to: all`` rules only."""
        if not self.everywhere:
            return []
        paths = tuple(dict.fromkeys(p for e in entries for p in e.paths))
        return run_path_rules(TouchedPaths(ChangeView(paths, (), commit=commit), self.policy, self.everywhere))

    def content(self, lines: Sequence[AddedLine], commit: str | None = None,
                only: Sequence[ForbiddenRule] | None = None) -> list[Finding]:
        """Rule 4's content part: NOT ALLOWED patterns and secrets in the added lines (of ``only``'s rules)."""
        where = f" (commit {commit[:12]})" if commit else ""
        return run_content_rules(AddedLines(lines, self.policy, where, self._existing_objects,
                                            None if only is None else tuple(only), self._secrets_baseline,
                                            self._screens))

    def _secrets_baseline(self) -> Baseline | None:
        """The ``.secrets.baseline`` of the trusted revision, parsed once (None: there is none)."""
        if not self._baseline:
            data = None
            if self.trusted is not None:
                kind, body = self.git.read_objects([f"{self.trusted}:{BASELINE_FILE}"], limit=BASELINE_LIMIT)[0]
                data = body if kind == "blob" else None
            self._baseline.append(Baseline.parse(data, f"commit {self.trusted[:12]}" if self.trusted else ""))
        return self._baseline[0]

    def needs_content(self, only: Sequence[ForbiddenRule] | None = None) -> bool:
        return any(r.patterns or r.secrets for r in (self.policy.forbidden if only is None else only))

    def _existing_objects(self, names: Iterable[str]) -> set[str]:
        return {name for name, (kind, _sha) in self.git.object_types(list(names)).items() if kind in ("commit", "tag")}
