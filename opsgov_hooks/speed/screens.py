"""detect-secrets' screens kept between runs, in the clone's cache (see :mod:`opsgov_hooks.rules.secret_screen`).

A screen depends on the installed library and a baseline's plugin settings only, both in
its key; the rows are digest-checked like every cached row, so a damaged one is a miss and
the scan builds the screen afresh from the library.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from typing import Any

from opsgov_hooks.git.gitio import Git
from opsgov_hooks.rules.secret_screen import Spec
from opsgov_hooks.speed.kv import KeyValue, open_kv

KIND = "scan"
FORMAT = "opsgov-secret-screen-1"
# The folders whose modules decide which plugins exist and what their expressions are.
_DECIDING = ("", "plugins", "core", os.path.join("core", "plugins"))


def installation() -> str | None:
    """What identifies the installed detect-secrets without importing it: its folder, and the name,
    size and modification time of every module that decides its plugins (as Python's own bytecode
    cache tells a changed source). None when it is not installed."""
    try:
        spec = importlib.util.find_spec("detect_secrets")
    except (ImportError, ValueError):
        return None
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    if len(folders) != 1:
        return None
    parts = [folders[0]]
    for sub in _DECIDING:
        try:
            with os.scandir(os.path.join(folders[0], sub)) as entries:
                found = sorted((e.name, e.stat()) for e in entries if e.name.endswith(".py") and e.is_file())
        except OSError:
            return None
        parts += [f"{sub}/{name}:{st.st_size}:{st.st_mtime_ns}" for name, st in found]
    return "\0".join(parts)


def screen_key(installed: str | None, plugins_used: Any) -> str | None:
    """The key of the screen for an installation and a baseline's ``plugins_used`` (None: nothing kept)."""
    if installed is None:
        return None
    text = json.dumps([FORMAT, installed, plugins_used], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


class KeptScreens:
    """A :class:`~opsgov_hooks.rules.secret_screen.ScreenMemo` over the clone's ``scan`` rows."""

    def __init__(self, git: Git) -> None:
        self.git = git
        self._kv: list[KeyValue | None] = []   # empty: not opened yet (most changes have no line to scan)
        self._installed: list[str | None] = []  # empty: not looked at yet
        self._read: dict[str | None, Any] = {}   # what get() found, by key

    def _open(self) -> KeyValue | None:
        if not self._kv:
            self._kv.append(open_kv(self.git, KIND, None))
        return self._kv[0]

    def _key(self, plugins_used: Any) -> str | None:
        if not self._installed:
            self._installed.append(installation())
        return screen_key(self._installed[0], plugins_used)

    def get(self, plugins_used: Any) -> Any:
        key = self._key(plugins_used)
        if key not in self._read:   # once per run: a range asks for every commit
            kv = self._open() if key is not None else None
            self._read[key] = None if kv is None else kv.get(f"screen\0{key}")
        return self._read[key]

    def put(self, plugins_used: Any, spec: Spec) -> None:
        key = self._key(plugins_used)
        kv = self._open() if key is not None else None
        if kv is not None:
            kv.put(f"screen\0{key}", spec)
            kv.save()
            self._read[key] = spec
