"""What each operation verified: the verification commands of its Execution log and their exit status.

``opsgov run`` writes each verification as ``$ command`` followed by its outcome line
(``exit 0 in 0.01s``, ``killed by SIGTERM ...``); a hand-written log without such a line
says "not recorded".
"""
from __future__ import annotations

from opsgov_hooks.audit.model import Evidence
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.rules.execution import log_of

_OUTCOMES = ("exit ", "killed by ", "could not start", "TIMED OUT", "INTERRUPTED")


def evidence_of(declaration: Declaration | None) -> tuple[Evidence, ...]:
    if declaration is None:
        return ()
    log = log_of(declaration.body, declaration.body_line)
    found = []
    for step in log.steps if log is not None else ():
        field = step.fields.get("Verification")
        lines = list(field.lines) if field is not None else []
        for i, text in enumerate(lines):
            if not text.startswith("$ "):
                continue
            after = lines[i + 1].strip() if i + 1 < len(lines) else ""
            status = after.split(" in ", 1)[0] if after.startswith(_OUTCOMES) else "not recorded"
            found.append(Evidence(step.number, text[2:].strip(), status, step.status or ""))
    return tuple(found)
