"""The strict loader: every rejection, as `opsgov validate` reports it, and what it keeps as text."""
from __future__ import annotations

import pytest

from conftest import Repo
from opsgov_hooks.records import yamlstrict
from opsgov_hooks.output.text import format_line

LEDGER = "ops/ledger/2026-01.yaml"


def _validate(repo: Repo, run_cli, monkeypatch, content: str | bytes) -> tuple[int, list[str], str]:  # type: ignore[no-untyped-def]
    repo.write(LEDGER, content)
    repo.chdir(monkeypatch)
    code, out, err = run_cli("validate")
    assert "Traceback" not in out + err
    return code, out.splitlines(), err


def _lines(text: str, line_offset: int = 0, path: str = "f.yaml") -> list[str]:
    _docs, findings = yamlstrict.load_documents(path, text, line_offset=line_offset)
    return [format_line(f) for f in findings]


# -- refused before parsing ---------------------------------------------------------

@pytest.mark.parametrize(("content", "expected"), [
    (b"operation_id: \xff\n", f"{LEDGER}:1:15: F001 file is not UTF-8 (byte 0xff) (fix: re-save the file as UTF-8)"),
    (b"notes: ok\nsecond: caf\xe9\n", f"{LEDGER}:2:12: F001 file is not UTF-8 (byte 0xe9) (fix: re-save the file as UTF-8)"),
    ("a: 1\n".encode("utf-16"), f"{LEDGER}:1:1: F001 file is UTF-16, not UTF-8 (fix: re-save the file as UTF-8)"),
    (b"a: 1\nb: \x00\x01\x02\n", f"{LEDGER}:2:1: F002 file is binary (contains a NUL byte)"),
    (b"", f"{LEDGER}:1:1: F003 file is empty"),
    (b"  \n\n\t\n", f"{LEDGER}:1:1: F003 file is empty"),
    (b"\xef\xbb\xbf\n", f"{LEDGER}:1:1: F003 file is empty"),
])
def test_undecodable_files_are_refused(repo: Repo, run_cli, monkeypatch, content: bytes, expected: str) -> None:  # type: ignore[no-untyped-def]
    code, lines, err = _validate(repo, run_cli, monkeypatch, content)
    assert (code, lines, err) == (1, [expected, "Found 1 error(s), 0 warning(s)."], "")


