"""The strict loader's fast path gives exactly what its event loop gives, or steps aside.

``yamlstrict._load_plain`` reads the common record shape (``key: value`` lines, lists under a
key) with one regex pass; ``yamlstrict._load_events`` is the reference over libyaml's events.
Every document here goes through both: where the fast path answers, its documents must equal
the event loop's in data, types, line spans, positions and node tree, and the event loop must
have had nothing to report. Hostile and unusual input must be refused by the fast path.
"""
from __future__ import annotations

import itertools
import random
import re
from typing import Any

import pytest
import yaml

from conftest import declaration_text, entry_text
from opsgov_hooks.records import yamlstrict
from opsgov_hooks.ledger_io.render import render_entry

TRICKY = [
    # plain records, as opsgov and people write them
    "a: 1\n", "a: 1", "---\na: 1\n", "# head\n---\na: x\nb:\n\n# c\n---\nc: 'q'\n", "\n\n\na: 1\n\n\n",
    "a:\n  - x\n  - 'y'\n  - \"z\"\nb: 2\n", "a:\n\n  - x\n# c\n  - y\n\nb:\n", "a:\n - x\n", "a:\n    - x\n",
    "a: 'it''s'\nb: ''\nc: \"\"\nd: ''''\ne: 'a: b # c'\n", "a: x#y\nb: http://h:1/p\nc: 12:30\nd: a, b [c] {d}\n",
    "a: x &y *z !w |v >u 'q' \"r\" %s @t `u\n", "a: -7\nb: --x\nc: ---\nd: ...\ne: -x-\n", "a: spaced   words\n",
    "a: é ü 日本 \U0001F600\nb: \xa0x\xa0\nc: \u3000\n", "a: " + "x" * 5000 + "\nb: '" + "y" * 3000 + "'\n",
    "true: 1\nnull: 2\nTrue: 3\n_x: 4\n", "k" * 128 + ": 1\n", "k" * 129 + ": 1\n",
    # scalars that YAML 1.1 would type: only true/false/null/decimal integers are
    "a: 0x1F\nb: 1_000\nc: .inf\nd: yes\ne: ~\nf: 2026-01-01\ng: 2026-01-27T10:00:00Z\nh: 1e3\ni: 010\n",
    "a: -0\nb: +0\nc: 00\nd: 12345678901234567890\ne: 123456789012345678\nf: 1.0\ng: -12\nh: +3\n",
    "a: Null\nb: NULL\nc: nULL\nd: FALSE\ne: fAlse\nf: True\ng: on\nh: n\n", "a: '1'\nb: \"true\"\nc: '~'\n",
    # refused: what the event loop reports
    "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: !t {b: 1}\n", "a: 1\na: 2\n", "---\nb: 1\n---\nb: 1\nb: 2\n",
    "<<: {a: 1}\n", "a:\n  <<: x\n", "'<<': 1\n", "a: b: c\n", "a: [1, 2\n", "a: 'open\n", "a: \"open\n",
    "k" * 1025 + ": 1\n", "a: x:\n", "a: x # c\n", "a: x \n", "a:\n  - x\n   - y\n", "a: x\n  - y\n", "- a\n- b\n", "a:\n- x\n",
    # refused: outside the subset
    "a: 1\r\nb: 2\r\n", "a: 1\rb: 2\r", "\ufeffa: 1\n", "a:\t1\n", "a: 1\t\n", "\ta: 1\n", "a: x\ty\n",
    "---\n---\n", "a: 1\n---\n", "...\n", "a: 1\n...\n", "--- >\n  folded\n", "--- |\n  lit\n\n\n", "--- \na: 1\n",
    "a: [1, 2, {b: c}]\n", "{a: 1, a: 2}\n", "[a, b]\n", "? [a]\n: 1\n", "? a\n: 1\n", "a: \"x\\ty\"\n",
    "a: |\n  x\n  y\n\n# c\n", "a: >-\n  x\n\n  y\n", "a: |+\n  x\n\n", "%YAML 1.1\n---\na: 1\n",
    "a: x\n  continued\n", "a: x\n\n  continued\n", "a: x\u2028y\n", "a: x\x85y\n", "a: x\x7fy\n", "a: x\x01y\n",
    "a: #c\n", "  # c\na: 1\n", "a: ?x\nb: :x\n", "a: -\n", "a: - x\n", "a : 1\n", "'a': 1\n", "1: x\n", "~: 1\n",
    "a: 'x' y\n", "a: \"multi\n  line\"\n", "a: 'multi\n\n  line'\n", "x: [a, b,\n  c]\n", "a:\n  b: 1\n",
    "a: 1\n b: 2\n", "  a: 1\n  b: 2\n", "a:    spaced\n", "", "# only a comment\n", "a: ,x\nb: [x\n", "a: %x\n", "a: @x\n",
]

