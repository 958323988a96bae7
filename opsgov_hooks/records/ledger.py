"""P5 ledger entries, read from any of the standard's three storage options.

* B (``yaml``, the default): ``ops/ledger/YYYY-MM.yaml``, one ``---`` document per entry;
* A (``markdown``): ``docs/OPS_CHANGELOG.md``, ``---``-delimited YAML blocks between prose;
* C (``tags``): annotated ``ops-YYYY-MM-DD-NNN`` tags whose message carries the entry.

Each parser returns entries that passed the schema and the calendar checks, and
findings for the rest, so one bad entry never hides the others.
"""
from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re
from typing import Any

from opsgov_hooks.policy import schemas
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.records.ids import id_date, parse_utc
from opsgov_hooks.records.yamlstrict import MAX_BYTES, Document, check_bytes, load_documents, plain_documents

# P5's order, then the fields opsgov adds (how entries are written, and how changes are listed).
FIELD_ORDER = (
    "operation_id", "operation_name", "requested_by", "approved_by", "approval_timestamp",
    "execution_timestamp", "risk_class", "blast_radius", "changes_summary", "rollback_ref", "outcome",
    "emergency", "rollback_timestamp", "rollback_evidence", "notes",
)
TIMESTAMP_FIELDS = ("approval_timestamp", "execution_timestamp", "rollback_timestamp")
MONTH_FILE = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])\.yaml\Z")


@dataclasses.dataclass(frozen=True)
class LedgerEntry:
    """One valid ledger entry and where it sits.

    Line span (1-based, ``end_line`` exclusive): ``lines[line - 1:end_line - 1]`` of
    the file split on ``\n`` are exactly the entry's lines, so an in-place update
    replaces that slice and touches nothing else.

    * backend B (yaml month file): from the entry's ``---`` line (its first content
      line if it has no marker) through its last content line; blank lines, comment
      lines and a ``...`` after the last key belong to no entry;
    * backend A (markdown changelog): from the opening ``---`` line through the
      closing ``---`` line, both included;
    * backend C (tag): lines of the tag message, counted from its first line.
    """

    fields: dict[str, Any]
    path: str               # the file, or refs/tags/<name> for a tag
    line: int               # first line of the entry (its opening '---' line)
    end_line: int           # the line after its last line (exclusive)
    column: int = 1
    positions: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def operation_id(self) -> str:
        return str(self.fields["operation_id"])

    def get(self, key: str) -> Any:
        return self.fields.get(key)

    def position(self, key: str) -> tuple[int, int]:
        """(line, column) of the value of field ``key``; the entry's first line when it is absent."""
        return self.positions.get(key, (self.line, self.column))


# Entries (as field tuples) found valid in this process: each version of an append-only month file
# repeats every entry before it, and a range reads dozens of versions. Findings depend on positions,
# so only the valid (finding-free) answer is kept. Bounded: cleared when it grows past the cap.
_VALID: set[tuple[Any, ...]] = set()
_VALID_CAP = 200_000


def _entry_key(value: Any) -> tuple[Any, ...] | None:
    """The entry as fields with their types (True and 1 are equal in Python, not in the schema)."""
    if not isinstance(value, dict):
        return None
    # One flat tuple (key, type, value, key, type, value, ...), not a tuple of triples: equal exactly
    # when the triples are, at a third of the memory (10,000 entries' keys held 15 MB as triples).
    parts: list[Any] = []
    for k in sorted(value, key=str):
        v = value[k]
        parts += (k, type(v), v)   # the type itself: a builtin type's __name__ is a new string per call
    items = tuple(parts)
    try:
        hash(items)
    except TypeError:
        return None   # a nested value: validated every time
    return items


def check_entry(doc: Document, *, data: Any = None) -> list[Finding]:
    """Schema and calendar findings for one entry."""
    value = doc.data if data is None else data
    key = _entry_key(value)
    if key is not None and key in _VALID:
        return []
    findings = _check_entry(doc, value)
    if key is not None and not findings:
        if len(_VALID) >= _VALID_CAP:
            _VALID.clear()
        _VALID.add(key)
    return findings


