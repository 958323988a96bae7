"""``{"ok": bool, "findings": [...]}``: stable keys for machines (``schemas/findings.schema.json``)."""
from __future__ import annotations

import json
from collections.abc import Sequence

from opsgov_hooks.findings import Finding, has_errors


def render(findings: Sequence[Finding], judged: Sequence[str] = (), command: str = "") -> str:
    return json.dumps({"ok": not has_errors(findings), "findings": [f.as_dict() for f in findings]},
                      indent=2, ensure_ascii=False) + "\n"
