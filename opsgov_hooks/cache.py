"""A per-clone cache of parsed and validated record files, keyed by git blob id.

A ledger month file that has not changed is never parsed twice: the result of
:func:`~opsgov_hooks.records.store.parse_record_file` (declarations, entries and
findings, as plain tuples) is stored under ``(path, blob id)``, and a warm run
skips reading, YAML and schema work for every file whose blob id it knows.

* Where: ``<git common dir>/opsgov-cache/`` -- inside ``.git``, so it is never
  committed, belongs to one clone, and is shared by its linked worktrees.
* Validity: the file name carries a fingerprint of everything a parse depends on
  (opsgov version, the schemas, the source of the parsing modules, the policy,
  the Python version, since :mod:`marshal` is per version). Anything else in the
  folder is stale and removed on the next write.
* Safety: :mod:`marshal` holds only plain data (it cannot run code when
  loaded), every write is atomic (temporary file + ``os.replace``), and a cache
  that cannot be read or has the wrong shape is ignored and rebuilt: the cache
  can make opsgov faster, never wrong or broken.
* Working tree: files have no blob id until git hashes them. Files that git
  reports unchanged since they were staged (``ls-files -s`` minus
  ``diff-files``, regular files only) take the index's blob id; any other file
  is parsed every time. Working-tree results are kept apart from results of
  git objects, because checkout filters (CRLF, smudge) may make the bytes differ.

``OPSGOV_NO_CACHE=1`` turns it off.
"""
from __future__ import annotations

import dataclasses
import gc
import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from opsgov_hooks import __version__
from opsgov_hooks.config import Policy
from opsgov_hooks.findings import Finding, Severity
from opsgov_hooks.gitio import Git, GitError
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.store import RecordSet, parse_record_file, record_prefixes
from opsgov_hooks.sources import Source, WorktreeSource

CACHE_DIR = "opsgov-cache"
FORMAT = 1
_MAGIC = b"opsgov record cache\n"
# The modules whose code decides what a parse returns: editing one invalidates the cache.
_PARSER_MODULES = ("opsgov_hooks.yamlstrict", "opsgov_hooks.schemas", "opsgov_hooks.records.ids",
                   "opsgov_hooks.records.declaration", "opsgov_hooks.records.ledger",
                   "opsgov_hooks.records.store", "opsgov_hooks.findings", __name__)

Parsed = tuple[Any, ...]


def fingerprint(policy: Policy) -> str:
    """A digest of everything a parse result depends on besides the file itself."""
    from opsgov_hooks import schemas

    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version_info[:2]}\0{policy!r}".encode())
    folder = schemas.schema_dir()
    for name in sorted(os.listdir(folder)):
        digest.update(name.encode() + b"\0")
        with open(folder / name, "rb") as f:
            digest.update(f.read())
    for module in _PARSER_MODULES:
        origin = getattr(sys.modules.get(module), "__file__", None)
        if origin:
            with open(origin, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:24]


