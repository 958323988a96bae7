"""A whole ``check --all``, remembered by everything it reads.

``--all`` judges HEAD's tree with HEAD's policy against the repository's history and
tags, so its findings are a function of:

* the HEAD commit (its tree, the policy in it, and the history behind it);
* every ref (tags seal entries; a ``commit:<rev>`` rollback reference may name a branch);
* the object database (an abbreviated rollback reference becomes ambiguous when an
  object with the same prefix arrives): ``git count-objects -v`` moves with every new
  object, loose or packed;
* whether the clone is shallow, and ``OPSGOV_RECORDING`` (set by ``opsgov run``);
* the code of this opsgov (:func:`~opsgov_hooks.speed.store.code_fingerprint`);
* the clock, only through the timestamp rules: the kept findings carry the instant
  from which those rules could answer differently (:func:`~opsgov_hooks.rules.timestamps.horizon`),
  and are not used from then on.

A run whose answer depends on anything else is not kept: with ``require_signed_tags``
the answer depends on keys outside the repository. Kept findings are plain data in the
``results`` store (:mod:`opsgov_hooks.speed.store`); anything unreadable is a miss.
"""
from __future__ import annotations

import datetime
import hashlib
import os

from opsgov_hooks.speed.store import code_fingerprint, enabled, open_store
from opsgov_hooks.findings import Finding, from_tuple, to_tuple
from opsgov_hooks.git.gitio import Git

KIND = "results"
KEEP = 8   # a few recent HEADs (switching branches back and forth stays warm)


def inputs_key(git: Git, head: str) -> str | None:
    """A digest of everything ``--all`` at ``head`` reads besides the clock (None: caching is off)."""
    if not enabled():
        return None
    digest = hashlib.sha256(f"{code_fingerprint()}\0{head}\0".encode())
    digest.update(git.ref_snapshot())
    digest.update(git.object_counts())
    digest.update(b"shallow" if git.is_shallow() else b"complete")
    digest.update(b"\0" + os.environ.get("OPSGOV_RECORDING", "").encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def recall(git: Git, key: str, now: datetime.datetime) -> list[Finding] | None:
    """The findings kept under ``key``, if they are still valid at ``now``."""
    store = open_store(git, KIND, None)
    kept = store.get(key) if store is not None else None
    if kept is None:
        return None
    try:
        valid_until, findings = kept
        if valid_until is not None and now.timestamp() >= valid_until:
            return None
        return [from_tuple(f) for f in findings]
    except (TypeError, ValueError):
        return None


def remember(git: Git, key: str, findings: list[Finding], valid_until: datetime.datetime | None) -> None:
    store = open_store(git, KIND, None)
    if store is None:
        return
    store.entries = {k: v for k, v in list(store.entries.items())[-(KEEP - 1):]}  # oldest first: drop those
    store.put(key, (valid_until.timestamp() if valid_until is not None else None,
                    tuple(to_tuple(f) for f in findings)))
    store.save()
