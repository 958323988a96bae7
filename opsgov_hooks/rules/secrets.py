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

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from opsgov_hooks.findings import UsageError
from opsgov_hooks.git.patches import AddedLine

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
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.settings import Settings

    every_plugin = [{"name": cls.__name__} for cls in get_mapping_from_secret_type_to_class().values()]
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


def _scan(groups: dict[str, list[AddedLine]], baseline: Baseline | None) -> list[tuple[AddedLine, str, str]]:
    from detect_secrets.core import scan as ds_scan
    from detect_secrets.settings import transient_settings

    hits: list[tuple[AddedLine, str, str]] = []
    with transient_settings(_settings(baseline)) as settings:
        settings.disable_filters(*_NEVER)
        for path, group in sorted(groups.items()):
            if ds_scan._is_filtered_out(required_filter_parameters=["filename"], filename=path):
                continue  # a lock file, a binary extension, the baseline's excluded files
            pieces = [(added, window) for added in group for window in _windows(presented(path, added.text))]
            numbered = [(number, window) for number, (_added, window) in enumerate(pieces, 1)]
            for secret in ds_scan._process_line_based_plugins(lines=numbered, filename=path):
                if baseline is not None and (path, secret.type, secret.secret_hash) in baseline.known:
                    continue  # already in the team's baseline
                if 1 <= secret.line_number <= len(pieces):
                    hits.append((pieces[secret.line_number - 1][0], str(secret.type), str(secret.secret_value or "")))
    return hits


def find_secrets(lines: Sequence[AddedLine], existing_objects: Callable[[Iterable[str]], set[str]],
                 baseline: Callable[[], Baseline | None] = lambda: None) -> list[tuple[AddedLine, str]]:
    """(line, kind) for each added line detect-secrets flags.

    A hexadecimal string that names a commit of this repository, in full or
    abbreviated (a ``rollback_ref``), is an id, not a secret, and is not reported.
    detect-secrets (and what it imports) loads only here, when there are lines to scan.
    """
    if not lines:
        return []
    known = baseline()
    try:
        hits = _scan(_by_path(lines), known)
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