def _check_entry(doc: Document, value: Any) -> list[Finding]:
    findings = schemas.validate(schemas.LEDGER_ENTRY, doc, data=value)
    if findings:
        return findings
    op_id = value["operation_id"]
    if id_date(op_id) is None:
        line, col = doc.position(("operation_id",))
        findings.append(error("L002", f"operation_id {op_id} does not carry a real calendar date", doc.path,
                              line, col))
    for key in TIMESTAMP_FIELDS:
        if key in value and parse_utc(value[key]) is None:
            line, col = doc.position((key,))
            findings.append(error("L004", f"{key} {value[key]!r} is not a real UTC instant", doc.path, line, col,
                                  hint="write e.g. 2026-01-27T10:00:00Z"))
    return findings


def _entries_from_docs(docs: list[Document], span: tuple[int, int] | None = None,
                       ) -> tuple[list[LedgerEntry], list[Finding]]:
    """Entries of the non-empty documents; ``span`` overrides their line span (changelog blocks)."""
    entries, findings = [], []
    for doc in docs:
        if doc.data is None:
            continue
        if not isinstance(doc.data, dict):
            line, col = doc.position()
            findings.append(error("F011", "a ledger entry must be a YAML mapping of P5 fields", doc.path, line,
                                  col, hint="write one 'field: value' line per ledger field"))
            continue
        problems = check_entry(doc)
        findings.extend(problems)
        if not problems:
            first, end = span or (doc.first_line, doc.last_line + 1)
            entries.append(LedgerEntry(doc.data, doc.path, first, end, positions=doc.value_positions()))
    return entries, findings


# Documents of month files parsed in this process, by (path, first line, digest of the text): each
# version of an append-only month file repeats the documents before it at the same lines, and a range
# reads dozens of versions. A 32-byte digest, not the text, is kept (the texts of a cold --all's
# ledger were 5 MB held for nothing). Bounded: cleared when it grows past the cap.
_DOCS: dict[tuple[str, int, bytes], tuple[list[LedgerEntry], list[Finding]]] = {}
_DOCS_CAP = 50_000


def _documents(text: str) -> list[tuple[int, str]] | None:
    """(lines before it, text) of each document of a month file written as plain ``---`` documents;
    None for anything else (a directive, an end marker, content before the first ``---``)."""
    lines = text.split("\n")
    if not lines or not _DOC_START.match(lines[0]):
        return None
    starts = []
    for number, line in enumerate(lines):
        if line.startswith(("%", "...")):
            return None
        if _DOC_START.match(line):
            starts.append(number)
    starts.append(len(lines))
    return [(a, "\n".join(lines[a:b]) + ("\n" if b < len(lines) else "")) for a, b in zip(starts, starts[1:])]


def _parse_by_document(path: str, text: str) -> tuple[list[LedgerEntry], list[Finding]] | None:
    """The entries and findings of a month file, each document parsed once per process (None: parse
    the file whole, as when a document has a YAML problem, which may change what follows it)."""
    chunks = _documents(text)
    if chunks is None:
        return None
    entries: list[LedgerEntry] = []
    findings: list[Finding] = []
    for offset, chunk in chunks:
        key = (path, offset, hashlib.blake2b(chunk.encode("utf-8", "surrogatepass"), digest_size=32).digest())
        known = _DOCS.get(key)
        if known is None:
            docs, problems = load_documents(path, chunk, line_offset=offset)
            if problems or len(docs) > 1:
                return None
            known = _entries_from_docs(docs)
            if len(_DOCS) >= _DOCS_CAP:
                _DOCS.clear()
            _DOCS[key] = known
        entries += known[0]
        findings += known[1]
    return entries, findings


def entries_for(path: str, raw: bytes, ids: frozenset[str]) -> list[LedgerEntry] | None:
    """The valid entries of ``ids`` in a month file, schema-checked only for the documents that hold
    them; None when the file must be parsed whole (:func:`parse_ledger_yaml`) to know.

    Only for a file the fast YAML path reads whole: then every document is read as the whole parse
    reads it (same values, same lines), and none of them can end the stream early (an unclosed quote
    that swallows the next ``---``, a syntax error after which the whole parse keeps nothing). The
    entries are those :func:`parse_ledger_yaml` gives for ``ids``, and checking 250 entries against
    the schema and the calendar is most of what parsing a month file costs.
    """
    text, problems = check_bytes(path, raw)
    if text is None or problems:
        return None
    docs = plain_documents(path, text)
    if docs is None:
        return None
    # A valid entry's id is a string (a list here would not even be hashable).
    wanted = [doc for doc in docs if isinstance(doc.data, dict) and isinstance(doc.data.get("operation_id"), str)
              and doc.data["operation_id"] in ids]
    return _entries_from_docs(wanted)[0]