REFUSED = TRICKY[TRICKY.index("a: &x 1\nb: *x\n"):]


def _near_subset(seed: int, count: int) -> list[str]:
    """Streams mostly inside the fast path's subset, with a few edits at its edges."""
    rnd = random.Random(seed)
    keys = ["a", "b", "operation_id", "ALLOWED_PATHS", "notes", "_x", "true", "null", "x" * 130]
    keys += [f"k{i}" for i in range(30)]
    good = ["x", "1", "-1", "+1", "0", "00", "1_0", "0x1F", ".5", "~", "null", "Null", "true", "yes", "2026-01-01",
            "12:30", "http://h/p", "a#b", "a:b", "é", "\xa0", "\u3000", "日本", "\U0001F600", "it's", 'say "hi"',
            "a,b", "[x]", "{x}", "x&y", "x*y", "x!y", "x|y", "x%y", "---", "...", "-x", "''", "a''b", "x" * 1500]
    bad = ["?x", ":x", "-", "#", "'", '"', "\\", "'''", ":", "x\u2028y", "x\x85y", "x\ufeffy", "x\ty", "x\ry",
           "x\x7fy", "&a", "*a", "!t", "|", ">", "%x", "@x", "`x", "[", "{", ",x", "- x"]
    out = []
    for _ in range(count):
        rate = rnd.choice([0.0, 0.01, 0.03, 0.1])

        def scalar() -> str:
            body = rnd.choice([" ", "  ", ""]).join(
                rnd.choice(bad if rnd.random() < rate else good) for _ in range(rnd.randint(1, 3)))
            quote = rnd.choice(["", "", "'", '"'])
            body = quote + body + quote
            return body + rnd.choice([" ", " #c", ":", "'", '"']) if rnd.random() < rate else body

        lines: list[str] = []
        indent = rnd.choice(["  ", " ", "    "])
        for _ in range(rnd.randint(1, 12)):
            r = rnd.random()
            if r < 0.55:
                lines.append(f"{rnd.choice(keys)}: {scalar()}")
            elif r < 0.58:
                lines.append(f"{rnd.choice(keys)}:{rnd.choice(['  ', chr(9)])}{scalar()}")
            elif r < 0.7:
                lines.append(f"{rnd.choice(keys)}:")
                lines += [f"{indent if rnd.random() > rate else '   '}- {scalar()}" for _ in range(rnd.randint(0, 3))]
            elif r < 0.8:
                lines.append("---")
            elif r < 0.9:
                lines.append(rnd.choice(["", "# c", "#"]))
            elif rnd.random() < rate * 5:
                lines.append(rnd.choice(["  # c", " ", "...", "--- ", "  x", "- y", f"{indent}- x", "--- |"]))
        out.append("\n".join(lines) + rnd.choice(["\n", "", "\n\n"]))
    return out