class RecordCache:
    """Parse results of one fingerprint, loaded once and written back when something was added."""

    def __init__(self, directory: str, key: str) -> None:
        self.directory = directory
        self.key = key
        self.file = os.path.join(directory, f"records-{key}.bin")
        self.entries: dict[str, Parsed] = {}
        self.used: set[str] = set()
        self.dirty = False
        self._load()

    def _load(self) -> None:
        was_enabled = gc.isenabled()
        gc.disable()  # see load_with_cache
        try:
            self._read()
        finally:
            if was_enabled:
                gc.enable()

    def _read(self) -> None:
        try:
            with open(self.file, "rb") as f:
                data = f.read()
            header = _MAGIC + self.key.encode() + b"\n"
            if not data.startswith(header):
                return
            entries = marshal.loads(data[len(header):])
        except (OSError, ValueError, EOFError, TypeError):
            return  # missing or corrupt: start empty, the next save rewrites it
        if isinstance(entries, dict):
            self.entries = entries

    def get(self, key: str) -> Parsed | None:
        value = self.entries.get(key)
        if value is not None:
            self.used.add(key)
        return value

    def put(self, key: str, value: Parsed) -> None:
        self.entries[key] = value
        self.used.add(key)
        self.dirty = True

    def drop(self, key: str) -> None:
        if self.entries.pop(key, None) is not None:
            self.dirty = True

    def save(self) -> None:
        """Write atomically if anything changed; a failed write only costs speed."""
        if not self.dirty:
            return
        if len(self.entries) > 2 * len(self.used) + 2000:
            self.entries = {k: v for k, v in self.entries.items() if k in self.used}
        try:
            os.makedirs(self.directory, exist_ok=True)
            payload = _MAGIC + self.key.encode() + b"\n" + marshal.dumps(self.entries)
            fd, tmp = tempfile.mkstemp(prefix=".records-", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(payload)
                os.replace(tmp, self.file)
            except BaseException:
                os.unlink(tmp)
                raise
            self._remove_stale()
        except OSError:
            return
        self.dirty = False

    def _remove_stale(self) -> None:
        mine = os.path.basename(self.file)
        for name in os.listdir(self.directory):
            if name.startswith("records-") and name != mine:
                try:
                    os.unlink(os.path.join(self.directory, name))
                except OSError:
                    pass


# -- one cache per clone and policy, per process ------------------------------------

_OPEN: dict[tuple[str, str], RecordCache] = {}


def cache_for(source: Source, policy: Policy) -> RecordCache | None:
    """The cache of the clone ``source`` reads from, or None (not in git, or turned off)."""
    if os.environ.get("OPSGOV_NO_CACHE"):
        return None
    git = _git_of(source)
    return cache_for_git(git, policy) if git is not None else None


def cache_for_git(git: Git, policy: Policy) -> RecordCache | None:
    """The cache of the clone ``git`` works in, or None (turned off, or no git directory)."""
    if os.environ.get("OPSGOV_NO_CACHE"):
        return None
    directory = _cache_dir(git)
    if directory is None:
        return None
    key = fingerprint(policy)
    cache = _OPEN.get((directory, key))
    if cache is None:
        cache = _OPEN[(directory, key)] = RecordCache(directory, key)
    return cache


def _git_of(source: Source) -> Git | None:
    git = getattr(source, "git", None)
    if isinstance(git, Git):
        return git
    if isinstance(source, WorktreeSource):
        return Git(source.root)
    return None


def _cache_dir(git: Git) -> str | None:
    try:
        common = git.common_dir()
    except GitError:
        return None
    return os.path.join(common, CACHE_DIR) if common else None


# -- loading records through the cache -------------------------------------------------

def load_with_cache(cache: RecordCache, source: Source, policy: Policy, paths: Sequence[str],
                    records: RecordSet) -> None:
    """:func:`parse_record_file` for each of ``paths``, in order, reusing cached results.

    The cyclic garbage collector is paused meanwhile: the parse results are
    hundreds of thousands of small, acyclic, long-lived objects, and the collector
    would otherwise re-scan all of them again and again as they accumulate (a
    third of the time of a cold run over 10,000 entries).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _load(cache, source, policy, paths, records)
    finally:
        if was_enabled:
            gc.enable()


def _load(cache: RecordCache, source: Source, policy: Policy, paths: Sequence[str], records: RecordSet) -> None:
    ns, ids = _blob_ids(source, policy, paths)
    keys = {p: f"{ns}\0{p}\0{ids[p]}" for p in paths if p in ids}
    missing = [p for p in paths if p not in keys or keys[p] not in cache.entries]
    contents = source.read_many(missing) if missing else {}
    fresh = dict(zip(missing, parse_many([(p, contents.get(p)) for p in missing], policy)))
    for path in paths:
        key = keys.get(path)
        hit = cache.get(key) if key is not None else None
        if hit is not None and _apply(hit, records):
            continue
        if hit is not None:  # a damaged entry: forget it, read the file after all
            cache.drop(key)  # type: ignore[arg-type]
            contents.update(source.read_many([path]))
        result = fresh.get(path)
        if result is None:
            result = _dump(_parse_one(path, contents.get(path), policy))
        if key is not None and contents.get(path) is not None:
            cache.put(key, result)
        _apply(result, records)
    cache.save()


# -- cold runs: two cores parse at once ----------------------------------------------------

PARALLEL_MIN_FILES = 1000


def parse_many(items: Sequence[tuple[str, bytes | None]], policy: Policy) -> list[Parsed]:
    """Parse results of ``(path, bytes)`` items, in order; with many files and a second core,
    a forked child parses every other one.

    Parsing is pure and per file, so the halves are independent; the child sends
    its results back as :mod:`marshal` data (plain tuples, as stored in the cache).
    If the child fails in any way its half is parsed here: never a wrong answer.
    """
    child = None
    if len(items) >= PARALLEL_MIN_FILES and _cores() >= 2 and hasattr(os, "fork"):
        child = _fork_parser(items[1::2], policy)
    results: list[Parsed | None] = [None] * len(items)
    step = 1 if child is None else 2
    for i in range(0, len(items), step):
        results[i] = _dump(_parse_one(*items[i], policy))
    if child is not None:
        theirs = _join_parser(*child)
        if theirs is None or len(theirs) != len(items[1::2]):
            theirs = [_dump(_parse_one(path, raw, policy)) for path, raw in items[1::2]]
        results[1::2] = theirs
    return results  # type: ignore[return-value]  # every slot is filled above


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def _fork_parser(items: Sequence[tuple[str, bytes | None]], policy: Policy) -> tuple[int, int] | None:
    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: parse, send, and leave without running any of the parent's cleanup
        code = 1
        try:
            os.close(read_end)
            data = marshal.dumps([_dump(_parse_one(path, raw, policy)) for path, raw in items])
            with os.fdopen(write_end, "wb") as f:
                f.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _join_parser(pid: int, read_end: int) -> list[Parsed] | None:
    with os.fdopen(read_end, "rb") as f:
        data = f.read()
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    try:
        results = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    return results if isinstance(results, list) else None


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
    was_enabled = gc.isenabled()
    gc.disable()  # see load_with_cache
    try:
        return _parse_blobs(git, policy, items)
    finally:
        if was_enabled:
            gc.enable()


def _parse_blobs(git: Git, policy: Policy, items: Sequence[tuple[str, str]]) -> dict[tuple[str, str], RecordSet]:
    cache = cache_for_git(git, policy)
    results: dict[tuple[str, str], RecordSet] = {}
    todo: list[tuple[str, str]] = []
    for path, sha in items:
        key = f"g\0{path}\0{sha}"
        hit = cache.get(key) if cache is not None else None
        one = RecordSet()
        if hit is not None and _apply(hit, one):
            results[(path, sha)] = one
            continue
        if hit is not None and cache is not None:
            cache.drop(key)
        todo.append((path, sha))
    raws = [data for _kind, data in git.read_objects(sha for _path, sha in todo)]
    for (path, sha), raw, parsed in zip(todo, raws, parse_many([(p, r) for (p, _s), r in zip(todo, raws)], policy)):
        if cache is not None and raw is not None:
            cache.put(f"g\0{path}\0{sha}", parsed)
        one = RecordSet()
        _apply(parsed, one)
        results[(path, sha)] = one
    if cache is not None:
        cache.save()
    return results


def _blob_ids(source: Source, policy: Policy, paths: Sequence[str]) -> tuple[str, dict[str, str]]:
    if isinstance(source, WorktreeSource):
        try:
            return "w", Git(source.root).worktree_blob_ids(record_prefixes(policy))
        except GitError:
            return "w", {}
    return "g", source.blob_ids(paths)


def _values(obj: Any) -> tuple[Any, ...]:
    """A record dataclass as a tuple in field order (shallow: its fields are plain data)."""
    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


def _dump(records: RecordSet) -> Parsed:
    return (
        tuple(records.files),
        tuple(_values(d) for d in records.declarations),
        tuple(_values(e) for e in records.entries),
        tuple((f.code, f.message, f.path, f.line, f.column, f.severity.value, f.hint) for f in records.findings),
        tuple(sorted(records.invalid_ids)),
    )


def _entry(values: tuple[Any, ...]) -> LedgerEntry:
    # Each run gets its own ``fields`` dict, so a caller that edits one cannot edit the cache.
    return LedgerEntry(dict(values[0]), *values[1:])


def _apply(data: Parsed, records: RecordSet) -> bool:
    """Add a cached result to ``records``; False (and nothing added) when its shape is wrong."""
    try:
        files, declarations, entries, findings, invalid = data
        decl = [Declaration(*d) for d in declarations]
        ents = [_entry(e) for e in entries]
        finds = [Finding(c, m, p, ln, col, Severity(s), h) for c, m, p, ln, col, s, h in findings]
        files, invalid = list(files), set(invalid)
    except (TypeError, ValueError):
        return False
    records.files.extend(files)
    records.declarations.extend(decl)
    records.entries.extend(ents)
    records.findings.extend(finds)
    records.invalid_ids.update(invalid)
    return True