def parse_ledger_yaml(path: str, raw: bytes) -> tuple[list[LedgerEntry], list[Finding]]:
    """A backend B month file. Its name must be the month of each of its entries."""
    text, findings = check_bytes(path, raw)
    if text is None:
        return [], findings
    parsed = _parse_by_document(path, text)
    if parsed is None:
        docs, findings = load_documents(path, text)
        entries, more = _entries_from_docs(docs)
        findings += more
    else:
        entries, findings = parsed[0], list(parsed[1])   # as the whole parse: check_bytes found nothing
    name = posixpath.basename(path)
    if not MONTH_FILE.match(name):
        findings.append(error("L007", f"ledger files are named YYYY-MM.yaml, not {name}", path,
                              hint="one file per month of the operation ids, e.g. ops/ledger/2026-01.yaml"))
        return entries, findings
    month = name.removesuffix(".yaml")
    for entry in entries:
        if entry.operation_id[4:11] != month:
            findings.append(error("L007", f"{entry.operation_id} belongs in {entry.operation_id[4:11]}.yaml, "
                                  f"not {month}.yaml", path, *entry.position("operation_id"),
                                  hint="move the entry to the file of its operation id's month"))
    return entries, findings


_DOC_START = re.compile(r"^---(?:[ \t].*)?$", re.M)
# The key line of an entry is ``operation_id:<HEAD><the id><TAIL>`` (the id optionally quoted, an
# optional comment): these two patterns are fixed, so no regex is compiled per operation id.
_KEY = "operation_id:"
_KEY_HEAD = re.compile(r"[ \t]*['\"]?")
_KEY_TAIL = re.compile(r"['\"]?[ \t]*(?:#.*)?")


def find_yaml_entry(path: str, raw: bytes, operation_id: str) -> LedgerEntry | None:
    """One operation's entry of a backend B month file, parsing only that entry's document.

    For reading one sealed entry at many commits (every ``ops-*`` tag): a top-level
    ``---`` line always starts a document (block scalars are indented), so the
    entry's document can be cut out as text. Anything unexpected falls back to
    parsing the whole file.
    """
    text, problems = check_bytes(path, raw)
    if text is None or operation_id not in text:
        return None
    found = _key_line(text, operation_id)
    if found is not None:
        begin = _document_start_before(text, found[0])
        after = _document_start_after(text, found[1])
        chunk = text[begin:len(text) if after is None else after]
        docs, findings = load_documents(path, chunk, line_offset=text.count("\n", 0, begin))
        entries, more = _entries_from_docs(docs)
        if not findings and not more and len(entries) == 1 and entries[0].operation_id == operation_id:
            return entries[0]
    entries, _findings = parse_ledger_yaml(path, raw)
    return next((e for e in entries if e.operation_id == operation_id), None)


def _key_line(text: str, operation_id: str) -> tuple[int, int] | None:
    """(start, end) of the first line ``operation_id: <operation_id>`` (quoted or not, maybe with a
    comment), as ``re.search`` of that line's pattern in multi-line mode would find it."""
    if not operation_id or "\n" in operation_id:   # every position, or a match across lines: the regex decides
        pattern = rf"^operation_id:[ \t]*['\"]?{re.escape(operation_id)}['\"]?[ \t]*(?:#.*)?$"
        m = re.search(pattern, text, re.M)
        return None if m is None else (m.start(), m.end())
    # Only a line holding the id can match: visit those lines in order (the id occurs a few times
    # in a month file, the key on every entry).
    checked = -1
    at = text.find(operation_id)
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        if start != checked and text.startswith(_KEY, start):
            checked = start
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            rest = text[start + len(_KEY):end]
            # The line matches if the id occurs in it with only HEAD before and TAIL after it.
            found = rest.find(operation_id)
            while found >= 0:
                if _KEY_HEAD.fullmatch(rest, 0, found) and _KEY_TAIL.fullmatch(rest, found + len(operation_id)):
                    return start, end
                found = rest.find(operation_id, found + 1)
        at = text.find(operation_id, at + 1)
    return None


