"""Parsed and validated record files, keyed by git blob id (the ``records`` kind of
:mod:`opsgov_hooks.speed.kv`, which says where, how and how safely it is kept: a run
reads the rows of the files it loads, not the whole store).

A ledger month file that has not changed is never parsed twice: the result of
:func:`~opsgov_hooks.records.store.parse_record_file` (declarations, entries and
findings, as plain tuples) is stored under ``(path, blob id)``, and a warm run
skips reading, YAML and schema work for every file whose blob id it knows.

Working tree: files have no blob id until git hashes them. Files that git
reports unchanged since they were staged (``ls-files -s`` minus ``diff-files``,
regular files only) take the index's blob id; any other file is parsed every
time. Working-tree results are kept apart from results of git objects, because
checkout filters (CRLF, smudge) may make the bytes differ.
"""
from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from opsgov_hooks.speed.nogc import paused_gc
from opsgov_hooks.speed import parallel
from opsgov_hooks.speed.kv import KeyValue, open_kv
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import error, from_tuple, to_tuple
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.process import GitError
from opsgov_hooks.git.tags import TagRef
from opsgov_hooks.records.ledger import LedgerEntry, parse_tag_entry
from opsgov_hooks.records.plain import declaration_from, declaration_values, entry_from, entry_values
from opsgov_hooks.records.store import RecordSet, parse_record_file, record_kind, record_prefixes
from opsgov_hooks.git.sources import Source, WorktreeSource

__all__ = ["cache_for", "cache_for_git", "dump_entries", "load_entries", "load_records", "load_with_cache",
           "parse_blobs", "parse_many"]

Parsed = tuple[Any, ...]


def cache_for(source: Source, policy: Policy) -> KeyValue | None:
    """The record cache of the clone ``source`` reads from, or None (not in git, or turned off)."""
    git = _git_of(source)
    return cache_for_git(git, policy) if git is not None else None


def cache_for_git(git: Git, policy: Policy) -> KeyValue | None:
    """The record cache of the clone ``git`` works in, or None (turned off, or no git directory)."""
    return open_kv(git, "records", policy)


def _git_of(source: Source) -> Git | None:
    git = getattr(source, "git", None)
    if isinstance(git, Git):
        return git
    if isinstance(source, WorktreeSource):
        return Git(source.root)
    return None


# -- loading records through the cache -------------------------------------------------

def load_records(source: Source, policy: Policy, *, paths: Sequence[str] | None = None,
                 tags: Sequence[TagRef] = (), cache: bool = True) -> RecordSet:
    """Records from ``source``: all the policy knows of, or only ``paths``.

    With the tags backend the ledger comes from ``tags`` (annotated ``ops-*`` tags).
    With ``cache`` (the default), files already parsed in this clone are not parsed
    again (below).
    """
    records = RecordSet()
    if paths is None:
        paths = [p for p in source.list(record_prefixes(policy)) if record_kind(p, policy)]
    store = cache_for(source, policy) if cache else None
    if store is not None:
        load_with_cache(store, source, policy, list(paths), records)
    else:
        contents = source.read_many(list(paths))
        for path in paths:
            parse_record_file(path, contents.get(path), policy, records)
    special = getattr(source, "special", None)
    if special:
        # Never opened: a FIFO, socket or device where a record should be (reading one would hang).
        records.findings = [f for f in records.findings if not (f.code == "F012" and f.path in special)]
        records.findings += [error("F013", f"{special[p]} stands where a record should be; opsgov does not open "
                                   "it", p, hint="replace it with the record file, or remove it")
                             for p in paths if p in special]
    if policy.ledger_backend == "tags":
        for tag in tags:
            entry, findings = parse_tag_entry(tag.ref, tag.message)
            if entry is not None:
                records.entries.append(entry)
            records.findings.extend(findings)
    return records



