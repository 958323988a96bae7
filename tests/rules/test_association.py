"""Association and the diff parsers as pure functions."""
from __future__ import annotations

from opsgov_hooks.policy.config import default_policy
from opsgov_hooks.rules.association import (ChangeView, associate, changed_entry_ids, operation_of_record,
                                           own_record_files)
from opsgov_hooks.git.patches import AddedLine, added_lines, added_lines_by_commit, unquote_path
from opsgov_hooks.git.diffs import parse_commit_diffs, parse_raw
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ledger import LedgerEntry

POLICY = default_policy()


def decl(op_id: str, *allowed: str) -> Declaration:
    return Declaration(op_id, "n", "o", "LOW_RISK_CONFIG", "b", "r", allowed, (), f"ops/operations/{op_id}.md")


DECLS = {"OPS-2026-01-27-001": decl("OPS-2026-01-27-001", "ops/monitoring/**"),
         "OPS-2026-01-27-002": decl("OPS-2026-01-27-002", "ops/nginx/**", "ops/monitoring/alerts.yml")}
KNOWN = set(DECLS)


def test_records_association_wins_over_open_scope() -> None:
    view = ChangeView(("ops/monitoring/a.yml",), ("ops/monitoring/a.yml",), record_ids=("OPS-2026-01-27-002",))
    result = associate(view, DECLS, KNOWN)
    assert (result.ops, result.explicit) == (("OPS-2026-01-27-002",), True)


def test_trailers_name_only_known_operations() -> None:
    view = ChangeView(("x",), (), trailers=("OPS-2026-01-27-001", "OPS-2030-01-01-001", "junk"))
    result = associate(view, DECLS, KNOWN)
    assert (result.ops, result.explicit) == (("OPS-2026-01-27-001",), True)


def test_open_scope_association_collects_every_covering_open_operation() -> None:
    view = ChangeView(("ops/monitoring/alerts.yml", "src/a.py"), ("ops/monitoring/alerts.yml",))
    result = associate(view, DECLS, KNOWN)
    assert (result.ops, result.explicit) == (("OPS-2026-01-27-001", "OPS-2026-01-27-002"), False)
    closed = ChangeView(view.paths, view.governed, closed=frozenset({"OPS-2026-01-27-001"}))
    assert associate(closed, DECLS, KNOWN).ops == ("OPS-2026-01-27-002",)


def test_no_association() -> None:
    view = ChangeView(("docs/governance/x.md",), ("docs/governance/x.md",))
    assert associate(view, DECLS, KNOWN).ops == ()


def test_operation_of_record() -> None:
    assert operation_of_record("ops/operations/OPS-2026-01-27-001.md", POLICY) == "OPS-2026-01-27-001"
    assert operation_of_record("ops/operations/README.md", POLICY) is None
    assert operation_of_record("ops/operations/sub/OPS-2026-01-27-001.md", POLICY) == "OPS-2026-01-27-001"
    assert operation_of_record("ops/other/OPS-2026-01-27-001.md", POLICY) is None


def test_own_record_files() -> None:
    assert own_record_files("OPS-2026-01-27-001", POLICY) == {"ops/operations/OPS-2026-01-27-001.md",
                                                               "ops/approvals/OPS-2026-01-27-001.yaml",
                                                               "ops/ledger/2026-01.yaml"}


def test_changed_entry_ids() -> None:
    def entry(op_id: str, outcome: str) -> LedgerEntry:
        return LedgerEntry({"operation_id": op_id, "outcome": outcome}, "ops/ledger/2026-01.yaml", 1, 2)

    old = [entry("OPS-2026-01-27-001", "SUCCESS"), entry("OPS-2026-01-27-002", "SUCCESS")]
    new = [entry("OPS-2026-01-27-001", "SUCCESS"), entry("OPS-2026-01-27-002", "ROLLBACK"),
           entry("OPS-2026-01-27-003", "SUCCESS")]
    assert changed_entry_ids(old, new) == {"OPS-2026-01-27-002", "OPS-2026-01-27-003"}


def test_unquote_path() -> None:
    assert unquote_path(b'"b/ops/n\\303\\266n\\nx\\"q\\\\"') == 'b/ops/nön\nx"q\\'
    assert unquote_path(b"b/plain path") == "b/plain path"


def test_added_lines_counts_hunks_and_ignores_lookalike_headers() -> None:
    patch = (b"diff --git a/ops/a b/ops/a\nindex 1..2 100644\n--- a/ops/a\n+++ b/ops/a\n"
             b"@@ -1,2 +1,3 @@\n-old\n-older\n++++ b/ops/fake\n+diff --git a/x b/x\n+\x01deadbeef\n"
             b"\\ No newline at end of file\n"
             b"diff --git a/ops/b c b/ops/b c\nnew file mode 100644\n--- /dev/null\n+++ b/ops/b c\t\n@@ -0,0 +7 @@\n+x\n"
             b"diff --git a/bin b/bin\nBinary files a/bin and b/bin differ\n")
    assert added_lines(patch) == [AddedLine("ops/a", 1, "+++ b/ops/fake"), AddedLine("ops/a", 2, "diff --git a/x b/x"),
                                  AddedLine("ops/a", 3, "\x01deadbeef"), AddedLine("ops/b c", 7, "x")]


def test_added_lines_by_commit() -> None:
    patch = (b"\x01" + b"a" * 40 + b"\n\ndiff --git a/f b/f\n--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+one\n"
             b"\x01" + b"b" * 40 + b"\n")
    assert added_lines_by_commit(patch) == {"a" * 40: [AddedLine("f", 1, "one")], "b" * 40: []}


def test_parse_raw_keeps_any_byte_of_a_path() -> None:
    meta = b":100644 100644 " + b"1" * 40 + b" " + b"2" * 40
    out = meta + b" M\0:odd\nname\0" + meta + b" R090\0old\0\x01new\0"
    entries = parse_raw(out)
    assert [(e.status, e.path, e.old_path) for e in entries] == [("M", ":odd\nname", None), ("R", "\x01new", "old")]


def test_parse_commit_diffs() -> None:
    meta = b":000000 100644 " + b"0" * 40 + b" " + b"2" * 40 + b" A\0"
    out = (b"\x01" + b"c" * 40 + b"\x02OPS-2026-01-27-001\x1fOPS-2026-01-27-002\x02\0\n" + meta + b"f\0"
           + b"\x01" + b"d" * 40 + b"\x02\x02\0")
    diffs = parse_commit_diffs(out)
    assert [(d.sha[:1], d.trailers, [e.path for e in d.entries]) for d in diffs] == [
        ("c", ("OPS-2026-01-27-001", "OPS-2026-01-27-002"), ["f"]), ("d", (), [])]


def test_covered_by_any_is_some_list_matches_even_with_negations() -> None:
    from opsgov_hooks.policy.globs import covered_by_any

    lists = [["ops/a/**"], ["ops/b/**", "!ops/b/secret.yml"], ["ops/c/x.yml"], []]
    paths = ["ops/a/1", "ops/b/2", "ops/b/secret.yml", "ops/c/x.yml", "ops/c/y.yml", "ops/d/z"]
    assert covered_by_any(paths, lists) == {"ops/a/1", "ops/b/2", "ops/c/x.yml"}
    # A path one list negates is still covered when another list matches it.
    assert covered_by_any(["ops/b/secret.yml"], lists + [["ops/**"]]) == {"ops/b/secret.yml"}
