"""A keyed store read a row at a time: SQLite, for the kinds a run needs only part of.

The ``records`` kind (parsed record files, by blob id) and the record indexes
(:mod:`opsgov_hooks.speed.record_index`) hold something about each of 10,000 operations,
while a staged check needs a handful of them. :class:`~opsgov_hooks.speed.store.Store`
reads a whole file per run (27 MB of records at 10,000 operations: about 100 ms before
the first rule runs), so these kinds live here instead: one SQLite database per kind and
fingerprint, where a run reads only the rows it asks for.

Why SQLite: it is in the standard library, reads one key through a B-tree without
loading the rest, batches writes in one transaction, and is safe when two processes
(two hooks, an editor and a terminal) open the same file.

* Where and when stale: as for :mod:`opsgov_hooks.speed.store` (``<git common dir>/opsgov-cache/``;
  the file name carries the fingerprint of the code and the policy; other files of
  the kind are removed when a new one is made).
* Never wrong: every value is stored with a digest of its key and its bytes, checked on
  every read. A row that fails the check, a value that is not plain data, a database
  SQLite calls malformed, a truncated or overwritten file: each is a miss, so the run
  computes the answer as if nothing were kept. A damaged file is removed and rebuilt by
  the next write. A database another process holds locked is left alone for this run.
* Plain data only: values are :mod:`marshal` payloads (loading one cannot run code).
"""
from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from opsgov_hooks.git.gitio import Git

try:
    import sqlite3
    HAVE_SQLITE = True
except ImportError:   # a Python built without SQLite: nothing is kept in this store, nothing else changes
    HAVE_SQLITE = False
from opsgov_hooks.speed.store import one_per_process

if TYPE_CHECKING:
    from opsgov_hooks.policy.config import Policy

FORMAT = 2              # 2: a rowid table on 16 KiB pages
_CHUNK = 500            # keys per SELECT (far below SQLite's limit on bound parameters)
_DIGEST = 16            # bytes of blake2b over key and payload, in front of each value
_BUSY_MS = 200          # how long a run waits for another process's write before doing without
# Rows are added, never pruned one by one (a run cannot tell which rows later runs will want);
# past this size the file is dropped and rebuilt by the runs that follow. 10,000 operations'
# records and index take about 70 MB; each new version of a ledger month file adds its parse.
MAX_BYTES = 512 * 1024 * 1024


def _digest(key: str, payload: bytes) -> bytes:
    return hashlib.blake2b(key.encode("utf-8", "surrogateescape") + b"\0" + payload, digest_size=_DIGEST).digest()


