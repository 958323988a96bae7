"""Which operations a tree declares and records, and where: indexes keyed by git tree ids.

A staged change of three governed files needs the operations whose ALLOWED_PATHS could
cover those files, and those operations' ledger entries: a handful of the 10,000 records.
To know *which* handful without reading all of them, each record folder's tree is
summarised once and kept (the ``index`` kind of :mod:`opsgov_hooks.speed.kv`):

* the operations folder's tree: for each record file, its blob, the operation id it
  declares (or, for an invalid record, the id its name gives) and the fixed leading
  directory of each of its ALLOWED_PATHS (:func:`~opsgov_hooks.policy.globs.literal_prefix`;
  None for a pattern that may match anywhere);
* the ledger folder's tree: for each ledger file, its blob and the operation ids of its entries.

A tree id names its contents forever, so a summary never goes stale. A new tree (a commit
that declares or records something) is summarised from the last one summarised plus
``git diff-tree`` between the two: only the files that differ are parsed (through the
``records`` kind, by blob id), so the cost follows the change, not the repository.

The index only narrows: it names a superset of the candidates (every operation with a
pattern that could match), and the rules decide on the records themselves, so an index
entry can make a run faster, never change its verdict (:mod:`opsgov_hooks.speed.kv`
checks every row it serves).
"""
from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opsgov_hooks.git.gitio import Git
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.policy.globs import literal_prefix
from opsgov_hooks.records.declaration import split_front_matter
from opsgov_hooks.records.ids import ID_BYTES
from opsgov_hooks.records.ledger import LedgerEntry, entries_for
from opsgov_hooks.records.store import RecordSet, record_kind
from opsgov_hooks.records.yamlstrict import MAX_BYTES, plain_data
from opsgov_hooks.speed.kv import KeyValue, open_kv
from opsgov_hooks.speed import parallel, records_cache
from opsgov_hooks.speed.records_cache import dump_entries, load_entries, parse_blobs

KIND = "index"


@dataclasses.dataclass
class Needed:
    """The declaration files (path -> blob), the (ledger file, blob, operation) rows of entries, and the
    operations they are for."""

    declarations: dict[str, str]
    entries: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    operations: frozenset[str] = frozenset()


def _entry_key(path: str, blob: str, op: str) -> str:
    return f"entries\0{path}\0{blob}\0{op}"
ANYWHERE = "*"          # the prefix of a pattern that may match at any depth

Row = tuple[str, str, tuple[str, ...]]   # (relative path, blob, operation ids)

# relative path -> (blob, operation ids, prefixes): one folder's record files, summarised.
Summary = dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]


