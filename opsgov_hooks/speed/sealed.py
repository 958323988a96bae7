"""The entry an ``ops-*`` tag's commit holds in its ledger file, kept between runs.

The ``sealed`` kind of :mod:`opsgov_hooks.speed.store`. A tag object names one commit
forever, so what that commit's ledger file holds for the tag's operation never changes:
the month file at 1,000 tags' commits is read once per clone, not once per ``check --all``.
"""
from __future__ import annotations

from opsgov_hooks.git.refs import Kept
from opsgov_hooks.git.tags import TagRef
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.plain import entry_from, entry_values

KEEP = 200_000   # entries kept per clone: one a tag, far more tags than any ledger has


class SealedEntries:
    """The kept entries of one clone (nothing is kept when ``store`` is None)."""

    def __init__(self, store: Kept | None) -> None:
        self._store = store
        self._added = False

    def get(self, tag: TagRef, path: str) -> tuple[bool, LedgerEntry | None]:
        """(known, entry): whether ``path`` at the tag's commit was read before, and the entry it held.

        A kept value of the wrong shape (another version's, or damaged) is unknown: read again.
        """
        kept = self._store.get(_key(tag, path)) if self._store is not None else None
        if kept is None:
            return False, None
        if kept == ():
            return True, None   # read before: no entry for the operation there
        try:
            return True, entry_from(kept)
        except (TypeError, ValueError):
            return False, None

    def put(self, tag: TagRef, path: str, entry: LedgerEntry | None) -> None:
        if self._store is not None:
            self._store.put(_key(tag, path), () if entry is None else entry_values(entry))
            self._added = True

    def save(self) -> None:
        if self._store is not None and self._added:
            self._store.save(keep=KEEP)


def _key(tag: TagRef, path: str) -> str:
    # The tag object fixes the commit; the ref's name says which operation's entry is looked for.
    return f"{tag.object_sha}\0{tag.name}\0{path}"
