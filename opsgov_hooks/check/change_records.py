"""Records of many trees from one parse per file version.

A range of commits mostly shares its record files, so each (path, blob) is read
through the one ``cat-file --batch`` process and parsed once per run; the record set
of any tree is then assembled from those parts.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.objects import NULL_SHA
from opsgov_hooks.git.tags import TagRef
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.store import RecordSet, record_kind, record_prefixes
from opsgov_hooks.speed.records_cache import load_records, parse_blobs


def record_files(listing: Mapping[str, str], policy: Policy) -> dict[str, str]:
    """The record files (path -> blob id) of a tree listing."""
    return {path: sha for path, sha in listing.items() if record_kind(path, policy)}


class RecordCache:
    def __init__(self, git: Git, policy: Policy, tags: Sequence[TagRef] = ()) -> None:
        self.git = git
        self.policy = policy
        self._parts: dict[tuple[str, str], RecordSet] = {}
        self._tag_records: RecordSet | None = None
        self._trees: dict[str, dict[str, str]] = {}
        self._tags = list(tags)

    def tree_files(self, rev: str | None) -> dict[str, str]:
        """Record files of a commit (None: the empty tree); listed once per run (a range that narrows
        its records and then cannot may ask again for the same trees)."""
        if rev is None:
            return {}
        if rev not in self._trees:
            self._trees[rev] = record_files(self.git.ls_tree(rev, record_prefixes(self.policy)), self.policy)
        return dict(self._trees[rev])

    def prefetch(self, trees: Iterable[Mapping[str, str]]) -> None:
        """Read and parse, in one batch, every file version of ``trees`` not seen yet."""
        self.prefetch_versions(item for tree in trees for item in tree.items())

    def prefetch_versions(self, versions: Iterable[tuple[str, str]]) -> None:
        """Read and parse, in one batch, every ``(path, blob)`` not seen yet."""
        missing = sorted({item for item in versions if item not in self._parts})
        if missing:
            # Parsed once per clone: versions seen by an earlier run come from the record cache.
            self._parts.update(parse_blobs(self.git, self.policy, missing))

    def load(self, files: Mapping[str, str]) -> RecordSet:
        """The record set of a tree whose record files are ``files``."""
        if any(item not in self._parts for item in files.items()):
            self.prefetch([files])
        result = RecordSet()
        for path in sorted(files):
            part = self._parts[(path, files[path])]
            result.extend(part)
        if self.policy.ledger_backend == "tags":
            tag_records = self._from_tags()
            result.entries += tag_records.entries
            result.findings += tag_records.findings
        return result

    def declared(self, files: Mapping[str, str]) -> RecordSet:
        """Only the declarations (and invalid ids) of a tree: what judging one commit of a range
        needs of its own tree (the ledger is looked for at the range's end). A range asks this
        for every commit, so it skips assembling the entries and findings of 10,000 records."""
        try:
            parts = [self._parts[(path, files[path])] for path in sorted(files)]
        except KeyError:  # not prefetched: read what is missing, once
            self.prefetch([files])
            parts = [self._parts[(path, files[path])] for path in sorted(files)]
        return RecordSet([d for part in parts for d in part.declarations],
                         invalid_ids=set().union(*(part.invalid_ids for part in parts if part.invalid_ids)))

    def entries(self, path: str, sha: str | None) -> list[LedgerEntry]:
        """Ledger entries of one file version (none for a missing side)."""
        if not sha or sha == NULL_SHA or record_kind(path, self.policy) != "ledger":
            return []
        self.prefetch([{path: sha}])
        return list(self._parts[(path, sha)].entries)

    def _from_tags(self) -> RecordSet:
        if self._tag_records is None:
            self._tag_records = load_records(_NoFiles(), self.policy, paths=[], tags=self._tags)
        return self._tag_records


class _NoFiles:
    name = "no files"

    def list(self, prefixes: Sequence[str]) -> list[str]:
        return []

    def read_many(self, paths: Sequence[str]) -> dict[str, bytes | None]:
        return {}

    def blob_ids(self, paths: Sequence[str]) -> dict[str, str]:
        return {}