def ancestors(path: str) -> list[str]:
    """``a/b/c`` -> ``["", "a/", "a/b/"]``: the directories a literal prefix must be one of."""
    parts = path.split("/")[:-1]
    return ["", *("/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1))]


class RecordIndex:
    """The summaries of one clone, for one policy (the folders and the parse depend on it)."""

    def __init__(self, git: Git, policy: Policy, kv: KeyValue) -> None:
        self.git = git
        self.policy = policy
        self.kv = kv

    @classmethod
    def open(cls, git: Git, policy: Policy) -> RecordIndex | None:
        kv = open_kv(git, KIND, policy)
        return cls(git, policy, kv) if kv is not None else None

    # -- questions -------------------------------------------------------------------
    def needed(self, rev: str, paths: Iterable[str], named: Iterable[str]) -> Needed:
        """What of ``rev``'s records a change of ``paths`` can need.

        Every declaration whose ALLOWED_PATHS could cover one of ``paths``, every record
        of the operations ``named`` (trailers), and the ledger entries of those operations.
        The rules then judge on these records exactly as they would on all of them: an
        operation left out could not have covered, been named or been recorded.
        """
        folders = self._trees(rev)
        tree = folders.get(self.policy.operations_dir)
        wanted = set(named)
        dirs = {prefix for path in paths for prefix in ancestors(path)} | {ANYWHERE}
        rows = self._covering(tree, dirs) if tree is not None else []
        if wanted and tree is not None:   # a trailer may name any operation: the whole summary answers
            rows += [(rel, blob, ops) for rel, (blob, ops, _p) in self._summary("operations", tree).items()
                     if wanted.intersection(ops)]
        for _rel, _blob, ops in rows:
            wanted.update(ops)
        # Every file declaring a wanted id, not only the one that matched: with two records
        # under one id (D006), the rules must see both, as they would in a full load.
        by_id = self._declaring(tree, wanted) if tree is not None else []
        needed = Needed({f"{self.policy.operations_dir}/{rel}": blob for rel, blob, _ops in [*rows, *by_id]},
                        operations=frozenset(wanted))
        if self.policy.ledger_backend != "tags":
            ledger = self._summary("ledger", folders.get(self.policy.ledger_path))
            for rel, (blob, ops, _prefixes) in sorted(ledger.items()):
                for op in wanted.intersection(ops):
                    needed.entries.append((f"{self.policy.ledger_path}/{rel}", blob, op))
        self.kv.save()
        return needed

    def entries(self, rows: Sequence[tuple[str, str, str]]) -> list[LedgerEntry]:
        """The entries of each (ledger file, blob, operation), in the order a full load gives them."""
        keys = {row: _entry_key(*row) for row in rows}
        kept = self.kv.get_many(keys.values())
        found: list[LedgerEntry] = []
        missing = []
        for row in rows:
            entries = load_entries(kept.get(keys[row]))
            if entries is None:
                missing.append(row)
            else:
                found.extend(entries)
        if missing:
            found.extend(self._entries_read(missing))
        return sorted(found, key=lambda e: (e.path, e.line))

    def _entries_read(self, rows: Sequence[tuple[str, str, str]]) -> list[LedgerEntry]:
        """The entries of rows the store does not hold (a month file summarised from its bytes, a row
        lost or damaged): only the documents naming the wanted operations are parsed where the
        file allows it (:func:`~opsgov_hooks.records.ledger.entries_for`), else the file's own
        parse (kept by blob) answers."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for path, blob, op in rows:
            wanted.setdefault((path, blob), set()).add(op)
        files = sorted(wanted)
        found: list[LedgerEntry] = []
        whole = files
        if self.policy.ledger_backend == "yaml":
            raws = self.git.read_blobs([blob for _path, blob in files], "a ledger file", limit=MAX_BYTES + 1)
            whole = []
            for (path, blob), raw in zip(files, raws):
                part = entries_for(path, raw, frozenset(wanted[(path, blob)])) if raw is not None else None
                if part is None:
                    whole.append((path, blob))
                else:
                    found.extend(part)
        if whole:
            parsed = parse_blobs(self.git, self.policy, whole)
            for path, blob in whole:
                found.extend(e for e in parsed[(path, blob)].entries if e.operation_id in wanted[(path, blob)])
        return found

    def _covering(self, tree: str, dirs: set[str]) -> list[Row]:
        """The declaration files of ``tree`` with an ALLOWED_PATHS prefix among ``dirs``.

        Read from one row per prefix, so a query reads the few prefixes a path has, not the
        10,000 operations. The tree's list of prefixes comes with them: a prefix it names whose
        row is missing (a damaged store) sends the query to the whole summary instead.
        """
        listed = self.kv.get(f"prefixes\0{tree}")
        if isinstance(listed, tuple):
            keys = [f"prefix\0{tree}\0{p}" for p in sorted(dirs.intersection(listed))]
            kept = self.kv.get_many(keys)
            if len(kept) == len(keys):
                try:
                    return [(str(rel), str(blob), tuple(ops)) for key in keys for rel, blob, ops in kept[key]]
                except (TypeError, ValueError):
                    pass   # the wrong shape: rebuilt below
        by_prefix: dict[str, list[Row]] = {}
        for rel, (blob, ops, prefixes) in self._summary("operations", tree).items():
            for prefix in prefixes:
                by_prefix.setdefault(prefix, []).append((rel, blob, ops))
        for prefix, found in by_prefix.items():
            self.kv.put(f"prefix\0{tree}\0{prefix}", tuple(found))
        self.kv.put(f"prefixes\0{tree}", tuple(sorted(by_prefix)))
        return [row for prefix in sorted(dirs) for row in by_prefix.get(prefix, [])]

    def _declaring(self, tree: str, ids: set[str]) -> list[Row]:
        """Files of ``tree`` declaring one of ``ids`` beyond those found by prefix: an id held by
        two files (a duplicate, D006, or a record whose file name is another id). One small row
        per tree lists every such id."""
        shared = self.kv.get(f"shared\0{tree}")
        if not isinstance(shared, dict):
            found: dict[str, list[tuple[str, str]]] = {}
            for rel, (blob, ops, _p) in self._summary("operations", tree).items():
                for op in ops:
                    found.setdefault(op, []).append((rel, blob))
            shared = {op: tuple(files) for op, files in found.items() if len(files) > 1}
            self.kv.put(f"shared\0{tree}", shared)
        return [(str(rel), str(blob), ()) for op in sorted(ids) for rel, blob in shared.get(op, ())]

    # -- summaries -------------------------------------------------------------------
    def _trees(self, rev: str) -> dict[str, str]:
        """folder -> tree id at ``rev`` of the operations and ledger folders (absent: no such folder)."""
        folders = [self.policy.operations_dir]
        if self.policy.ledger_backend == "yaml":
            folders.append(self.policy.ledger_path)
        found = self.git.object_types([f"{rev}:{folder}" for folder in folders])
        return {folder: found[f"{rev}:{folder}"][1] for folder in folders
                if found.get(f"{rev}:{folder}", ("", ""))[0] == "tree"}

    def _summary(self, kind: str, tree: str | None) -> Summary:
        if tree is None:
            return {}
        key = f"{kind}\0{tree}"
        kept = _valid(self.kv.get(key))
        if kept is not None:
            return kept
        last = self.kv.get(f"{kind}-last")
        earlier = _valid(self.kv.get(f"{kind}\0{last}")) if isinstance(last, str) else None
        summary = (self._update(kind, earlier, str(last), tree) if earlier is not None
                   else self._build(kind, tree))
        self.kv.put(key, summary)
        self.kv.put(f"{kind}-count\0{tree}", len(summary))
        self.kv.put(f"{kind}-last", tree)
        return summary

    def declaration_count(self, rev: str) -> int:
        """How many record files the operations folder holds at ``rev`` (one small row, once summarised)."""
        tree = self._trees(rev).get(self.policy.operations_dir)
        if tree is None:
            return 0
        count = self.kv.get(f"operations-count\0{tree}")
        return count if isinstance(count, int) else len(self._summary("operations", tree))

    def _folder(self, kind: str) -> str:
        return self.policy.operations_dir if kind == "operations" else self.policy.ledger_path

    def _build(self, kind: str, tree: str) -> Summary:
        listing = self.git.ls_tree(tree)
        return self._summarise(kind, listing)

    def _update(self, kind: str, earlier: Summary, earlier_tree: str, tree: str) -> Summary:
        """The summary of ``tree`` from the one of ``earlier_tree``: only the files that differ are read."""
        summary = dict(earlier)
        changed: dict[str, str] = {}
        for entry in self.git.diff_entries(earlier_tree, tree):
            for path in entry.paths:
                summary.pop(path, None)
            if entry.status != "D":
                changed[entry.path] = entry.new_sha
        summary.update(self._summarise(kind, changed))
        return summary

    def _summarise(self, kind: str, listing: Mapping[str, str]) -> Summary:
        folder = self._folder(kind)
        items = [(f"{folder}/{rel}", blob) for rel, blob in listing.items()
                 if record_kind(f"{folder}/{rel}", self.policy)]
        read = self._read_without_parsing(kind, items)
        parsed = parse_blobs(self.git, self.policy, [item for item in items if item not in read])
        summary: Summary = {}
        for (path, blob) in items:
            rel = path[len(folder) + 1:]
            if (path, blob) in read:
                summary[rel] = (blob, *read[(path, blob)])
                continue
            records = parsed[(path, blob)]
            summary[rel] = (blob, *_facts(kind, path, records))
            if kind == "ledger":
                by_op: dict[str, list[LedgerEntry]] = {}
                for entry in records.entries:
                    by_op.setdefault(entry.operation_id, []).append(entry)
                for op, entries in by_op.items():
                    self.kv.put(_entry_key(path, blob, op), dump_entries(entries))
        return summary

    def _read_without_parsing(self, kind: str, items: Sequence[tuple[str, str]],
                              ) -> dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]]:
        """The facts of the files whose text answers them without a full parse; the others are parsed.

        A summary built where nothing is kept (a fresh clone's first check, a pull request's range
        whose commits name no operation) parsed all 10,000 records and the whole ledger (1.4 s at
        10,000 operations) to learn ids and directories. The index only has to name a superset of
        the candidates, so:

        * an operation record's ids are its file's stem whatever the parse says (a valid record is
          named after its id, D005; an invalid one is known by its name), and its directories come
          from its front matter's ALLOWED_PATHS as the fast YAML path reads it, valid or not (an
          invalid record's are extra candidates, never missing ones);
        * a month file without a backslash holds every valid entry's ``operation_id`` literally: a
          valid id matches ``OPS-YYYY-MM-DD-NNN`` whole (L002), so no folded line break or space is in
          it, and only an escape could spell it otherwise. The ids found in its bytes are a superset
          of its entries' (an id in a text field is one more candidate).

        Anything else (another encoding, a front matter the fast path refuses, a Markdown ledger)
        is parsed as before.
        """
        if kind == "ledger" and self.policy.ledger_backend != "yaml":
            return {}
        if kind == "operations" and len(items) < LIGHT_MIN_RECORDS:
            return {}
        raws = self.git.read_blobs([blob for _path, blob in items], "a record file", limit=MAX_BYTES + 1)
        if kind == "ledger":
            facts = [_ledger_ids(raw) for raw in raws]
        else:
            pairs = [(path, raw) for (path, _blob), raw in zip(items, raws)]
            del raws
            facts = parallel.split_map(_declarations_facts, pairs, records_cache.PARALLEL_MIN_FILES, consume=True)
        return {item: found for item, found in zip(items, facts) if found is not None}


# Below this many operation records a summary parses them all (and keeps their parse for the loads
# that follow); a month file's ids are always read from its bytes when they can be.
LIGHT_MIN_RECORDS = 200


def _declarations_facts(pairs: Sequence[tuple[str, bytes | None]],
                        ) -> list[tuple[tuple[str, ...], tuple[str, ...]] | None]:
    found = []
    for i, (path, raw) in enumerate(pairs):
        if isinstance(pairs, list):
            pairs[i] = ("", None)   # each file's bytes dropped once read
        found.append(_declaration_facts(path, raw))
    return found


def _text(raw: bytes | None) -> str | None:
    if raw is None or len(raw) > MAX_BYTES or raw.startswith(b"\xef\xbb\xbf") or b"\0" in raw:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _declaration_facts(path: str, raw: bytes | None) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(ids, directories) of an operation record from its front matter alone, or None to parse it."""
    text = _text(raw)
    split = split_front_matter(path, text) if text is not None and "\r" not in text else None
    if not isinstance(split, tuple):
        return None
    docs = plain_data(split[0])
    if docs is None or len(docs) != 1:
        return None
    patterns = docs[0].get("ALLOWED_PATHS")
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        return None
    prefixes = {ANYWHERE if p is None else p for p in map(literal_prefix, patterns) if p != ""}
    return (posixpath.basename(path).removesuffix(".md"),), tuple(sorted(prefixes))


def _ledger_ids(raw: bytes | None) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(ids, no directories) of a month file from its bytes, or None to parse it."""
    text = _text(raw)
    if raw is None or text is None or b"\\" in raw:
        return None
    return tuple(sorted({m.decode() for m in ID_BYTES.findall(raw)})), ()


def _facts(kind: str, path: str, records: RecordSet) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(operation ids, literal prefixes) one record file contributes."""
    if kind == "ledger":
        return tuple(sorted({e.operation_id for e in records.entries})), ()
    ids = {d.operation_id for d in records.declarations} | set(records.invalid_ids)
    ids.add(posixpath.basename(path).removesuffix(".md"))
    prefixes = {ANYWHERE if p is None else p
                for d in records.declarations for p in map(literal_prefix, d.allowed_paths) if p != ""}
    return tuple(sorted(ids)), tuple(sorted(prefixes))


def _valid(value: Any) -> Summary | None:
    """A kept summary (its bytes are checked by the store; the code that wrote it is this code,
    since the store's name carries the code's fingerprint), or None."""
    return value if isinstance(value, dict) else None


__all__: Sequence[str] = ["Needed", "RecordIndex", "ancestors"]
