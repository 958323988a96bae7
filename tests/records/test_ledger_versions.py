"""A range reads many versions of one append-only month file: a valid entry is validated once per run."""
from __future__ import annotations

from conftest import entry_text
from opsgov_hooks.records import ledger
from opsgov_hooks.records.ledger import parse_ledger_yaml

PATH = "ops/ledger/2026-01.yaml"


def test_an_entry_seen_valid_is_not_validated_again_and_types_still_count(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[object] = []
    real = ledger._check_entry

    def counting(doc, value):  # type: ignore[no-untyped-def]
        calls.append(value)
        return real(doc, value)

    monkeypatch.setattr(ledger, "_check_entry", counting)
    ledger._VALID.clear()
    ledger._DOCS.clear()
    one = entry_text("OPS-2026-01-27-001")
    two = entry_text("OPS-2026-01-28-001")
    entries, findings = parse_ledger_yaml(PATH, one.encode())
    assert len(entries) == 1 and findings == [] and len(calls) == 1
    entries, findings = parse_ledger_yaml(PATH, (one + two).encode())   # the next version of the file
    assert len(entries) == 2 and findings == [] and len(calls) == 2
    # the same fields with a value of another type are another entry: validated, and refused
    entries, findings = parse_ledger_yaml(PATH, entry_text("OPS-2026-01-27-001", emergency="true").encode())
    valid_bool = len(findings)
    entries, findings = parse_ledger_yaml(PATH, entry_text("OPS-2026-01-27-001", emergency="1").encode())
    assert len(calls) == 4 and valid_bool == 0 and [f.code for f in findings] and entries == []


def test_a_month_file_parsed_by_document_is_the_file_parsed_whole() -> None:
    """Same entries, lines and findings; a YAML problem, a directive or an end marker: parsed whole."""
    from opsgov_hooks.records.yamlstrict import load_documents

    ledger._DOCS.clear()
    good = entry_text("OPS-2026-01-27-001") + "# a comment\n\n" + entry_text("OPS-2026-01-28-001")
    broken = good + "---\noperation_id: [unclosed\n" + entry_text("OPS-2026-01-29-001")
    bad_field = good + entry_text("OPS-2026-01-30-001", outcome="MAYBE")
    for text in (good, broken, bad_field, "%YAML 1.2\n" + good, good + "...\n", "x: 1\n" + good):
        parsed = parse_ledger_yaml(PATH, text.encode())
        docs, findings = load_documents(PATH, text)
        entries, more = ledger._entries_from_docs(docs)
        assert [(e.fields, e.line, e.end_line, e.positions) for e in parsed[0]] == \
            [(e.fields, e.line, e.end_line, e.positions) for e in entries]
        assert [(f.code, f.line) for f in parsed[1]] == [(f.code, f.line) for f in findings + more]


def test_entries_share_their_key_strings_and_the_memo_holds_no_texts() -> None:
    """10,000 entries repeat the same keys and many values: one string object each (memory), and what this process
    remembers of a month file's documents is a digest, not the text; a changed document still misses."""
    ledger._VALID.clear()
    ledger._DOCS.clear()
    one = entry_text("OPS-2026-01-27-001")
    entries, findings = parse_ledger_yaml(PATH, (one + entry_text("OPS-2026-01-28-001")).encode())
    assert findings == [] and len(entries) == 2
    first, second = ([k for k in e.fields] for e in entries)
    assert first == second and all(a is b for a, b in zip(first, second))
    assert entries[0].fields["risk_class"] is entries[1].fields["risk_class"]   # a repeated value, one object
    assert all(isinstance(key[2], bytes) and len(key[2]) == 32 for key in ledger._DOCS)
    assert all(len(key) % 3 == 0 and not any(isinstance(part, tuple) for part in key) for key in ledger._VALID)
    edited = one.replace("OPS-2026-01-27-001", "OPS-2026-01-27-002")
    entries, findings = parse_ledger_yaml(PATH, edited.encode())
    assert [e.operation_id for e in entries] == ["OPS-2026-01-27-002"]
