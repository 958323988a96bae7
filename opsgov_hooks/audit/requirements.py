"""Which audit requirement each finding bears on.

An auditor asks for change-management evidence under three texts; this table says
which part of each one a finding code speaks to. It maps *areas* of opsgov's
checks (by code letter, with a few single-code exceptions) to the parts of the
requirements they give evidence for. It claims no compliance: a finding under a
requirement is a gap in the evidence for it, no more. ``docs/report.md`` prints
the same table (a test keeps them in agreement).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class Requirement:
    id: str
    framework: str
    control: str
    title: str
    text: str


@dataclasses.dataclass(frozen=True)
class Area:
    id: str
    title: str
    # requirement id -> the part of it this area gives evidence for
    bears_on: tuple[tuple[str, str], ...]


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("SOC2-CC8.1", "SOC 2 (2017 Trust Services Criteria)", "CC8.1", "Change management",
                "The entity authorizes, designs, develops or acquires, configures, documents, tests, approves, "
                "and implements changes to infrastructure, data, software, and procedures to meet its objectives."),
    Requirement("ISO27001-A.8.32", "ISO/IEC 27001:2022 Annex A", "A.8.32", "Change management",
                "Changes to information processing facilities and information systems shall be subject to "
                "change management procedures."),
    Requirement("NIST-CM-3", "NIST SP 800-53 Rev. 5", "CM-3", "Configuration change control",
                "Determine the types of changes that are configuration-controlled; review and approve them with "
                "explicit consideration of security impact; document change decisions; implement approved "
                "changes; retain records; monitor and review change activities."),
)

_SOC = "SOC2-CC8.1"
_ISO = "ISO27001-A.8.32"
_NIST = "NIST-CM-3"

AREAS: dict[str, Area] = {a.id: a for a in (
    Area("files", "Readable, well-formed records (F)",
         ((_SOC, "documents"), (_ISO, "records of the procedure"), (_NIST, "e. retain records"))),
    Area("declaration", "Operation declared before the change (D)",
         ((_SOC, "authorizes, designs, documents"), (_ISO, "planned and documented change"),
          (_NIST, "b. review with security impact (blast radius, rollback)"))),
    Area("ledger", "Sign-off ledger: requester, approver, timestamps, outcome (L)",
         ((_SOC, "approves"), (_ISO, "authorisation of the change"),
          (_NIST, "b. approve; c. document change decisions"))),
    Area("configuration", "What is configuration-controlled (C)",
         ((_ISO, "scope of the procedure"), (_NIST, "a. types of configuration-controlled changes"))),
    Area("scope", "Change inside its declared scope and the NOT ALLOWED list (G)",
         ((_SOC, "implements (only) approved changes"), (_ISO, "controlled implementation"),
          (_NIST, "d. implement approved changes"))),
    Area("history", "Append-only ledger and rollback references (H)",
         ((_SOC, "documents"), (_ISO, "fall-back procedures"), (_NIST, "e. retain records"))),
    Area("tags", "Operations closed by annotated, signed ops-* tags (T)",
         ((_SOC, "implements"), (_NIST, "e. retain records; f. monitor and review"))),
    Area("execution", "Steps verified one at a time (X)",
         ((_SOC, "tests"), (_ISO, "testing of the change"), (_NIST, "CM-3(2) test and validate changes"))),
    Area("reporting", "Final report of each operation (R)",
         ((_SOC, "documents"), (_NIST, "c. document change decisions"))),
    Area("traceability", "Every governed commit traced to an operation (A001)",
         ((_SOC, "implements (only) approved changes"), (_ISO, "changes subject to the procedure"),
          (_NIST, "d. implement approved changes; f. monitor and review"))),
    Area("emergency", "Emergency changes approved in time (A002, L107, L108)",
         ((_SOC, "approves"), (_ISO, "emergency changes"), (_NIST, "b. approve"))),
)}

_BY_LETTER = {"F": "files", "D": "declaration", "L": "ledger", "C": "configuration", "G": "scope",
              "H": "history", "T": "tags", "X": "execution", "R": "reporting", "P": "ledger"}
# The ledger's emergency-window rules (L107 overdue, L108 pending) are the emergency area, not sign-off.
_BY_CODE = {"A001": "traceability", "A002": "emergency", "A003": "tags", "A004": "tags", "A005": "tags",
            "L107": "emergency", "L108": "emergency"}


def area_of(code: str) -> Area:
    """The area of a finding code; an unknown code counts as a records problem rather than vanish."""
    return AREAS[_BY_CODE.get(code) or _BY_LETTER.get(code[:1], "files")]


def requirement(requirement_id: str) -> Requirement:
    return next(r for r in REQUIREMENTS if r.id == requirement_id)


def markdown_table() -> str:
    """The mapping as a Markdown table (for docs/report.md)."""
    lines = ["| Area | Codes | " + " | ".join(f"{r.control}" for r in REQUIREMENTS) + " |",
             "|---|---|" + "---|" * len(REQUIREMENTS)]
    codes = {area: sorted([f"{letter}xxx" for letter, a in _BY_LETTER.items() if a == area]
                          + [c for c, a in _BY_CODE.items() if a == area]) for area in AREAS}
    for area in AREAS.values():
        parts = dict(area.bears_on)
        cells = [parts.get(r.id, "") for r in REQUIREMENTS]
        lines.append(f"| {area.title} | {', '.join(codes[area.id])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@dataclasses.dataclass(frozen=True)
class AreaGroup:
    area: Area
    aspect: str
    findings: tuple[int, ...]   # indexes into the report's findings


@dataclasses.dataclass(frozen=True)
class RequirementGroup:
    requirement: Requirement
    areas: tuple[AreaGroup, ...]

    @property
    def count(self) -> int:
        return len({i for a in self.areas for i in a.findings})


def group_findings(codes: Sequence[str]) -> list[RequirementGroup]:
    """For each requirement, the areas bearing on it and the findings (by index) in each area."""
    by_area: dict[str, list[int]] = {}
    for index, code in enumerate(codes):
        by_area.setdefault(area_of(code).id, []).append(index)
    groups = []
    for req in REQUIREMENTS:
        areas = tuple(AreaGroup(area, dict(area.bears_on)[req.id], tuple(by_area.get(area.id, ())))
                      for area in AREAS.values() if req.id in dict(area.bears_on))
        groups.append(RequirementGroup(req, areas))
    return groups


def requirement_ids(code: str) -> list[str]:
    return [req_id for req_id, _aspect in area_of(code).bears_on]
