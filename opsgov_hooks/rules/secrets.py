"""Secret detection over added lines with detect-secrets, used line by line as its authors intend.

What detect-secrets' own ``scan_diff`` does, on the added lines the gate already has:
the file-name filters first (its ``is_lock_file``, ``is_non_text_file``, the baseline's
``exclude`` patterns...), then its line-based plugins and filters over the added lines
(``# pragma: allowlist secret`` and ``# pragma: allowlist nextline secret`` included).
Nothing is written to disk and no file transformer runs: nothing here parses YAML, JSON
or INI, so a YAML alias bomb is a few short lines like any other. A line longer than
``WINDOW`` characters is scanned as overlapping windows, so no line costs more than
linear time in its length.

A team's ``.secrets.baseline`` is honoured, read from the trusted revision (never from
the change): its plugins and built-in filters configure the scan, and the secrets it
lists (file, type, hashed value) are known, not new. Plugins and filters it names by a
file path (custom code) are not loaded: the gate never runs repository content.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from opsgov_hooks.findings import UsageError
from opsgov_hooks.git.patches import AddedLine
from opsgov_hooks.rules.detect_secrets_loader import load_detect_secrets
from opsgov_hooks.rules.secret_screen import ScreenMemo, describe, tests_of

BASELINE_FILE = ".secrets.baseline"
BASELINE_LIMIT = 32 * 1024 * 1024
WINDOW = 4096
OVERLAP = 256
OPSGOV_FILTER = "opsgov_hooks.rules.secret_filters.is_pinned_digest"
YAML_FILTER = "opsgov_hooks.rules.secret_filters.is_yaml_non_secret"
_NEVER = ("detect_secrets.filters.common.is_invalid_file",   # asks the disk whether the name is a file
          "detect_secrets.filters.wordlist.should_exclude_secret",  # opens a word list file named in the baseline
          "detect_secrets.filters.gibberish.should_exclude_secret")  # needs a model and an optional package

# Full or abbreviated (as people write rollback_ref: 1a2b3c4) commit ids.
_OBJECT_ID = re.compile(r"(?:[0-9a-fA-F]{7,40}|[0-9a-fA-F]{64})\Z")


class Baseline:
    """What a ``.secrets.baseline`` says: the scan's settings and the secrets already known."""

    def __init__(self, settings: dict[str, Any], known: frozenset[tuple[str, str, str]]) -> None:
        self.settings = settings
        self.known = known

    @classmethod
    def parse(cls, data: bytes | None, where: str) -> Baseline | None:
        if data is None:
            return None
        fix = f"fix {BASELINE_FILE} at {where} (regenerate it with 'detect-secrets scan > {BASELINE_FILE}') or remove it"
        if len(data) >= BASELINE_LIMIT:
            raise UsageError(f"{BASELINE_FILE} at {where} is larger than {BASELINE_LIMIT} bytes; {fix}")
        try:
            raw = json.loads(data.decode("utf-8"))
            results = raw.get("results", {})
            known = frozenset((str(path), str(item["type"]), str(item["hashed_secret"]))
                              for path, items in results.items() for item in items)
            plugins = [p for p in raw.get("plugins_used", []) if isinstance(p, dict) and "name" in p
                       and "path" not in p]
            filters = [f for f in raw.get("filters_used", []) if isinstance(f, dict)
                       and str(f.get("path", "")).startswith("detect_secrets.filters.") and f["path"] not in _NEVER]
        except (UnicodeDecodeError, ValueError, AttributeError, KeyError, TypeError) as exc:
            raise UsageError(f"{BASELINE_FILE} at {where} is not a detect-secrets baseline ({exc}); {fix}") from None
        settings: dict[str, Any] = {"filters_used": filters}
        if plugins:
            settings["plugins_used"] = plugins
        return cls(settings, known)


# A config line's unquoted value, quoted the way detect-secrets' YAML and INI transformers present it
# to the entropy detectors (which look at quoted strings), one line at a time: no structure is parsed,
# no alias expanded. Bounded quantifiers; the value runs to the end of the line or a comment.
_YAML_VALUE = re.compile(r"^(\s{0,200}(?:-\s+)?[\w.\-]{1,200}\s{0,8}:\s+)([^\s'\"#&*!|>{\[%@`][^\s#]{0,4096})(\s*(?:#.*)?)$")
_INI_VALUE = re.compile(r"^(\s{0,200}(?:export\s+)?[\w.\-]{1,200}\s{0,8}[=:]\s{0,8})([^\s'\"#;][^\s#;]{0,4096})(\s*(?:[#;].*)?)$")
_YAML_NAMES = (".yaml", ".yml")
_INI_NAMES = (".ini", ".cfg", ".conf", ".properties", ".env")