class KeyValue:
    """One kind's rows. Reads go to the database as asked; writes wait for :meth:`save`."""

    def __init__(self, directory: str, kind: str, key: str) -> None:
        self.directory = directory
        self.kind = kind
        self.file = os.path.join(directory, f"{kind}-{key}.sqlite")
        self._db: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._broken = False
        self._pending: dict[str, bytes | None] = {}   # key -> stored bytes (None: delete)

    # -- the connection ----------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection | None:
        if self._pid != os.getpid():
            # A forked child (parallel work): SQLite connections must not cross a fork. The
            # parent's handle is left to the parent; the child opens its own.
            self._db, self._pid = None, os.getpid()
        if self._db is not None or self._broken:
            return self._db
        if not os.path.isfile(self.file):
            return None  # nothing kept yet: reads are misses, the first save creates it
        try:
            db = sqlite3.connect(self.file, timeout=_BUSY_MS / 1000, isolation_level=None,
                                 check_same_thread=False)
            row = db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
            if row is None or row[0] != str(FORMAT):
                raise sqlite3.DatabaseError("not an opsgov store of this format")
        except sqlite3.Error as exc:
            self._damaged(exc)
            return None
        self._db = db
        return db

    def _create(self) -> sqlite3.Connection | None:
        try:
            os.makedirs(self.directory, exist_ok=True)
            tmp = f"{self.file}.{os.getpid()}.tmp"
            db = sqlite3.connect(tmp, isolation_level=None)
            # Values are kilobytes (a parsed record file, an index summary): a rowid table keeps them
            # in its leaves and the key index stays small, and 16 KiB pages hold several per page.
            # Measured with 20,000 rows of 0.5-6 KB: writes 324 -> 140 ms, 2,000 reads 47 -> 12 ms,
            # the file 100 -> 75 MB, against a WITHOUT ROWID table on 4 KiB pages.
            db.execute("PRAGMA page_size = 16384")
            db.execute("PRAGMA journal_mode = DELETE")
            db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
            db.execute("INSERT INTO meta VALUES ('format', ?)", (str(FORMAT),))
            db.close()
            os.replace(tmp, self.file)   # a half-made database is never seen under the real name
        except (OSError, sqlite3.Error):
            return None
        self._remove_stale()
        return self._connect()

    def _damaged(self, exc: sqlite3.Error) -> None:
        """Stop using the file for this run; remove it when SQLite says it is damaged (not merely busy)."""
        self._broken = True
        self.close()
        if "locked" in str(exc) or "busy" in str(exc):
            return
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(self.file + suffix)
            except OSError:
                pass

    def _remove_stale(self) -> None:
        mine = os.path.basename(self.file)
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if name.startswith(f"{self.kind}-") and not name.startswith(mine):
                try:
                    os.unlink(os.path.join(self.directory, name))
                except OSError:
                    pass

    # -- reads -------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        return self.get_many([key]).get(key)

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The kept value of each key that has one (a damaged row is left out, as if never kept)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Any] = {}
        for key in wanted:
            if key in self._pending:
                stored = self._pending[key]
                if stored is not None:
                    found[key] = marshal.loads(stored[_DIGEST:])
        rest = [k for k in wanted if k not in self._pending]
        db = self._connect() if rest else None
        if db is None:
            return found
        try:
            for start in range(0, len(rest), _CHUNK):
                part = rest[start:start + _CHUNK]
                marks = ",".join("?" * len(part))
                for key, stored in db.execute(f"SELECT key, value FROM kv WHERE key IN ({marks})", part):
                    value = self._decode(key, stored)
                    if value is not _MISS:
                        found[key] = value
        except sqlite3.Error as exc:
            self._damaged(exc)
            return {k: v for k, v in found.items() if k in self._pending}
        return found

    @staticmethod
    def _decode(key: str, stored: object) -> Any:
        if not isinstance(stored, bytes) or len(stored) < _DIGEST:
            return _MISS
        payload = stored[_DIGEST:]
        if _digest(key, payload) != stored[:_DIGEST]:
            return _MISS
        try:
            return marshal.loads(payload)
        except (ValueError, EOFError, TypeError):
            return _MISS

    # -- writes ------------------------------------------------------------------------
    def put(self, key: str, value: Any) -> None:
        try:
            payload = marshal.dumps(value)
        except ValueError:
            return  # not plain data: never kept
        self._pending[key] = _digest(key, payload) + payload

    def drop(self, key: str) -> None:
        self._pending[key] = None

    def save(self) -> None:
        """Write what this run added, in one transaction; a failed write only costs speed."""
        if not self._pending or self._broken:
            return
        db = self._connect() or (None if os.path.exists(self.file) else self._create())
        if db is None:
            return
        puts = [(k, v) for k, v in self._pending.items() if v is not None]
        drops = [(k,) for k, v in self._pending.items() if v is None]
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)", puts)
            db.executemany("DELETE FROM kv WHERE key = ?", drops)
            db.execute("COMMIT")
            if os.path.getsize(self.file) > MAX_BYTES:
                self._damaged(sqlite3.DatabaseError("over the size limit"))   # dropped: rebuilt from now on
                return
        except (OSError, sqlite3.Error) as exc:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            self._damaged(exc if isinstance(exc, sqlite3.Error) else sqlite3.DatabaseError(str(exc)))
            return
        self._pending.clear()

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None


class _Miss:
    pass


_MISS: Any = _Miss()


_OPEN: dict[tuple[str, str, str], KeyValue] = {}


def open_kv(git: Git, kind: str, policy: Policy | None) -> KeyValue | None:
    """The ``kind`` rows of the clone ``git`` works in (one per process), or None (turned off, no git dir,
    or no SQLite in this Python)."""
    if not HAVE_SQLITE:
        return None
    return one_per_process(git, kind, policy, _OPEN, KeyValue)
