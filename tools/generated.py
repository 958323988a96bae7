"""Documents generated from the code (``docs/rules.md``, ``docs/configuration.md``): write, or check in CI."""
from __future__ import annotations

import sys
from pathlib import Path

from opsgov_hooks.atomicfile import write_atomic


def sync(path: Path, text: str, *, check: bool, regenerate: str) -> int:
    """With ``check``: 1 when ``path`` differs from ``text``; else write it when it differs."""
    try:
        current: str | None = path.read_text(encoding="utf-8")
    except OSError:
        current = None
    if check:
        if current != text:
            print(f"{path} is out of date; run: {regenerate}", file=sys.stderr)
            return 1
        return 0
    if current != text:
        write_atomic(str(path), text.encode("utf-8"))
        print(f"wrote {path}")
    return 0
