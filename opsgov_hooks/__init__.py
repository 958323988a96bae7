"""opsgov: Git-native enforcement of the Ops Governor v1.0 (P4) standard and its P5 ledger."""
from __future__ import annotations

__version__ = "0.1.0"