def _realistic() -> list[str]:
    front = declaration_text().split("---\n")[1]
    entries = [entry_text(), entry_text("OPS-2026-01-27-002", notes="'a: b # c'", outcome="FAILURE")]
    rendered = render_entry({"operation_id": "OPS-2026-01-27-003", "notes": "it's 'quoted' and: colons",
                             "emergency": True, "rollback_ref": "command: git revert abc1234", "count": 3,
                             "changes_summary": "yes", "blast_radius": "010"})
    return [front, "".join(entries), "---\n" + rendered, "".join(entries) + "---\n" + rendered]


CORPUS = TRICKY + _realistic() + _near_subset(20260127, 3000)


def _mark(m: Any) -> tuple[Any, ...]:
    return (type(m), m.name, m.index, m.line, m.column, m.buffer, m.pointer)


def _node(n: Any) -> tuple[Any, ...]:
    if isinstance(n, yaml.ScalarNode):
        return ("scalar", n.tag, n.value, n.style, _mark(n.start_mark), _mark(n.end_mark))
    children = [(_node(k), _node(v)) for k, v in n.value] if isinstance(n, yaml.MappingNode) else \
        [_node(c) for c in n.value]
    return (type(n), n.tag, n.flow_style, _mark(n.start_mark), _mark(n.end_mark), children)


def _typed(value: Any) -> Any:
    """The value with the type of every scalar: 1 and True, '1' and 1 must not compare equal."""
    if isinstance(value, dict):
        return ("dict", [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value), value)


def _where(doc: yamlstrict.Document) -> list[tuple[Any, ...]]:
    keys: list[Any] = list(doc.data) if isinstance(doc.data, dict) else []
    return [(), *[(k,) for k in keys], *[(k, i) for k in keys for i in (0, 1, 5)], ("missing",), (0,), ("a", "b")]


def _snapshot(docs: list[yamlstrict.Document]) -> list[tuple[Any, ...]]:
    return [(_typed(d.data), d.path, d.first_line, d.last_line, d.value_positions(),
             [(w, d.position(w), d.position(w, key=True)) for w in _where(d)], _node(d.node)) for d in docs]


@pytest.mark.parametrize("offset", [0, 3])
def test_fast_path_and_event_loop_agree(offset: int) -> None:
    taken = 0
    for text in CORPUS:
        slow_docs, slow_findings = yamlstrict._load_events("f.yaml", text, offset)
        fast = yamlstrict._load_plain("f.yaml", text, offset)
        if fast is not None:
            taken += 1
            assert slow_findings == [], text
            assert _snapshot(fast) == _snapshot(slow_docs), text
        docs, findings = yamlstrict.load_documents("f.yaml", text, line_offset=offset)
        assert (_snapshot(docs), findings) == (_snapshot(slow_docs), slow_findings), text
    # Both branches were exercised: the comparison above is not vacuous.
    assert taken > 600 and len(CORPUS) - taken > 600


@pytest.mark.parametrize("text", _realistic() + TRICKY[:TRICKY.index("a: &x 1\nb: *x\n")])
def test_records_as_written_take_the_fast_path(text: str) -> None:
    if text.startswith("k" * 129):
        assert yamlstrict._load_plain("f.yaml", text, 0) is None   # a key that long goes to libyaml
    else:
        assert yamlstrict._load_plain("f.yaml", text, 0) is not None


@pytest.mark.parametrize("text", REFUSED)
def test_hostile_and_unusual_streams_are_left_to_the_event_loop(text: str) -> None:
    assert yamlstrict._load_plain("f.yaml", text, 0) is None


def test_fast_path_documents_build_their_node_tree_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = yamlstrict._load_events

    def counting(path: str, text: str, offset: int) -> Any:
        calls.append(path)
        return real(path, text, offset)

    monkeypatch.setattr(yamlstrict, "_load_events", counting)
    text = entry_text() + entry_text("OPS-2026-01-27-002")
    docs, findings = yamlstrict.load_documents("f.yaml", text)
    assert findings == [] and len(docs) == 2 and calls == []
    assert docs[1].value_positions()["operation_id"] == (14, 15) and calls == []
    node = docs[1].node      # one event-loop pass over the stream serves every document
    assert isinstance(node, yaml.MappingNode) and node.start_mark.line == 13 and calls == ["f.yaml"]
    assert isinstance(docs[0].node, yaml.MappingNode) and calls == ["f.yaml"]
    assert docs[0].node.value[0][1].value == "OPS-2026-01-27-001"