def _document_start_before(text: str, end: int) -> int:
    """The start of the last ``---`` line before the line starting at ``end``, or 0."""
    while end > 0:
        at = text.rfind("\n---", 0, end)
        if at < 0:
            break
        if _DOC_START.match(text, at + 1):
            return at + 1
        end = at
    return 0


def _document_start_after(text: str, start: int) -> int | None:
    """The start of the first ``---`` line after ``start`` (inside a line), or None."""
    while True:
        at = text.find("\n---", start)
        if at < 0:
            return None
        if _DOC_START.match(text, at + 1):
            return at + 1
        start = at + 1


def yaml_blocks(text: str) -> tuple[list[tuple[str, int, int]], list[tuple[int, str]]]:
    """The entry blocks of a Markdown changelog: ([(yaml, open_line, close_line)], [(line, problem)]).

    A block opens with a ``---`` line that starts the file or follows a blank line
    (a ``---`` right under a text line is a Setext heading underline), outside
    fenced code, and closes at the next ``---`` line. Lines are 1-based.
    """
    blocks: list[tuple[str, int, int]] = []
    lines = text.split("\n")
    start: int | None = None
    fence: str | None = None
    for i, line in enumerate(lines):
        stripped = line.rstrip()
        if start is None:
            fence = _fence(stripped, fence)
            if fence is None and stripped == "---" and (i == 0 or not lines[i - 1].strip()):
                start = i
        elif stripped == "---":
            blocks.append(("\n".join(lines[start + 1:i]) + "\n", start + 1, i + 1))
            start = None
    problems = [(start + 1, "this '---' entry block is never closed")] if start is not None else []
    return blocks, problems


def _fence(line: str, fence: str | None) -> str | None:
    """The open code fence after ``line`` (``` or ~~~), or None outside fenced code."""
    marker = line.lstrip()[:3]
    if marker in ("```", "~~~"):
        return None if fence == marker else (fence or marker)
    return fence


def parse_changelog(path: str, raw: bytes) -> tuple[list[LedgerEntry], list[Finding]]:
    """A backend A changelog: Markdown prose with ``---``-delimited YAML entry blocks."""
    text, findings = check_bytes(path, raw)
    if text is None:
        return [], findings
    blocks, problems = yaml_blocks(text)
    findings = [error("F010", message, path, line, 1, hint="close the entry with a '---' line")
                for line, message in problems]
    entries: list[LedgerEntry] = []
    for block, open_line, close_line in blocks:
        docs, more = load_documents(path, block, line_offset=open_line)
        findings += more
        got, more = _entries_from_docs(docs, (open_line, close_line + 1))
        entries += got
        findings += more
    return entries, findings


def entry_yaml_from_tag_message(message: str) -> tuple[str, int]:
    """The YAML part of a tag message and the message line (1-based) it starts on.

    ``opsgov tag`` writes a one-line title, a blank line, then the entry; with the
    tags backend the message may be the entry itself (starting with ``---`` or
    ``operation_id:``).
    """
    lines = message.split("\n")
    start = 0
    if not lines[0].startswith(("---", "operation_id:")):
        start = 1
        while start < len(lines) and not lines[start].strip():
            start += 1
    return "\n".join(lines[start:]), start + 1


def parse_tag_entry(ref: str, message: str) -> tuple[LedgerEntry | None, list[Finding]]:
    """The ledger entry an ``ops-*`` tag message carries; positions are lines of the message."""
    if len(message) > MAX_BYTES:
        return None, [error("F004", "the tag message is over the 1 MiB limit for records", ref)]
    body, first_line = entry_yaml_from_tag_message(message)
    if not body.strip():
        return None, [error("L009", "the tag message carries no ledger entry", ref,
                            hint="recreate the tag with 'opsgov tag', which writes the entry into its message")]
    docs, findings = load_documents(ref, body, line_offset=first_line - 1)
    if findings:
        return None, findings
    entries, findings = _entries_from_docs(docs)
    if len(entries) + len(findings) > 1 or (not entries and not findings):
        return None, findings or [error("L009", "the tag message must carry exactly one ledger entry", ref,
                                        first_line, 1)]
    return (entries[0] if entries else None), findings