def load_with_cache(cache: KeyValue, source: Source, policy: Policy, paths: Sequence[str],
                    records: RecordSet) -> None:
    """:func:`parse_record_file` for each of ``paths``, in order, reusing cached results.

    The cyclic garbage collector is paused meanwhile (:mod:`opsgov_hooks.speed.nogc`).
    """
    with paused_gc():
        _load(cache, source, policy, paths, records)


def _load(cache: KeyValue, source: Source, policy: Policy, paths: Sequence[str], records: RecordSet) -> None:
    ns, ids = _blob_ids(source, policy, paths)
    keys = {p: f"{ns}\0{p}\0{ids[p]}" for p in paths if p in ids}
    kept = _kept(cache, keys.values())
    missing = [p for p in paths if p not in keys or keys[p] not in kept]
    contents = source.read_many(missing) if missing else {}
    items = [(p, contents.get(p), keys.get(p)) for p in missing]
    readable = {p for p, raw in contents.items() if raw is not None}
    contents.clear()   # the bytes are in ``items`` only, each dropped once parsed
    fresh = dict(zip(missing, parse_many(items, policy, cache)))
    kept_now = 0
    for path in paths:
        key = keys.get(path)
        hit = kept.get(key) if key is not None else None
        if hit is not None and _apply(hit, records):
            continue
        if hit is not None:  # a kept value of the wrong shape: read the file after all
            contents.update(source.read_many([path]))
            readable.update(p for p, raw in contents.items() if raw is not None)
        result, in_child = fresh.get(path) or (_dump(_parse_one(path, contents.get(path), policy)), False)
        if key is not None and path in readable and not in_child:
            _keep(cache, key, result)
            kept_now += 1
            if kept_now % SAVE_EVERY == 0:
                cache.save()
        _apply(result, records)
    cache.save()


# Rows are written every this many files: a cold run of 10,000 records would otherwise hold every
# row's bytes (57 MB) until one write at the end.
SAVE_EVERY = 1000


# -- cold runs: two cores parse at once ----------------------------------------------------

PARALLEL_MIN_FILES = 1000


def parse_many(items: list[tuple[str, bytes | None, str | None]], policy: Policy,
               cache: KeyValue | None = None) -> list[tuple[Parsed, bool]]:
    """Parse results of ``(path, bytes, row key)`` items, in order, each with whether its row is
    kept already; ``items`` is given away (each file's bytes are dropped once parsed).

    With many files and a second core, a forked child parses a share of them
    (:func:`opsgov_hooks.speed.parallel.split_map`), and keeps in ``cache`` the rows of those
    that have a key, written before it answers: the parent, whose work is the critical path of
    a cold run, keeps only its own share (and the child's, if the child failed and it parsed them).
    """
    parent = os.getpid()
    kept_in_child = 0

    def work(part: Sequence[Any]) -> list[tuple[Parsed, bool]]:
        nonlocal kept_in_child
        here = cache if os.getpid() != parent else None   # rows are kept here only in a child
        results: list[tuple[Parsed, bool]] = []
        for i, (path, raw, key) in enumerate(part):
            if isinstance(part, list):
                part[i] = None
            parsed = _dump(_parse_one(path, raw, policy))
            kept = False
            if here is not None and key is not None and raw is not None:
                _keep(here, key, parsed)
                kept = True
                kept_in_child += 1
                if kept_in_child % SAVE_EVERY == 0:
                    here.save()
            results.append((parsed, kept))
        return results

    # The child writes what is left of its rows once, after its last run and before it answers
    # (a write per run would be a transaction per run).
    last_rows = cache.save if cache is not None else None
    if len(items) < PARALLEL_MIN_FILES:
        return parallel.split_map(work, items, PARALLEL_MIN_FILES, consume=True)
    # Largest files last: the child starts from the end, so it parses the month files (each as much
    # work as 400 runbooks) while the parent parses, and frees, the bytes of the many small files.
    order = sorted(range(len(items)), key=lambda i: len(items[i][1] or b""))
    ordered = [items[i] for i in order]
    items.clear()
    weights = [len(raw or b"") + 1 for _path, raw, _key in ordered]
    parsed = parallel.split_map(work, ordered, PARALLEL_MIN_FILES, consume=True, chunks=128, weights=weights,
                                finish_in_child=last_rows)
    results: list[tuple[Parsed, bool]] = [None] * len(order)  # type: ignore[list-item]
    for i, result in zip(order, parsed):
        results[i] = result
    return results


