"""Where opsgov keeps what it has already worked out: one marshal file per kind and fingerprint.

Several kinds share this store (each module says what it keys on):

* ``records``: parsed record files, by blob id (:mod:`opsgov_hooks.speed.records_cache`), and
  ``index``: which operations each record folder's tree holds, and where
  (:mod:`opsgov_hooks.speed.record_index`). Both live in :mod:`opsgov_hooks.speed.kv` (SQLite,
  read a row at a time), not in this module's whole-file store;
* ``findings``: the per-operation record rules' findings, by the operation's records
  (:mod:`opsgov_hooks.speed.memo`);
* ``results``: a whole ``check --all``'s findings, by everything it reads
  (:mod:`opsgov_hooks.speed.results`);
* ``ancestry``: is-ancestor answers for rollback references, by (tip, commit)
  (:func:`opsgov_hooks.git.refs.resolve`), and ``sealed``: the entry a tag's commit holds, by tag
  object (:mod:`opsgov_hooks.speed.sealed`). Both are facts about immutable objects.
* ``scan``: detect-secrets' screen, by the installed library and a baseline's plugins
  (:mod:`opsgov_hooks.speed.screens`), and ``policy``: the policy of a configuration, by the bytes
  of ``.opsgov.yaml`` and ``pyproject.toml`` (:mod:`opsgov_hooks.speed.policies`). Both live in
  :mod:`opsgov_hooks.speed.kv`.

* Where: ``<git common dir>/opsgov-cache/`` -- inside ``.git``, so it is never
  committed, belongs to one clone, and is shared by its linked worktrees. ``OPSGOV_CACHE_DIR``
  names another folder (one per repository): for CI systems that keep folders between runs
  only outside ``.git``, or must not let ``.git`` carry the cache from one job to the next
  (docs/ci.md, "Starting warm").
* Validity: a file's name carries a fingerprint of the code that produced its
  contents (every module of the package, the schemas, the Python version since
  :mod:`marshal` is per version) and of the policy. Anything else of that kind in
  the folder is stale and removed on the next write.
* Safety: :mod:`marshal` holds only plain data (loading it cannot run code), every
  write is atomic (temporary file + ``os.replace``), and a file that cannot be read,
  fails its digest or has the wrong shape is ignored and rebuilt: a cache can make
  opsgov faster, never wrong or broken.

``OPSGOV_NO_CACHE=1`` turns every kind off.

Trust: a row's digest catches damage, not forgery. Whoever can write this folder can make
the gate answer what they wrote, so it must only ever be filled by runs of trusted code on
trusted revisions (docs/ci.md).
"""
from __future__ import annotations

import functools
import hashlib
import marshal
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from opsgov_hooks.speed.nogc import paused_gc
from opsgov_hooks import __version__
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.process import GitError
from opsgov_hooks.resources import PACKAGE_DIR, schema_folder

if TYPE_CHECKING:
    from opsgov_hooks.policy.config import Policy

CACHE_DIR = "opsgov-cache"
T = TypeVar("T")
FORMAT = 3             # 3: a digest of the payload after the header
_MAGIC = b"opsgov cache\n"
_DIGEST = 16           # bytes of blake2b over header and payload: a damaged file is a miss, not a wrong answer