def presented(path: str, text: str) -> str:
    """The line as the detectors see it: a config file's unquoted value in quotes."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(_YAML_NAMES):
        pattern = _YAML_VALUE
    elif name.endswith(_INI_NAMES) or name.startswith(".env"):
        pattern = _INI_VALUE
    else:
        return text
    m = pattern.match(text)
    return f'{m[1]}"{m[2]}"{m[3]}' if m else text


def _windows(text: str) -> Iterator[str]:
    if len(text) <= WINDOW:
        yield text
        return
    for start in range(0, len(text), WINDOW - OVERLAP):
        yield text[start:start + WINDOW]
        if start + WINDOW >= len(text):
            return


def _by_path(lines: Sequence[AddedLine]) -> dict[str, list[AddedLine]]:
    grouped: dict[str, list[AddedLine]] = {}
    for added in lines:
        grouped.setdefault(added.path, []).append(added)
    return grouped


def _settings(baseline: Baseline | None) -> dict[str, Any]:
    load_detect_secrets()
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import Settings

    plugins: list[Any] = list(get_mapping_from_secret_type_to_class().values())  # untyped library
    every_plugin = [{"name": plugin.__name__} for plugin in plugins]
    if baseline is None:
        # detect-secrets' defaults: every plugin, its default filters.
        defaults = [{"path": path} for path in sorted(Settings().filters)]
        settings: dict[str, Any] = {"plugins_used": every_plugin, "filters_used": defaults}
    else:
        settings = {"plugins_used": every_plugin, **baseline.settings}
    settings["filters_used"] = [f for f in settings["filters_used"] if f["path"] not in _NEVER]
    settings["filters_used"] += [{"path": OPSGOV_FILTER}, {"path": YAML_FILTER},
                                 {"path": "detect_secrets.filters.common.is_baseline_file", "filename": BASELINE_FILE}]
    return settings


Hit = tuple[str, str, str]   # (type, value, hashed value)


class _Session:
    """detect-secrets configured once per process and settings (entering its settings clears its
    caches, and one of its filters then inspects the call stack), with the answers of every line
    scanned so far: generated files repeat most of their lines, commit after commit."""

    def __init__(self, key: str, settings: dict[str, Any]) -> None:
        from detect_secrets.settings import transient_settings

        self.key = key
        self.baseline: Baseline | None | bool = False   # the baseline object last asked for (False: none yet)
        self.stack = contextlib.ExitStack()
        self.stack.enter_context(transient_settings(settings)).disable_filters(*_NEVER)
        self.memo: dict[tuple[str, str], list[Hit]] = {}
        self.skipped: dict[str, bool] = {}
        from detect_secrets.settings import get_plugins

        self.spec = describe(get_plugins())
        self.screen = tests_of(self.spec)

    def could_hold_secret(self, line: str) -> bool:
        """False only when no active plugin can report anything in ``line`` (see :mod:`.secret_screen`)."""
        return self.screen is None or any(test(line) for test in self.screen)

    def skips(self, path: str) -> bool:
        """detect-secrets' file-name filters: a lock file, a binary extension, the baseline's excludes."""
        from detect_secrets.core import scan as ds_scan

        if path not in self.skipped:
            self.skipped[path] = ds_scan._is_filtered_out(required_filter_parameters=["filename"], filename=path)
        return self.skipped[path]


_SESSION: list[_Session] = []


@atexit.register
def _close() -> None:
    while _SESSION:
        _SESSION.pop().stack.close()


def _session(baseline: Baseline | None) -> _Session:
    if _SESSION and _SESSION[0].baseline is baseline:
        return _SESSION[0]   # the same run (one baseline object): its settings were built once
    settings = _settings(baseline)
    key = json.dumps(settings, sort_keys=True)
    if not (_SESSION and _SESSION[0].key == key):
        _close()
        _SESSION.append(_Session(key, settings))
    _SESSION[0].baseline = baseline
    return _SESSION[0]


def _scan_path(session: _Session, path: str, group: list[AddedLine]) -> list[tuple[AddedLine, Hit]]:
    """One file's added lines, each distinct line scanned once (and never again in this process).

    A line next to an ``allowlist nextline`` pragma is scanned in place with its true neighbour,
    after an empty separator line, so no pragma ever stands before a line it does not precede.
    """
    from detect_secrets.core import scan as ds_scan

    pieces: list[tuple[list[AddedLine], str, bool]] = []   # (lines it stands for, text, memoisable)
    index: dict[str, int] = {}
    out: list[tuple[AddedLine, Hit]] = []
    previous = ""
    for added in group:
        for window in _windows(presented(path, added.text)):
            pragma, follows = "nextline" in window.lower(), "nextline" in previous.lower()
            previous = window
            if pragma or follows:
                if not follows:
                    pieces.append(([], "", False))   # a pragma starts: nothing unrelated stands before it
                pieces.append(([added], window, False))
                continue
            known = session.memo.get((path, window))
            if known is None and not session.could_hold_secret(window):
                session.memo[(path, window)] = known = []
            if known is not None:
                out += [(added, hit) for hit in known]
            elif window in index:
                pieces[index[window]][0].append(added)
            else:
                index[window] = len(pieces)
                pieces.append(([added], window, True))
    if not pieces:
        return out
    found: dict[int, list[Hit]] = {}
    numbered = [(number, text) for number, (_owners, text, _memo) in enumerate(pieces, 1)]
    for secret in ds_scan._process_line_based_plugins(lines=numbered, filename=path):
        found.setdefault(secret.line_number - 1, []).append(
            (str(secret.type), str(secret.secret_value or ""), str(secret.secret_hash)))
    for i, (owners, text, memoisable) in enumerate(pieces):
        hits = found.get(i, [])
        if memoisable:
            session.memo[(path, text)] = hits
        out += [(added, hit) for added in owners for hit in hits]
    return out


def _scan(groups: dict[str, list[AddedLine]], baseline: Baseline | None) -> list[tuple[AddedLine, str, str]]:
    session = _session(baseline)
    hits: list[tuple[AddedLine, str, str]] = []
    for path, group in sorted(groups.items()):
        if session.skips(path):
            continue
        for added, (kind, value, hashed) in _scan_path(session, path, group):
            if baseline is not None and (path, kind, hashed) in baseline.known:
                continue  # already in the team's baseline
            hits.append((added, kind, value))
    return hits


class _Prescreen:
    """A kept screen's tests, with the answer for each window it has seen (generated files repeat
    their lines commit after commit)."""

    def __init__(self, tests: list[Callable[[str], bool]] | None) -> None:
        self.tests = tests
        self.seen: dict[str, bool] = {}

    def screened_out(self, groups: dict[str, list[AddedLine]]) -> bool:
        """True when no added line could hold anything an active plugin reports (nothing to scan).
        A line near an ``allowlist nextline`` pragma is scanned with its neighbour: never screened out."""
        if self.tests is None:
            return False
        for path, group in groups.items():
            for added in group:
                for window in _windows(presented(path, added.text)):
                    passes = self.seen.get(window)
                    if passes is None:
                        passes = self.seen[window] = "nextline" in window.lower() or any(
                            test(window) for test in self.tests)
                    if passes:
                        return False
        return True


@functools.lru_cache(maxsize=4)
def _prescreen(spec: Any) -> _Prescreen:
    """The tests of a kept description, built once per process (raises as :func:`tests_of` does)."""
    return _Prescreen(tests_of(spec))


def _kept_prescreen(screens: ScreenMemo, plugins_used: Any) -> _Prescreen | None:
    """The screen kept for these plugins; None when none is kept or it does not build."""
    spec = screens.get(plugins_used)
    if spec is None:
        return None
    try:
        return _prescreen(spec)
    except (TypeError, ValueError, IndexError, re.error):
        return None   # not what describe() writes (or not hashable): built afresh from the library


def find_secrets(lines: Sequence[AddedLine], existing_objects: Callable[[Iterable[str]], set[str]],
                 baseline: Callable[[], Baseline | None] = lambda: None,
                 screens: ScreenMemo | None = None) -> list[tuple[AddedLine, str]]:
    """(line, kind) for each added line detect-secrets flags.

    A hexadecimal string that names a commit of this repository, in full or
    abbreviated (a ``rollback_ref``), is an id, not a secret, and is not reported.
    detect-secrets (and what it imports) loads only here, when there are lines to scan,
    and not at all when ``screens`` keeps this installation's screen and no added line
    passes it (see :mod:`.secret_screen`).
    """
    if not lines:
        return []
    known = baseline()
    groups = _by_path(lines)
    plugins_used = None if known is None else known.settings.get("plugins_used")
    keep = False
    if screens is not None and not (_SESSION and _SESSION[0].baseline is known):
        # detect-secrets is not loaded yet for this baseline: a kept screen may spare loading it.
        prescreen = _kept_prescreen(screens, plugins_used)
        if prescreen is not None and prescreen.screened_out(groups):
            return []
        keep = prescreen is None
    try:
        hits = _scan(groups, known)
        if keep and screens is not None:
            screens.put(plugins_used, _session(known).spec)
    except UsageError:
        raise
    except Exception as exc:  # a scanner that fails must fail the gate, never pass it or crash it
        raise UsageError(f"secret scanning failed ({type(exc).__name__}: {exc}); the change cannot be judged: "
                         "check the detect-secrets installation ('pip install detect-secrets')") from None
    hex_ids = {value for _line, kind, value in hits if kind == "Hex High Entropy String" and _OBJECT_ID.match(value)}
    objects = existing_objects(hex_ids) if hex_ids else set()
    seen: dict[tuple[str, int, str], None] = {}
    for added, kind, value in hits:
        if not (kind == "Hex High Entropy String" and value in objects):
            seen[(added.path, added.line, kind)] = None
    by_key = {(a.path, a.line): a for a in lines}
    return [(by_key[(path, line)], kind) for path, line, kind in seen]
