"""Where the package's data lives, importable without loading anything heavy (the cache
fingerprint asks for it on every governed run, before any schema is needed)."""
from __future__ import annotations

from pathlib import Path


def schema_dir() -> Path:
    """Inside a wheel the schemas sit in the package; in a source checkout, beside it."""
    here = Path(__file__).resolve().parent
    packaged = here / "_schemas"
    return packaged if packaged.is_dir() else here.parent / "schemas"
