"""Where the package's data lives, importable without loading anything heavy (the cache
fingerprint asks for it on every governed run, before any schema is needed)."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))


def schema_folder() -> str:
    """Inside a wheel the schemas sit in the package; in a source checkout, beside it.

    A plain string: the governed commit asks for it, and ``pathlib`` (with ``urllib.parse``
    and ``ipaddress``, which it imports) would cost it about 2.5 ms."""
    packaged = os.path.join(PACKAGE_DIR, "_schemas")
    return packaged if os.path.isdir(packaged) else os.path.join(os.path.dirname(PACKAGE_DIR), "schemas")


def schema_dir() -> Path:
    """:func:`schema_folder` as a path."""
    from pathlib import Path

    return Path(schema_folder())
