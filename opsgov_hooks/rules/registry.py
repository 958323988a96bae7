"""Every rule, declared once: what it reads, the codes it may emit, whether it reads the clock.

The rules are plain functions; this table is the only place that says which run where.
The runner (:mod:`opsgov_hooks.check.runner`) reads it and alone decides how they run
(per operation, remembered between runs, on a second core, after their facts are prepared).

How to add a rule:

1. Write it as a function in the module of its family under ``rules/``, taking what its
   :class:`Reads` kind gives (see the kinds below) and yielding findings. The table names it as
   ``"module:function"`` (a module of ``opsgov_hooks.rules``): a family is imported only when one
   of its rules first runs, so a commit the memo answers never loads the execution-log parsers.
2. Add its codes to ``opsgov_hooks/codes.py`` (``python -m tools.docgen`` regenerates docs/rules.md).
3. Append one :class:`Rule` line to :data:`RULES` in the block of its family, naming its
   codes; ``clock=True`` if it reads the current time (it is then never remembered);
   ``facts=`` if it needs facts read from git before any rule runs (a rule never reads git:
   :mod:`opsgov_hooks.check.preparers` reads each kind of :class:`Facts` in one batch).
4. Add a failing and a passing example under ``tests/examples/<CODE>/``.

A code a rule declares must be in ``codes.py`` (checked when this module loads); every code
in ``codes.py`` must have an owner here (:data:`RULES` or :data:`OTHER_OWNERS`, checked by
tests/rules/test_registry.py); and in the test suite the runner refuses a finding whose code
its rule did not declare.
"""
from __future__ import annotations

import dataclasses
import enum
import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence

from opsgov_hooks.codes import CODES
from opsgov_hooks.findings import Finding
from opsgov_hooks.rules import gate   # its inputs' types are every check's: loaded in any case


class Reads(enum.Enum):
    """What a rule is given, and so where it can run."""

    RECORD_SET = "every record at once"        # (RecordSet, Policy): duplicates are seen only there
    OPERATION = "one operation's records"      # (RecordSet, Policy), may be run one operation at a time
    CHANGE = "one change"                      # gate.GateInput
    PATHS = "a change's touched paths"         # gate.TouchedPaths (also a change that belongs to no operation)
    SCOPE = "declarations against approved ones"  # (proposed RecordSet, {id: approved Declaration})
    ADDED_LINES = "a change's added lines"     # gate.AddedLines
    TREE = "every governed file of a tree"     # (governed paths, RecordSet): check --all
    HISTORY = "git history"                    # CheckContext, after every preparer ran


class Facts(enum.Enum):
    """What a history rule needs read from git first (into its CheckContext)."""

    REFS = "rollback references resolved"            # ctx.refs, ctx.shallow, ctx.existing_paths
    TAGS = "each tag's sealed entry and signature"   # ctx.tag_facts
    APPROVALS = "signed approvals read and verified"  # ctx.approval_facts


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    reads: Reads
    codes: frozenset[str]
    where: str                          # "module:function", the module under opsgov_hooks.rules
    clock: bool = False                 # reads the current time: its findings are never remembered
    facts: Facts | None = None          # HISTORY only: what must be read from git before it runs

    @property
    def check(self) -> Callable[..., Iterable[Finding]]:
        """The rule's function, its module imported on first use."""
        found = _RESOLVED.get(self.where)
        if found is None:
            module, function = self.where.split(":")
            found = _RESOLVED[self.where] = getattr(importlib.import_module(f"opsgov_hooks.rules.{module}"), function)
        return found


_RESOLVED: dict[str, Callable[..., Iterable[Finding]]] = {}


def _rule(name: str, reads: Reads, codes: str, where: str, *, clock: bool = False,
          facts: Facts | None = None) -> Rule:
    return Rule(name, reads, frozenset(codes.split()), where, clock, facts)


# Adapters for the gate rules whose signature predates the registry (kept, so callers stay as they are).
def _trailers(gi: gate.GateInput) -> Iterator[Finding]:
    return gate.trailers(gi, gi.message_where, dict(gi.trailer_lines))


def _forbidden_paths(touched: gate.TouchedPaths) -> Iterator[Finding]:
    return gate.forbidden_paths(touched.view, touched.policy, touched.only)


def _forbidden_content(added: gate.AddedLines) -> Iterator[Finding]:
    return gate.forbidden_content(added.lines, added.policy, added.where, added.only)


# Rules that read YAML themselves emit the strict loader's codes for what it refuses.
_YAML = "F005 F006 F007 F008 F009 F011"
# ... and reading a ledger entry (an ops-* tag's message), the entry parser's too.
_ENTRY = f"{_YAML} F004 L001 L002 L003 L004 L009"

R, O, C, P, A, T, H = (Reads.RECORD_SET, Reads.OPERATION, Reads.CHANGE, Reads.PATHS, Reads.ADDED_LINES, Reads.TREE,
                       Reads.HISTORY)
S = Reads.SCOPE

