"""The name ``gate/run.py`` imports the no-op fast path by; it lives in :mod:`opsgov_hooks.fastpath`."""
from __future__ import annotations

from opsgov_hooks.fastpath import nothing_to_judge

__all__ = ["nothing_to_judge"]
