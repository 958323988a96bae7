"""P5 sign-off by risk class: who may approve an operation.

Levels (configurable per class, defaults from P5 "When to Use"):
  optional     SELF is fine (LOW_RISK_CONFIG, READ_ONLY);
  recommended  SELF is a warning (SERVICE_RESTART, FILESYSTEM_WRITE);
  required     a named approver other than the requester (custom high-risk classes).
``solo_mode: true`` in the config accepts SELF everywhere: a one-person team says so
explicitly, it is never inferred.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import Finding, error, warning
from opsgov_hooks.identities import comparable, problems
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.located import at_field
from opsgov_hooks.records.store import RecordSet

SELF = "SELF"
_ANGLE = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")


def normalise_person(who: object) -> str:
    """One spelling per person: ``Alice <Alice@X.org>``, ``alice@x.org``, ``ALICE@x.org `` and
    ``alice@x.org`` with a zero-width space agree (compared in NFKC, case folded, nothing invisible)."""
    text = comparable(str(who or "")).strip()
    found = _ANGLE.search(text)
    if found:
        text = found[1]
    text = text.removeprefix("mailto:")
    return " ".join(text.split())


IDENTITY_FIELDS = ("requested_by", "approved_by")


def identities(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    """L121/L122: the people an entry names are text a person can read (identities.py)."""
    for entry in records.entries:
        for field in IDENTITY_FIELDS:
            value = entry.get(field)
            if not isinstance(value, str):
                continue
            for problem in problems(value):
                code = "L121" if "cannot see" in problem or "NFKC" in problem else "L122"
                yield error(code, f"{entry.operation_id}: {field} {problem}", *at_field(entry, field),
                            hint=f"write {field} as the plain name or e-mail address a reader sees")


def is_self(approved_by: object, requested_by: object) -> bool:
    """SELF, or the requester under another spelling."""
    approver = normalise_person(approved_by)
    return approver == SELF.lower() or approver == normalise_person(requested_by)


def effective_approver(entry: LedgerEntry) -> str:
    """Who actually approved: the requester when the entry says SELF."""
    approved = entry.get("approved_by")
    if normalise_person(approved) == SELF.lower():
        return normalise_person(entry.get("requested_by"))
    return normalise_person(approved)


def signoff(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    for entry in records.entries:
        yield from entry_signoff(entry, policy)


def entry_signoff(entry: LedgerEntry, policy: Policy) -> Iterator[Finding]:
    risk = str(entry.get("risk_class"))
    level = policy.signoff_level(risk)
    self_approved = is_self(entry.get("approved_by"), entry.get("requested_by"))
    where = at_field(entry, "approved_by")
    if self_approved and not policy.solo_mode:
        if level == "required":
            yield error("L102", f"{entry.operation_id}: {risk} requires sign-off by someone other than the "
                        f"requester, but approved_by is {entry.get('approved_by')!r}", *where,
                        hint="name the approver in approved_by (or set solo_mode: true for a one-person team)")
        elif level == "recommended":
            yield warning("L101", f"{entry.operation_id}: {risk} is self-approved ({entry.get('approved_by')!r}); "
                          "P5 recommends a second person", *where,
                          hint="have someone else approve, or set solo_mode: true for a one-person team")
    yield from _allow_list(entry, policy, self_approved, where)


def _allow_list(entry: LedgerEntry, policy: Policy, self_approved: bool,
                where: tuple[str, int, int]) -> Iterator[Finding]:
    if not policy.approvers or (self_approved and policy.solo_mode):
        return
    allowed = {normalise_person(a) for a in policy.approvers}
    approver = effective_approver(entry)
    if approver not in allowed:
        yield error("L103", f"{entry.operation_id}: {approver!r} is not on the approvers list", *where,
                    hint=f"approvers: {', '.join(policy.approvers)}")