def _parse_one(path: str, raw: bytes | None, policy: Policy) -> RecordSet:
    one = RecordSet()
    parse_record_file(path, raw, policy, one)
    return one


def parse_blobs(git: Git, policy: Policy,
                items: Sequence[tuple[str, str]]) -> dict[tuple[str, str], RecordSet]:
    """The records of each file version ``(path, blob id)``, parsed once per clone.

    For callers that hold blob ids already (a range of commits shares most of its
    file versions): cached versions are not read at all, the others are read
    through the one ``cat-file --batch`` process, parsed, and remembered.
    """
    with paused_gc():
        return _parse_blobs(git, policy, items)


def _parse_blobs(git: Git, policy: Policy, items: Sequence[tuple[str, str]]) -> dict[tuple[str, str], RecordSet]:
    cache = cache_for_git(git, policy)
    results: dict[tuple[str, str], RecordSet] = {}
    todo: list[tuple[str, str]] = []
    kept = _kept(cache, [f"g\0{path}\0{sha}" for path, sha in items]) if cache is not None else {}
    for path, sha in items:
        hit = kept.get(f"g\0{path}\0{sha}")
        one = RecordSet()
        if hit is not None and _apply(hit, one):
            results[(path, sha)] = one
            continue
        todo.append((path, sha))
    raws = git.read_blobs([sha for _path, sha in todo], "a record file")
    work: list[tuple[str, bytes | None, str | None]] = [
        (path, raw, f"g\0{path}\0{sha}" if cache is not None and raw is not None else None)
        for (path, sha), raw in zip(todo, raws)]
    del raws   # in ``work`` only: each file's bytes are dropped once parsed
    keyed = [key is not None for _p, _r, key in work]
    later = _LATER
    for (path, sha), has_key, (parsed, in_child) in zip(todo, keyed, parse_many(work, policy, cache)):
        if cache is not None and has_key and not in_child:
            if later is not None:
                later.items.append((cache, f"g\0{path}\0{sha}", parsed))
            else:
                _keep(cache, f"g\0{path}\0{sha}", parsed)
        one = RecordSet()
        _apply(parsed, one)
        results[(path, sha)] = one
    if cache is not None and later is None:
        cache.save()
    return results


# -- writing the cache later: a cold --all writes it while its history rules run in a child ---------------

class KeepLater:
    """What :func:`parse_blobs` parsed inside ``with keep_later() as later:``, to be kept by ``later.now()``."""

    def __init__(self) -> None:
        self.items: list[tuple[KeyValue, str, Parsed]] = []

    def now(self) -> None:
        """Keep (and write) everything parsed so far."""
        caches: dict[int, KeyValue] = {}
        for count, (cache, key, parsed) in enumerate(self.items, 1):
            _keep(cache, key, parsed)
            caches[id(cache)] = cache
            if count % SAVE_EVERY == 0:
                cache.save()
        self.items.clear()
        for cache in caches.values():
            cache.save()


_LATER: KeepLater | None = None


def forget_later() -> None:
    """In a forked child: what the parent parsed is the parent's to write; what the child parses, it
    writes at once. The list is left as it is (emptying it would touch, and copy, every page it holds)."""
    global _LATER
    _LATER = None