# -- finding one entry in a month file without a regex per operation id ----------------------------------

def _month_variants(seed: int, count: int) -> list[str]:
    """Month files with the key line written every way the key pattern allows, and ways it does not."""
    rnd = random.Random(seed)
    ids = ["OPS-2026-01-27-001", "OPS-2026-01-27-0011", "OPS-2026-01-27-00", "OPS.2026", "a+b", ""]
    keys = ["operation_id: {}", "operation_id:{}", "operation_id:\t '{}'", "operation_id: \"{}\" # c",
            "operation_id: {}#c", "operation_id: '{}\"", "operation_id: {} x", "operation_id: {}\r",
            " operation_id: {}", "operation_id: {}{}", "operation_id: ''{}", "notes: operation_id: {}",
            "operation_id: {} # {}"]
    lines = ["---", "--- # entry", "---\t", "---x", "----", " ---", "...", "notes: x", "", "# c", "notes: |",
             "  ---", "  operation_id: {}"]
    texts = []
    for _ in range(count):
        body = []
        for _ in range(rnd.randint(1, 12)):
            template = rnd.choice(keys if rnd.random() < 0.5 else lines)
            body.append(template.format(*[rnd.choice(ids)] * template.count("{}")))
        texts.append("\n".join(body) + rnd.choice(["", "\n"]))
    return texts


def test_key_line_is_where_the_key_pattern_matches_first() -> None:
    from opsgov_hooks.records import ledger

    matched = 0
    for text in _month_variants(20260127, 3000):
        for op_id in ["OPS-2026-01-27-001", "OPS-2026-01-27-00", "a+b", "OPS.2026", "", "x\nnotes"]:
            m = re.search(rf"^operation_id:[ \t]*['\"]?{re.escape(op_id)}['\"]?[ \t]*(?:#.*)?$", text, re.M)
            assert ledger._key_line(text, op_id) == (m and m.span()), (text, op_id)
            matched += m is not None
        for at in range(len(text) + 1):
            if at == 0 or text[at - 1] == "\n":     # what find_yaml_entry asks: line starts, line ends
                starts = [m.start() for m in ledger._DOC_START.finditer(text, 0, at)]
                assert ledger._document_start_before(text, at) == (starts[-1] if starts else 0), (text, at)
            if at == len(text) or text[at] == "\n":
                after = ledger._DOC_START.search(text, at)
                assert ledger._document_start_after(text, at) == (after and after.start()), (text, at)
    assert matched > 1000


# -- front matter, sliced out of the record instead of split and joined ----------------------------------

def _reference_split(text: str) -> tuple[str, str, int] | str:
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return "an operation record must start with a '---' line and its YAML declaration"
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]) + "\n", "\n".join(lines[i + 1:]), i + 2
    return "the front matter opened on line 1 is never closed by a '---' line"


def test_front_matter_split_agrees_with_the_line_list_definition() -> None:
    from opsgov_hooks.findings import Finding
    from opsgov_hooks.records.declaration import split_front_matter

    pool = ["---", "--- ", "---\r", "...", "...\t", " ---", "----", "-- -", "a: 1", "", "x\r", "\r", "# body"]
    closed = 0
    for size in range(5):
        for chars in itertools.product(pool, repeat=size):
            for text in ("\n".join(chars), "\n".join(chars) + "\n", "\r\n".join(chars)):
                got = split_front_matter("f.md", text)
                expected = _reference_split(text)
                assert (got.message if isinstance(got, Finding) else got) == expected, repr(text)
                closed += isinstance(expected, tuple)
    assert closed > 1000