# The order is the order findings are reported in, within a kind.
RULES: tuple[Rule, ...] = (
    # -- records: the whole set (duplicates), then one operation at a time ---------------------------
    _rule("duplicate_declarations", R, "D006", "records:duplicate_declarations"),
    _rule("duplicate_entries", R, "L005", "records:duplicate_entries"),
    _rule("ledger_matches_declaration", O, "L006 L008", "records:ledger_matches_declaration"),
    # lifecycle: sign-off and timestamps
    _rule("signoff", O, "L101 L102 L103", "signoff:signoff"),
    _rule("identities", O, "L121 L122", "signoff:identities"),
    _rule("timestamps", O, "L104 L105 L106 L107 L108 L109", "timestamps:timestamps", clock=True),
    # execution: execution log and report
    _rule("log_present", O, "X001", "execution:log_present"),
    _rule("log_structure", O, "X002 X003 X004 X005 X006 X007", "execution:log_structure"),
    _rule("never_fix_forward", O, "X008 X009", "execution:never_fix_forward"),
    _rule("log_scope", O, "X010 X011 X021", "execution:log_scope"),
    _rule("verification_gates", O, "X012", "execution:verification_gates"),
    _rule("report_sections", O, "R001 R002 R003", "report_sections:report_sections"),
    _rule("signoff_agrees", O, f"R004 R005 {_YAML}", "report_sections:signoff_agrees"),

    # -- the gate: one change, its added lines, and --all's coverage ----------------------------------
    _rule("unassociated", C, "G001 G005", "gate:unassociated"),
    _rule("declarations", C, "G002", "gate:declarations"),
    _rule("ledger_entries", C, "G003", "gate:ledger_entries"),
    _rule("scope", C, "G004 G005", "gate:scope"),
    _rule("trailers", C, "G009", "registry:_trailers"),
    _rule("forbidden_paths", P, "G006", "registry:_forbidden_paths"),
    _rule("forbidden_content", A, "G007", "registry:_forbidden_content"),
    _rule("secrets", A, "G008", "gate:secrets"),
    _rule("uncovered", T, "G001", "gate:uncovered"),
    _rule("frozen_scope", S, "G021", "gate:frozen_scope"),

    # -- history: append-only ledger, rollback references, tag consistency -----------------------------
    _rule("append_only", H, "H001 H002 H003 H004 H005", "history:append_only"),
    _rule("rollback_refs", H, "H006 H007 H008 H009 H010 H011 H012", "rollback_refs:rollback_refs",
          facts=Facts.REFS),
    _rule("tag_consistency", H, f"T001 T003 T004 T005 T006 T007 T008 H005 {_ENTRY}", "tags:tag_consistency",
          facts=Facts.TAGS),
    # signed approvals: read, verify and walk the graph for the judged operations
    _rule("signed_approvals", H, "P001 P002 P003 P004 P005 P006 P007 P008 P009", "approvals:signed_approvals",
          facts=Facts.APPROVALS),
)

# Codes emitted outside the rules: while records load (parsers), by the configuration
# loader, by 'opsgov tag' and by 'opsgov report'. With RULES they own every code in codes.py.
OTHER_OWNERS: dict[str, frozenset[str]] = {
    "records: the strict YAML loader and the record parsers":
        frozenset("F001 F002 F003 F004 F005 F006 F007 F008 F009 F010 F011 F012 F013 F014 "
                  "D001 D002 D003 D004 D005 D007 L001 L002 L003 L004 L007 L009".split()),
    "policy: the configuration loader": frozenset({"C001", "C002"}),
    # A rollback may only revert (G022): asks git, per path, what the operation's first change
    # replaced, so it runs in the gate (check.judge.Judge.reverts), not as a pure rule.
    "check.judge: the rollback-is-a-revert check": frozenset({"G022"}),
    "lifecycle.tagging: opsgov tag": frozenset({"T007", "T009", "T010"}),
    "check.pushed_tags: a push that moves an ops tag (pre-receive)": frozenset({"T009"}),
    "audit: opsgov report": frozenset({"A001", "A002", "A003", "A004", "A005"}),
}


def rules_reading(*kinds: Reads) -> list[Rule]:
    return [r for r in RULES if r.reads in kinds]


def owners() -> dict[str, list[str]]:
    """Code -> the rules (or other emitters) that may emit it."""
    found: dict[str, list[str]] = {}
    for rule in RULES:
        for code in rule.codes:
            found.setdefault(code, []).append(rule.name)
    for owner, codes in OTHER_OWNERS.items():
        for code in codes:
            found.setdefault(code, []).append(owner)
    return found


def _unknown_codes(declared: Sequence[str]) -> list[str]:
    return sorted(set(declared) - CODES.keys())


# A rule cannot declare a code codes.py does not explain: opsgov refuses to load, so no test passes.
_UNKNOWN = _unknown_codes(list(owners()))
if _UNKNOWN:
    raise ImportError(f"rules/registry.py declares codes missing from codes.py: {', '.join(_UNKNOWN)}")