def enabled() -> bool:
    return not os.environ.get("OPSGOV_NO_CACHE")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A digest of the code and schemas of this opsgov: editing any module invalidates every cache.

    Every module, not a list of them: a rule may import any helper, and a list kept by hand
    goes stale the day someone forgets it.
    """
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{sys.version_info[:2]}\0".encode())
    sources = []
    for folder, subfolders, files in os.walk(PACKAGE_DIR):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        sources += [os.path.join(folder, name) for name in files if name.endswith(".py")]
    schemas = schema_folder()
    named = [(os.path.relpath(path, PACKAGE_DIR), path) for path in sorted(sources)]
    named += [(f"schemas/{name}", os.path.join(schemas, name)) for name in sorted(os.listdir(schemas))]
    for name, path in named:
        digest.update(name.encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def fingerprint(policy: Policy | None) -> str:
    """The code's fingerprint with the policy's (None: a kind whose keys hold the policy's source)."""
    return hashlib.sha256(f"{code_fingerprint()}\0{policy!r}".encode()).hexdigest()[:24]


def _digest(header: bytes, payload: bytes) -> bytes:
    digest = hashlib.blake2b(header, digest_size=_DIGEST)
    digest.update(payload)
    return digest.digest()


class Store:
    """A dict of plain data for one kind and fingerprint, loaded once and written back when it changed."""

    def __init__(self, directory: str, kind: str, key: str) -> None:
        self.directory = directory
        self.kind = kind
        self.key = key
        self.file = os.path.join(directory, f"{kind}-{key}.bin")
        self.entries: dict[Any, Any] = {}
        self.used: set[Any] = set()
        self.dirty = False
        with paused_gc():  # a large cache is many small acyclic objects: the collector would only re-scan them
            self._read()

    def _read(self) -> None:
        if not os.path.isfile(self.file):
            return  # missing, or not a regular file (a FIFO in a restored folder would block the read)
        try:
            with open(self.file, "rb") as f:
                data = f.read()
            header = self._header()
            if not data.startswith(header):
                return
            digest, payload = data[len(header):len(header) + _DIGEST], data[len(header) + _DIGEST:]
            # A flipped byte inside a string would still load, as another answer: check first. (Damage
            # only: a digest is not a signature, and whoever can write the folder can forge it.)
            if digest != _digest(header, payload):
                return
            entries = marshal.loads(payload)
        except (OSError, ValueError, EOFError, TypeError):
            return  # missing or corrupt: start empty, the next save rewrites it
        if isinstance(entries, dict):
            self.entries = entries

    def _header(self) -> bytes:
        return _MAGIC + f"{self.kind}\0{self.key}\n".encode()

    def get(self, key: Any) -> Any:
        value = self.entries.get(key)
        if value is not None:
            self.used.add(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self.entries[key] = value
        self.used.add(key)
        self.dirty = True

    def drop(self, key: Any) -> None:
        if self.entries.pop(key, None) is not None:
            self.dirty = True

    def save(self, keep: int = 2000) -> None:
        """Write atomically if anything changed; a failed write only costs speed.

        Entries no run has used are pruned once they outnumber the used ones (plus ``keep``),
        so the file tracks the repository instead of growing with every version ever seen.
        """
        if not self.dirty:
            return
        if len(self.entries) > 2 * len(self.used) + keep:
            self.entries = {k: v for k, v in self.entries.items() if k in self.used}
        try:
            header, body = self._header(), marshal.dumps(self.entries)
            payload = header + _digest(header, body) + body
        except ValueError:
            return  # something that is not plain data: never cached
        import tempfile

        try:
            os.makedirs(self.directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.kind}-", dir=self.directory)
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
            if name.startswith(f"{self.kind}-") and name != mine:
                try:
                    os.unlink(os.path.join(self.directory, name))
                except OSError:
                    pass


_OPEN: dict[tuple[str, str, str], Store] = {}


def cache_dir(git: Git) -> str | None:
    """``$OPSGOV_CACHE_DIR``, else ``<git common dir>/opsgov-cache`` of the clone ``git`` works in
    (None: caching is off, or no git dir)."""
    if not enabled():
        return None
    named = os.environ.get("OPSGOV_CACHE_DIR")
    if named:
        # Relative to where opsgov was started, as any path on its command line; made absolute
        # so that a store opened twice in one process is the same store.
        return os.path.abspath(named)
    try:
        common = git.common_dir()
    except GitError:
        return None
    return os.path.join(common, CACHE_DIR) if common else None


def one_per_process(git: Git, kind: str, policy: Policy | None, opened: dict[tuple[str, str, str], T],
                    make: Callable[[str, str, str], T]) -> T | None:
    """The ``kind`` store of the clone ``git`` works in, made by ``make(directory, kind, key)`` once per
    process and kept in ``opened``; None when caching is off or there is no git directory."""
    directory = cache_dir(git)
    if directory is None:
        return None
    key = fingerprint(policy)
    found = opened.get((directory, kind, key))
    if found is None:
        found = opened[(directory, kind, key)] = make(directory, kind, key)
    return found


def has_store(git: Git, kind: str, policy: Policy | None) -> bool:
    """Does the clone keep a ``kind`` store for this code and policy? (Only asks whether its file exists.)"""
    directory = cache_dir(git)
    return directory is not None and os.path.isfile(os.path.join(directory, f"{kind}-{fingerprint(policy)}.bin"))


def open_store(git: Git, kind: str, policy: Policy | None) -> Store | None:
    """The ``kind`` store of the clone ``git`` works in (one per process), or None (turned off, no git dir)."""
    return one_per_process(git, kind, policy, _OPEN, Store)