@contextlib.contextmanager
def keep_later() -> Iterator[KeepLater]:
    """Within the block, parsed record files are kept only when ``now()`` is called (and at its end): the
    caller chooses when the writing costs least (a cold ``--all`` ends the block once its record rules
    are done, while its history child still works; the child calls :func:`forget_later`). Nothing else
    changes: a run in the block reads as before. A parse child of :func:`parse_many` writes the rows
    of its own share at once, so only this process's share waits."""
    global _LATER
    outer, later = _LATER, KeepLater()
    _LATER = later
    try:
        yield later
        later.now()
    finally:
        _LATER = outer


def _blob_ids(source: Source, policy: Policy, paths: Sequence[str]) -> tuple[str, dict[str, str]]:
    if isinstance(source, WorktreeSource):
        try:
            return "w", Git(source.root).worktree_blob_ids(record_prefixes(policy))
        except GitError:
            return "w", {}
    return "g", source.blob_ids(paths)


# -- kept by entry: the versions of an append-only month file share almost all their entries --------

def _entry_key(values: tuple[Any, ...]) -> str:
    """Where one entry's values are kept: a digest of them (its file, lines and fields included).
    marshal version 2, as for the findings memo's keys (speed/memo.py): version 3 writes a shared
    object as a back-reference, so equal entries parsed apart would be kept twice."""
    return "e\0" + hashlib.blake2b(marshal.dumps(values, 2), digest_size=16).hexdigest()


def _keep(cache: KeyValue, key: str, parsed: Parsed) -> None:
    """Keep a parsed file with its entries by reference: each distinct entry is one row, so the 70
    versions of a month file a range meets cost their entries once, not 70 times over."""
    try:
        files, declarations, entries, findings, invalid = parsed
        refs = []
        for values in entries:
            ref = _entry_key(values)
            cache.put(ref, values)
            refs.append(ref)
    except (TypeError, ValueError):
        return   # not plain data: never kept
    cache.put(key, (files, declarations, tuple(refs), findings, invalid))


def _kept(cache: KeyValue, keys: Iterable[str]) -> dict[str, Parsed]:
    """The parsed files kept under ``keys``, their entries read back (a file whose entry row is lost is
    a miss). Each distinct entry is decoded once per run."""
    rows = cache.get_many(keys)
    refs = {ref for row in rows.values() if isinstance(row, tuple) and len(row) == 5 for ref in row[2]
            if isinstance(ref, str)}
    values = cache.get_many(refs) if refs else {}
    found: dict[str, Parsed] = {}
    for key, row in rows.items():
        if not (isinstance(row, tuple) and len(row) == 5 and isinstance(row[2], tuple)):
            continue
        if all(isinstance(ref, str) and ref in values for ref in row[2]):
            found[key] = (row[0], row[1], tuple(values[ref] for ref in row[2]), row[3], row[4])
    return found


def _dump(records: RecordSet) -> Parsed:
    return (
        tuple(records.files),
        tuple(declaration_values(d) for d in records.declarations),
        tuple(entry_values(e) for e in records.entries),
        tuple(to_tuple(f) for f in records.findings),
        tuple(sorted(records.invalid_ids)),
    )


def dump_entries(entries: Sequence[LedgerEntry]) -> Parsed:
    """Ledger entries as plain data (:func:`load_entries` reads them back)."""
    return tuple(entry_values(e) for e in entries)


def load_entries(data: Any) -> list[LedgerEntry] | None:
    """Entries kept by :func:`dump_entries`; None when ``data`` has the wrong shape."""
    try:
        return [entry_from(values) for values in data]
    except (TypeError, ValueError):
        return None


def _apply(data: Parsed, records: RecordSet) -> bool:
    """Add a cached result to ``records``; False (and nothing added) when its shape is wrong."""
    try:
        files, declarations, entries, findings, invalid = data
        parsed = RecordSet([declaration_from(d) for d in declarations], [entry_from(e) for e in entries],
                           [from_tuple(f) for f in findings], list(files), set(invalid))
    except (TypeError, ValueError):
        return False
    records.extend(parsed)
    return True