def test_oversized_file_is_refused_unread(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Hostile in every way (aliases, bad bytes), but the size check comes first.
    content = b"a: &a [x]\n" + b"b: [*a, *a, \xff]\n" * 70_000
    assert len(content) > yamlstrict.MAX_BYTES
    code, lines, _ = _validate(repo, run_cli, monkeypatch, content)
    assert (code, lines) == (1, [
        f"{LEDGER}:1:1: F004 file is over the 1 MiB limit for records (1048576 bytes) "
        "(fix: split the ledger by month (ops/ledger/YYYY-MM.yaml))",
        "Found 1 error(s), 0 warning(s).",
    ])


def test_size_is_checked_before_anything_is_decoded() -> None:
    text, findings = yamlstrict.check_bytes("big.yaml", b"\xff" * (yamlstrict.MAX_BYTES + 1))
    assert text is None and [f.code for f in findings] == ["F004"]
    text, findings = yamlstrict.check_bytes("edge.yaml", b"a" * yamlstrict.MAX_BYTES)
    assert text == "a" * yamlstrict.MAX_BYTES and findings == []


# -- refused while parsing ----------------------------------------------------------

@pytest.mark.parametrize(("content", "expected"), [
    ("a: b: c\n", f"{LEDGER}:1:5: F005 YAML syntax error: mapping values are not allowed in this context "
                  "(fix: quote a value that contains ': ', e.g. rollback_ref: 'command: git revert abc1234')"),
    ("a: [1, 2\nb: 3\n", f"{LEDGER}:2:2: F005 YAML syntax error: did not find expected ',' or ']'"),
    ("---\noperation_id: x\noperation_id: y\n",
     f"{LEDGER}:3:1: F006 duplicate key 'operation_id' (fix: keep one of the two; YAML would silently drop the first)"),
    ("a:\n  b: 1\n  b: 1\n", f"{LEDGER}:3:3: F006 duplicate key 'b' (fix: keep one of the two; YAML would silently drop the first)"),
    ("a:\n  x: 1\nb:\n  <<: {y: 2}\n",
     f"{LEDGER}:4:3: F008 merge keys (<<) are not allowed in records (fix: write the keys out in full)"),
    ("a: !!python/object:os.system x\n",
     f"{LEDGER}:1:4: F009 explicit tag 'tag:yaml.org,2002:python/object:os.system' is not allowed in records "
     "(fix: remove the tag; records hold plain text, lists and mappings)"),
    ("a: !!python/object/apply:os.system ['echo pwned']\n",
     f"{LEDGER}:1:4: F009 explicit tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed in records "
     "(fix: remove the tag; records hold plain text, lists and mappings)"),
    ("a: !!binary aGVsbG8=\n",
     f"{LEDGER}:1:4: F009 explicit tag 'tag:yaml.org,2002:binary' is not allowed in records "
     "(fix: remove the tag; records hold plain text, lists and mappings)"),
    ("a: !!str 10\n",
     f"{LEDGER}:1:4: F009 explicit tag 'tag:yaml.org,2002:str' is not allowed in records "
     "(fix: remove the tag; records hold plain text, lists and mappings)"),
    ("a: !custom {b: 1}\n",
     f"{LEDGER}:1:4: F009 explicit tag '!custom' is not allowed in records "
     "(fix: remove the tag; records hold plain text, lists and mappings)"),
    ("? [a, b]\n: 1\n", f"{LEDGER}:1:3: F011 mapping keys must be plain text"),
    ("hello\n", f"{LEDGER}:1:1: F011 a ledger entry must be a YAML mapping of P5 fields "
                "(fix: write one 'field: value' line per ledger field)"),
    ("- a\n- b\n", f"{LEDGER}:1:1: F011 a ledger entry must be a YAML mapping of P5 fields "
                   "(fix: write one 'field: value' line per ledger field)"),
])
def test_parse_rejections(repo: Repo, run_cli, monkeypatch, content: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    code, lines, err = _validate(repo, run_cli, monkeypatch, content)
    assert (code, lines, err) == (1, [expected, "Found 1 error(s), 0 warning(s)."], "")


def test_anchor_and_alias_are_both_reported(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, lines, _ = _validate(repo, run_cli, monkeypatch, "approved_by: &boss bob\nrequested_by: *boss\n")
    assert (code, lines) == (1, [
        f"{LEDGER}:1:14: F007 YAML anchor '&boss' is not allowed in records (fix: write the value out in full)",
        f"{LEDGER}:2:15: F007 YAML alias '*boss' is not allowed in records (fix: write the value out in full)",
        "Found 2 error(s), 0 warning(s).",
    ])


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_at_the_first_anchor(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, lines, _ = _validate(repo, run_cli, monkeypatch, _billion_laughs())
    assert code == 1
    assert lines[0] == f"{LEDGER}:1:4: F007 YAML anchor '&a' is not allowed in records (fix: write the value out in full)"
    # Nothing was expanded: the scan stops after MAX_FINDINGS refusals, long before 9**9 strings.
    assert len(lines) == yamlstrict.MAX_FINDINGS + 1
    assert lines[-1] == f"Found {yamlstrict.MAX_FINDINGS} error(s), 0 warning(s)."


def test_a_flood_of_aliases_gives_a_bounded_report() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 100_000) + "]\n"
    docs, findings = yamlstrict.load_documents("flood.yaml", text)
    assert docs == [] and len(findings) == yamlstrict.MAX_FINDINGS
    assert {f.code for f in findings} == {"F007"}


def test_nesting_too_deep_is_refused(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, lines, _ = _validate(repo, run_cli, monkeypatch, "a: " + "[" * 500 + "]" * 500 + "\n")
    assert (code, lines) == (1, [f"{LEDGER}:1:67: F005 YAML nested deeper than 64 levels",
                                 "Found 1 error(s), 0 warning(s)."])


def test_nesting_beyond_libyaml_limit_is_a_syntax_error() -> None:
    # libyaml stops at 1000 levels itself, before any event reaches the loader.
    lines = _lines("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert len(lines) == 1 and lines[0].startswith("f.yaml:1:") and " F005 YAML " in lines[0]


def test_deep_block_nesting_is_refused_without_recursion() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(5000)) + "  " * 5000 + "v\n"
    assert _lines(text) == ["f.yaml:65:129: F005 YAML nested deeper than 64 levels"]


def test_nesting_up_to_the_limit_is_accepted() -> None:
    depth = yamlstrict.MAX_DEPTH
    docs, findings = yamlstrict.load_documents("f.yaml", "[" * depth + "]" * depth + "\n")
    assert findings == [] and len(docs) == 1


# -- what is kept as written ----------------------------------------------------------

def test_yaml_1_1_scalars_stay_strings() -> None:
    text = ("a: no\nb: yes\nc: on\nd: off\ne: 010\nf: 0x1F\ng: 12:30\nh: 1e3\ni: 1.5\nj: 2026-01-27\n"
            "k: 2026-01-27T10:00:00Z\nl: 2026-01-27 10:00:00\nm: .inf\nn: 0o17\no: Y\np: 1_000\n")
    docs, findings = yamlstrict.load_documents("f.yaml", text)
    assert findings == []
    assert docs[0].data == {"a": "no", "b": "yes", "c": "on", "d": "off", "e": "010", "f": "0x1F", "g": "12:30",
                            "h": "1e3", "i": "1.5", "j": "2026-01-27", "k": "2026-01-27T10:00:00Z",
                            "l": "2026-01-27 10:00:00", "m": ".inf", "n": "0o17", "o": "Y", "p": "1_000"}


def test_only_unambiguous_plain_scalars_are_typed() -> None:
    text = "a: true\nb: False\nc: null\nd: ~\ne:\nf: 42\ng: -7\nh: +3\ni: 0\nj: 'true'\nk: \"42\"\nl: |\n  42\n"
    docs, _ = yamlstrict.load_documents("f.yaml", text)
    assert docs[0].data == {"a": True, "b": False, "c": None, "d": None, "e": None, "f": 42, "g": -7, "h": 3,
                            "i": 0, "j": "true", "k": "42", "l": "42\n"}


def test_unquoted_timestamps_are_accepted_as_written(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from conftest import declaration_text, entry_text

    repo.write("ops/operations/OPS-2026-01-27-001.md", declaration_text())
    code, lines, _ = _validate(repo, run_cli, monkeypatch, entry_text(
        approval_timestamp="2026-01-27T09:00:00Z", execution_timestamp="2026-01-27T10:00:00.5+00:00"))
    assert (code, lines) == (0, [])


# -- line endings, byte order mark, embedded YAML --------------------------------------

def test_crlf_and_bom_do_not_move_positions() -> None:
    raw = "\ufeffa: 1\r\nb: x\r\nb: y\r\n".encode("utf-8")
    text, findings = yamlstrict.check_bytes("f.yaml", raw)
    assert findings == [] and text is not None
    assert _lines(text) == ["f.yaml:3:1: F006 duplicate key 'b' (fix: keep one of the two; YAML would silently drop the first)"]


def test_line_offset_shifts_every_position() -> None:
    docs, findings = yamlstrict.load_documents("f.md", "a: 1\nb:\n  c: 2\n", line_offset=10)
    assert findings == []
    assert docs[0].position(("b", "c")) == (13, 6)
    assert docs[0].position(("b", "c"), key=True) == (13, 3)
    assert (docs[0].first_line, docs[0].last_line) == (11, 13)
    assert _lines("a: 1\na: 2\n", line_offset=10, path="f.md") == [
        "f.md:12:1: F006 duplicate key 'a' (fix: keep one of the two; YAML would silently drop the first)"]
    assert _lines("a: [\n", line_offset=10, path="f.md")[0].startswith("f.md:12:1: F005 YAML syntax error")


def test_position_of_a_missing_key_is_its_mapping() -> None:
    docs, _ = yamlstrict.load_documents("f.yaml", "x: 1\nm:\n  a: 1\n")
    assert docs[0].position(("m", "zzz")) == (3, 3)
    assert docs[0].position(("m", "a"), key=True) == (3, 3)
    docs, _ = yamlstrict.load_documents("f.yaml", "l:\n  - a\n  - b\n")
    assert docs[0].position(("l", 1)) == (3, 5)
    assert docs[0].position(("l", 9)) == (2, 3)


def test_document_line_spans() -> None:
    text = ("# head\n---\na: 1\nb:\n\n# trailing comment\n---\nc: |\n  x\n  y\n\n\n"
            "---\nd: 'q\n  r'\n...\n---\ne: [1,\n 2]\n\nlast: 1")
    docs, findings = yamlstrict.load_documents("f.yaml", text)
    assert findings == []
    assert [(d.first_line, d.last_line) for d in docs] == [(2, 4), (7, 10), (13, 15), (17, 21)]


def test_a_document_with_a_problem_is_left_out_and_the_others_kept() -> None:
    docs, findings = yamlstrict.load_documents("f.yaml", "---\na: 1\n---\nb: 1\nb: 2\n---\nc: 1\n")
    assert [d.data for d in docs] == [{"a": 1}, {"c": 1}]
    assert [(f.code, f.line) for f in findings] == [("F006", 5)]


# -- hostile input costs nothing (no timing: what the loader touches) -----------------------

def test_an_oversized_file_never_reaches_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser was called")

    monkeypatch.setattr(yamlstrict.yaml, "parse", refuse)
    hostile = (_billion_laughs() * 20_000).encode()
    assert len(hostile) > yamlstrict.MAX_BYTES
    assert [f.code for f in yamlstrict.load_bytes("big.yaml", hostile)[1]] == ["F004"]


def test_a_billion_laughs_file_is_refused_while_its_events_arrive(monkeypatch: pytest.MonkeyPatch) -> None:
    consumed = []
    real_parse = yamlstrict.yaml.parse

    def counting(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for event in real_parse(*args, **kwargs):  # type: ignore[arg-type]
            consumed.append(event)
            yield event

    monkeypatch.setattr(yamlstrict.yaml, "parse", counting)
    text = _billion_laughs() * 50      # 50 copies: the scan stops long before the end of the stream
    docs, findings = yamlstrict.load_documents("bomb.yaml", text)
    assert docs == [] and len(findings) == yamlstrict.MAX_FINDINGS
    assert len(consumed) < 100 < text.count("*")


def test_long_digit_runs_stay_text() -> None:
    docs, findings = yamlstrict.load_documents("f.yaml", f"a: {'1' * 5000}\nb: 123456789012345678\nc: 1234567890123456789\n")
    assert findings == []
    assert docs[0].data == {"a": "1" * 5000, "b": 123456789012345678, "c": "1234567890123456789"}


def test_spans_of_many_entries_ending_in_block_scalars() -> None:
    text = "".join(f"---\nn: {i}\nnotes: |\n  x\n\n" for i in range(500))
    docs, findings = yamlstrict.load_documents("f.yaml", text)
    assert findings == [] and [(d.first_line, d.last_line) for d in docs][:2] == [(1, 4), (6, 9)]
    assert (docs[-1].first_line, docs[-1].last_line) == (2496, 2499)


def test_the_fast_path_s_printable_class_is_yaml_s_printable_set() -> None:
    """``_PRINTABLE`` is written as a complement (it compiles far faster); it must be the same set, for
    every code point, as YAML's printable characters without line breaks, tab and byte order mark."""
    import re

    from opsgov_hooks.records import yamlstrict

    spec = re.compile("[ -~\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
    ours = re.compile(f"[{yamlstrict._PRINTABLE}]")
    differ = [hex(cp) for cp in range(0x110000) if bool(spec.match(chr(cp))) != bool(ours.match(chr(cp)))]
    assert differ == []
