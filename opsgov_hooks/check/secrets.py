"""Secret detection over added lines with detect-secrets (its default plugins and filters).

detect-secrets' public entry point scans files, so the added lines of each touched
file are written, in order, to a temporary file of the same name; each hit maps
back to its line in the change. Only added lines are scanned: a secret already in
history is not this change's doing (and not a reason to block every later change).
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence

from opsgov_hooks.findings import UsageError
from opsgov_hooks.check.patches import AddedLine

# Full or abbreviated (as people write rollback_ref: 1a2b3c4) commit ids.
_OBJECT_ID = re.compile(r"(?:[0-9a-fA-F]{7,40}|[0-9a-fA-F]{64})\Z")


def _by_path(lines: Sequence[AddedLine]) -> dict[str, list[AddedLine]]:
    grouped: dict[str, list[AddedLine]] = {}
    for added in lines:
        grouped.setdefault(added.path, []).append(added)
    return grouped


def _scan_file(directory: str, index: int, path: str, lines: list[AddedLine]) -> list[tuple[AddedLine, str, str]]:
    from detect_secrets.core.scan import scan_file

    folder = os.path.join(directory, str(index))
    os.mkdir(folder)
    name = os.path.basename(path).replace("\0", "") or "file"
    target = os.path.join(folder, name)
    with open(target, "w", encoding="utf-8", errors="surrogateescape", newline="\n") as f:
        f.write("".join(added.text + "\n" for added in lines))
    hits = []
    for secret in scan_file(target):
        if 1 <= secret.line_number <= len(lines):
            hits.append((lines[secret.line_number - 1], str(secret.type), str(secret.secret_value or "")))
    return hits


def find_secrets(lines: Sequence[AddedLine],
                 existing_objects: Callable[[Iterable[str]], set[str]]) -> list[tuple[AddedLine, str]]:
    """(line, kind) for each added line detect-secrets flags.

    A hexadecimal string that names a commit of this repository, in full or
    abbreviated (a ``rollback_ref``), is an id, not a secret, and is not reported.
    """
    if not lines:
        return []
    hits: list[tuple[AddedLine, str, str]] = []
    try:
        from detect_secrets.settings import default_settings

        with default_settings(), tempfile.TemporaryDirectory(prefix="opsgov-secrets-") as directory:
            for index, (path, group) in enumerate(sorted(_by_path(lines).items())):
                hits += _scan_file(directory, index, path, group)
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
