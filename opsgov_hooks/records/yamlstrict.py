"""The strict YAML loader that every command shares.

Why not ``yaml.safe_load``: it silently turns ``no`` into ``False``, ``010`` into 8
and ``12:30`` into 750, keeps the last of two duplicate keys, and expands aliases
(how YAML bombs and copy-pasted approvals work). Records are audit evidence, so
the loader keeps what the user wrote:

* scalars stay strings, except the unambiguous plain forms ``true``/``false``,
  ``null``/``~``/empty, and decimal integers without a leading zero; so an
  unquoted timestamp stays the text the user wrote;
* duplicate keys, anchors, aliases, merge keys and explicit tags (even ``!!str``)
  are findings;
* files over 1 MiB, binary, non-UTF-8 or empty files are refused before parsing.

It works in ONE pass over libyaml's event stream (the C parser when PyYAML has
it): no node graph is composed by PyYAML, so an alias is never expanded and a
"billion laughs" file is refused at its first anchor; nesting is limited as the
events arrive, so nothing recurses. It is also faster than composing: events
cost about a sixth of PyYAML's composer on a large ledger.

Records as opsgov writes them (``key: value`` lines, lists under a key) take a
faster path first: one regex pass over the text, about five times cheaper than
the events. It answers only for a subset whose meaning the text alone decides
and only when the event loop would report nothing; anything else goes to the
event loop (see ``_load_plain``).

Every problem is a :class:`~opsgov_hooks.findings.Finding` located at the
offending key or value; nothing here raises on bad input.
"""
from __future__ import annotations

import dataclasses
import re
import sys
from typing import TYPE_CHECKING, Any, Union

from opsgov_hooks.lazy import lazy_module
from opsgov_hooks.speed.nogc import paused_gc

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy_module("yaml")   # loaded by the first stream the fast path below does not answer
from opsgov_hooks.findings import Finding, error

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_FINDINGS = 20   # per stream: a hostile file of 100,000 aliases gets 20 lines, not 100,000

# At most 18 digits: a longer run of digits is an id or a hash, and int() refuses over 4300 digits anyway.
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]{0,17})\Z")
_STR_TAG = "tag:yaml.org,2002:str"
# The only plain scalars that are not text: unambiguous booleans and nulls (YAML 1.2 core
# schema spellings; no yes/no/on/off) and decimal integers.
_CONSTANTS: dict[str, Any] = {"true": True, "True": True, "TRUE": True, "false": False, "False": False,
                              "FALSE": False, "": None, "~": None, "null": None, "Null": None, "NULL": None}
_NUMERIC = frozenset("-+0123456789")

PathKey = Union[str, int]


@dataclasses.dataclass
class Document:
    """One YAML document: its plain value, and its node tree for locating problems.

    Node marks are 0-based lines of the whole file (embedded YAML is already
    shifted). ``first_line`` is the 1-based line of the document's ``---`` marker,
    or of its first content when it has none; ``last_line`` is the 1-based line of
    its last content (trailing blank lines, comments and ``...`` excluded).
    """

    data: Any
    node: yaml.Node
    path: str
    first_line: int = 1
    last_line: int = 1

    def position(self, where: tuple[PathKey, ...] = (), *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at ``where`` (or of its key).

        Walks as far as the path exists: a missing key is reported at its mapping.
        """
        node = self.node
        for i, part in enumerate(where):
            child = _child(node, part)
            if child is None:
                break
            key_node, value_node = child
            if key and i == len(where) - 1 and key_node is not None:
                node = key_node
                break
            node = value_node
        return node.start_mark.line + 1, node.start_mark.column + 1

    def value_positions(self) -> dict[str, tuple[int, int]]:
        """1-based (line, column) of each top-level value of a mapping document, in one pass."""
        if not isinstance(self.node, yaml.MappingNode):
            return {}
        return {k.value: (v.start_mark.line + 1, v.start_mark.column + 1)
                for k, v in self.node.value if isinstance(k, yaml.ScalarNode)}


def _child(node: yaml.Node, part: PathKey) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == part:
                return k, v
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


def check_bytes(path: str, raw: bytes) -> tuple[str | None, list[Finding]]:
    """Decode a record file, refusing what is not small UTF-8 text.

    The size is checked first, so an oversized file costs nothing but its length.
    A UTF-8 byte order mark is accepted and dropped.
    """
    if len(raw) > MAX_BYTES:
        return None, [error("F004", f"file is over the 1 MiB limit for records ({MAX_BYTES} bytes)", path,
                            hint="split the ledger by month (ops/ledger/YYYY-MM.yaml)")]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [error("F001", "file is UTF-16, not UTF-8", path, hint="re-save the file as UTF-8")]
    if b"\0" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\0")) + 1
        return None, [error("F002", "file is binary (contains a NUL byte)", path, line)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [error("F001", f"file is not UTF-8 (byte 0x{raw[exc.start]:02x})", path, line, col,
                            hint="re-save the file as UTF-8")]
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return None, [error("F003", "file is empty", path)]
    # Every line separator is a multi-byte UTF-8 sequence: ASCII bytes (most records) hold none.
    separator = None if raw.isascii() else _separator(raw)
    if separator is not None:
        at, name = separator
        line = raw.count(b"\n", 0, at) + 1
        col = len(raw[raw.rfind(b"\n", 0, at) + 1:at].decode("utf-8", "replace")) + 1
        return None, [error("F014", f"file holds {name}, which YAML reads as a line break and an editor may not: "
                            "what a reader sees is not what opsgov reads", path, line, col,
                            hint="replace it with a real line break (or a space)")]
    return text, []


_SEPARATORS = ((b"\xe2\x80\xa8", "U+2028 LINE SEPARATOR"), (b"\xe2\x80\xa9", "U+2029 PARAGRAPH SEPARATOR"),
               (b"\xc2\x85", "U+0085 NEXT LINE"))


def _separator(raw: bytes) -> tuple[int, str] | None:
    """The first Unicode line separator in ``raw`` (its byte offset and name), or None."""
    found = [(at, name) for bytes_, name in _SEPARATORS if (at := raw.find(bytes_)) >= 0]
    return min(found) if found else None


def load_bytes(path: str, raw: bytes) -> tuple[list[Document], list[Finding]]:
    """:func:`check_bytes` then :func:`load_documents`: a whole YAML file."""
    text, findings = check_bytes(path, raw)
    if text is None:
        return [], findings
    return load_documents(path, text)


def load_documents(path: str, text: str, *, line_offset: int = 0) -> tuple[list[Document], list[Finding]]:
    """Parse every document of a YAML stream strictly.

    ``line_offset`` shifts reported lines, for YAML embedded in a larger file
    (Markdown front matter, changelog blocks, tag messages). A document with a
    finding is left out; the documents before a syntax error are kept.
    """
    with paused_gc():  # many small acyclic objects: the cyclic collector would double the cost for nothing
        docs = _load_plain(path, text, line_offset)
        return (docs, []) if docs is not None else _load_events(path, text, line_offset)


def _load_events(path: str, text: str, line_offset: int) -> tuple[list[Document], list[Finding]]:
    """:func:`load_documents` through libyaml's events: any YAML, every finding."""
    builder = _Builder(path, text, line_offset)
    try:
        builder.run()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "cannot parse").strip()
        hint = ("quote a value that contains ': ', e.g. rollback_ref: 'command: git revert abc1234'"
                if "mapping values are not allowed" in problem else None)
        builder.findings.append(error("F005", f"YAML syntax error: {problem}", path, line + line_offset, col, hint))
    except (yaml.YAMLError, ValueError) as exc:
        builder.findings.append(error("F005", f"YAML syntax error: {type(exc).__name__}", path, 1 + line_offset, 1))
    return builder.docs, builder.findings


# -- the fast path: records as opsgov writes them, read without libyaml ---------------------------
#
# Almost every record is a stream of block mappings of ``key: value`` lines (plain, single-quoted
# or escape-free double-quoted values) and lists of such values indented under a key. For that
# subset the result follows from the text alone, so one regex pass reads it, at a fraction of
# the cost of libyaml's ~25 events per entry and a node per scalar. Anything outside the subset,
# and anything the event loop would report (a duplicate key, an empty document), is left to the
# event loop, which stays the reference: tests/records/test_parse_equivalence.py checks that both give
# the same documents (data, types, line spans, positions) on a corpus of tricky and hostile
# streams. The node tree is built by the event loop when first asked for: only a finding below
# the top level or a ledger edit needs it.

# YAML's printable characters without its other line breaks (\r, \x85, \u2028, \u2029), the
# tab (its indentation and separation rules) and U+FEFF (a byte order mark inside a stream):
# " -~\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff", written as
# the complement of what it leaves out, the same set, which ``re`` compiles in 1 ms instead of 7
# to 18 (a cost paid on every run that imports this module).
_PRINTABLE = "^\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
# One match per line, or the stream is not in the subset: key (at most 128 characters: libyaml
# gives up on a simple key 1024 characters long) and inline value, ``---``, list item (indent,
# value), comment or blank line.
_PLAIN_LINE = re.compile(rf"^(?:([A-Za-z_][A-Za-z0-9_]{{0,127}}):(?: ([{_PRINTABLE}]+))?|(---)|( +)- ([{_PRINTABLE}]+)"
                         rf"|#[{_PRINTABLE}]*|)$", re.M)
# Characters that may not start a plain scalar here: YAML's indicators, and a space.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@` ")
_REFUSED: Any = object()


def _one_line_scalar(text: str) -> Any:
    """The value of a scalar written on one line, typed as the event loop types it; ``_REFUSED``
    when it is not a complete plain, single-quoted or escape-free double-quoted scalar."""
    first = text[0]
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            return _REFUSED
        return inner.replace("''", "'")
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            return _REFUSED
        return inner
    # A plain scalar ends at ': ' or ' #' and drops trailing spaces; '-7' is a scalar, '- x' a list.
    if ((first in _INDICATORS and (first != "-" or text[1:2] in ("", " "))) or ": " in text or " #" in text
            or text[-1] == ":" or text[-1] == " "):
        return _REFUSED
    return _CONSTANTS.get(text, text) if first not in _NUMERIC else _plain_number(text)


def plain_data(text: str) -> list[dict[str, Any]] | None:
    """The data of each document of ``text`` when the fast path reads it whole, else None.

    No findings and no positions: for a caller that only needs values and falls back to
    :func:`load_documents` on None (what the fast path refuses, the event loop decides).
    """
    docs = _load_plain("", text, 0)
    return None if docs is None else [doc.data for doc in docs]


def plain_documents(path: str, text: str) -> list[Document] | None:
    """The documents of ``text`` when the fast path reads the whole stream (None: it does not, and
    only :func:`load_documents` can say what the stream holds)."""
    with paused_gc():
        return _load_plain(path, text, 0)


def _load_plain(path: str, text: str, offset: int) -> list[Document] | None:
    """The documents of a stream in the fast path's subset, or None to use the event loop."""
    lines = _PLAIN_LINE.findall(text)
    if len(lines) != text.count("\n") + 1:
        return None             # some line is not in the subset
    stream = _Stream(path, text, offset)
    docs: list[Document] = []
    data: dict[str, Any] | None = None
    positions: dict[str, tuple[int, int]] = {}
    key_lines: dict[str, int] = {}
    start = 0                   # the document's ``---`` line, 0 when it has none
    root = last = 0             # its first and last content lines
    pending = ""                # a key without an inline value: a list may follow
    pending_line = 0
    items: list[Any] | None = None
    indent = ""
    intern = sys.intern
    for number, (key, value, marker, spaces, item) in enumerate(lines, 1 + offset):  # number: file line
        if key:
            # One string object per distinct key (and text value): 10,000 entries repeat the same 15
            # keys and many values (risk class, outcome, people), which as copies held 22 MB of a
            # cold --all; marshal writes an interned string once and back-references it, so rows and
            # a child's results shrink too.
            key = intern(key)
            if data is None:
                data, positions, key_lines, root = {}, {}, {}, number
            elif key in data:
                return None     # a duplicate key is a finding
            items, last = None, number
            if value:
                typed = _one_line_scalar(value)
                if typed is _REFUSED:
                    return None
                data[key] = intern(typed) if type(typed) is str else typed   # a repeated value, one object
                positions[key] = (number, len(key) + 3)
                pending = ""
            else:               # null, unless a list follows; located just after the colon
                data[key] = None
                positions[key] = (number, len(key) + 2)
                pending, pending_line = key, number
        elif spaces:
            if data is None:
                return None
            if items is None:
                if not pending:
                    return None     # an indented line continues a scalar or nests: not in the subset
                items = data[pending] = []
                positions[pending] = (number, len(spaces) + 1)   # a list starts at its first '-'
                key_lines[pending] = pending_line
                indent, pending = spaces, ""
            elif spaces != indent:
                return None
            typed = _one_line_scalar(item)
            if typed is _REFUSED:
                return None
            items.append(intern(typed) if type(typed) is str else typed)
            last = number
        elif marker:
            if data is None:
                if start:
                    return None     # an empty document
            else:
                docs.append(_PlainDocument(data, stream, len(docs), start or root, max(start or root, last),
                                           positions, key_lines, root))
            data, start, items, pending = None, number, None, ""
    if data is None:
        return None             # an empty document at the end, or no document at all
    docs.append(_PlainDocument(data, stream, len(docs), start or root, max(start or root, last), positions,
                               key_lines, root))
    stream.count = len(docs)
    return docs


class _Stream:
    """The text behind fast-path documents, parsed by the event loop if a node tree is asked for."""

    __slots__ = ("path", "text", "offset", "count", "nodes")

    def __init__(self, path: str, text: str, offset: int) -> None:
        self.path = path
        self.text = text
        self.offset = offset
        self.count = 0
        self.nodes: list[yaml.Node] | None = None

    def node(self, index: int) -> yaml.Node:
        if self.nodes is None:
            docs, findings = _load_events(self.path, self.text, self.offset)
            if findings or len(docs) != self.count:   # the two paths disagree: a bug, never a silent answer
                raise AssertionError(f"{self.path}: the fast YAML path and the event loop disagree")
            self.nodes = [doc.node for doc in docs]
        return self.nodes[index]


class _PlainDocument(Document):
    """A fast-path document: top-level positions kept from the scan, the node tree built on demand."""

    def __init__(self, data: dict[str, Any], stream: _Stream, index: int, first_line: int, last_line: int,
                 positions: dict[str, tuple[int, int]], key_lines: dict[str, int], root: int) -> None:
        # No ``node`` attribute until asked for: __getattr__ builds it then.
        self.data = data
        self.path = stream.path
        self.first_line = first_line
        self.last_line = last_line
        self._stream = stream
        self._index = index
        self._positions = positions     # value (line, column) of each key
        self._key_lines = key_lines     # the key's line, where it is not its value's (a list)
        self._root = root               # the line of the first key, where the mapping starts

    def __getattr__(self, name: str) -> Any:
        if name == "node":
            node = self._stream.node(self._index)
            self.node = node
            return node
        raise AttributeError(name)

    def position(self, where: tuple[PathKey, ...] = (), *, key: bool = False) -> tuple[int, int]:
        if len(where) > 1:
            return super().position(where, key=key)
        spot = self._positions.get(where[0]) if where else None   # type: ignore[arg-type]
        if spot is None:                # the document, or a key it lacks: the mapping's first key
            return self._root, 1
        if key:
            return self._key_lines.get(where[0], spot[0]), 1  # type: ignore[arg-type]
        return spot

    def value_positions(self) -> dict[str, tuple[int, int]]:
        return dict(self._positions)


class _Frame:
    """An open mapping or sequence while its events arrive."""

    __slots__ = ("node", "nodes", "data", "key_node", "skip", "flow", "mapping")

    def __init__(self, node: yaml.CollectionNode, data: Any, flow: bool, mapping: bool) -> None:
        self.node = node
        self.nodes: list[Any] = node.value      # the node's children, appended to as they arrive
        self.data = data
        self.key_node: yaml.Node | None = None   # mappings: the key whose value comes next
        self.skip = False                         # mappings: that key is refused, drop its value
        self.flow = flow
        self.mapping = mapping


class _Builder:
    """Plain data and a node tree from parser events, collecting findings instead of raising."""

    def __init__(self, path: str, text: str, line_offset: int) -> None:
        self.path = path
        self.text = text
        self.offset = line_offset
        self.findings: list[Finding] = []
        self.docs: list[Document] = []
        self.stack: list[_Frame] = []
        self.root: tuple[yaml.Node, Any] | None = None
        self.doc_findings = 0
        self.first_line = 1
        self.last: tuple[int, int, bool] = (0, 0, False)   # end (line, column) of the last content, block scalar?
        self.lines: list[str] | None = None

    def run(self) -> None:
        # One loop with everything it touches bound to locals: this runs once per event (about 25
        # per ledger entry), so attribute and global look-ups and method calls are most of its cost.
        # Scalars, the bulk of the events, are handled inline; rarer events call methods.
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        document_start, document_end = yaml.DocumentStartEvent, yaml.DocumentEndEvent
        scalar_node, mark_type = yaml.ScalarNode, yaml.Mark
        constant, numeric, str_tag = _CONSTANTS.get, _NUMERIC, _STR_TAG
        stack, findings, offset = self.stack, self.findings, self.offset
        event: Any
        for event in yaml.parse(self.text, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader)):
            kind = type(event)
            if kind is scalar_event:
                decorated = event.anchor is not None or event.tag is not None
                if decorated:
                    self._refuse_decorations(event)
                value: str = event.value
                style = event.style or None
                end = event.end_mark
                if value or style:
                    self.last = (end.line, end.column, style == "|" or style == ">")
                start = event.start_mark
                if offset:
                    start = mark_type("", 0, start.line + offset, start.column, None, None)  # type: ignore[arg-type]
                    end = mark_type("", 0, end.line + offset, end.column, None, None)  # type: ignore[arg-type]
                node = scalar_node(str_tag, value, start, end, style)
                data = (value if style else constant(value, value) if value[:1] not in numeric
                        else _plain_number(value))
                if not stack:
                    self.root = (node, data)
                else:
                    frame = stack[-1]
                    if not frame.mapping:
                        frame.nodes.append(node)
                        frame.data.append(data)
                    elif frame.key_node is None:
                        frame.key_node = node
                        # The common key is neither a merge key nor a duplicate: only a refused one
                        # pays for the call that reports it.
                        if (value == "<<" and style is None) or value in frame.data:
                            frame.skip = self._refused_key(frame, node)
                            decorated = True
                        else:
                            frame.skip = False
                    else:
                        frame.nodes.append((frame.key_node, node))
                        if not frame.skip:
                            frame.data[frame.key_node.value] = data
                        frame.key_node = None
                if decorated and len(findings) >= MAX_FINDINGS:   # only a finding can reach the limit
                    return
                continue
            if kind is mapping_start or kind is sequence_start:
                if not self._open(event):
                    return
            elif kind is mapping_end or kind is sequence_end:
                self._close(event)
            elif kind is alias_event:
                self._report("F007", f"YAML alias '*{event.anchor}' is not allowed in records", event.start_mark,
                             "write the value out in full")
                mark = self._mark(event.start_mark)
                self._attach(scalar_node(str_tag, "", mark, mark), None)
            elif kind is document_start:
                self._start_document(event)
            elif kind is document_end:
                self._end_document()
            if len(findings) >= MAX_FINDINGS:
                return

    # -- positions and findings --------------------------------------------------
    def _mark(self, mark: Any) -> Any:
        if not self.offset:
            return mark
        return yaml.Mark("", 0, mark.line + self.offset, mark.column, None, None)  # type: ignore[arg-type]

    def _report(self, code: str, message: str, mark: Any, hint: str | None = None, *, shifted: bool = False) -> None:
        """A finding at a parser mark (``shifted``: a node mark, already in file lines)."""
        self.doc_findings += 1
        line = mark.line + 1 + (0 if shifted else self.offset)
        self.findings.append(error(code, message, self.path, line, mark.column + 1, hint))

    def _refuse_decorations(self, event: Any) -> None:
        if event.anchor is not None:
            self._report("F007", f"YAML anchor '&{event.anchor}' is not allowed in records", event.start_mark,
                         "write the value out in full")
        if event.tag is not None:
            self._report("F009", f"explicit tag '{event.tag}' is not allowed in records", event.start_mark,
                         "remove the tag; records hold plain text, lists and mappings")

    # -- documents ------------------------------------------------------------------
    def _start_document(self, event: Any) -> None:
        self.doc_findings = 0
        self.root = None
        self.first_line = event.start_mark.line + 1 + self.offset if event.explicit else 0
        self.last = (0, 0, False)

    def _end_document(self) -> None:
        if self.root is None:
            return
        node, data = self.root
        first = self.first_line or node.start_mark.line + 1
        if self.doc_findings == 0:
            self.docs.append(Document(data, node, self.path, first, max(first, self._last_line())))

    def _last_line(self) -> int:
        """1-based file line of the document's last content."""
        line, column, block = self.last
        if column == 0:          # an end mark at the start of a line: the content ended on the line before
            line -= 1
        if block:                # a block scalar's end includes trailing blank lines: step back over them
            if self.lines is None:
                self.lines = self.text.split("\n")   # once per stream, however many documents
            lines = self.lines
            while line > 0 and line < len(lines) and not lines[line].strip():
                line -= 1
        return line + 1 + self.offset

    # -- nodes ------------------------------------------------------------------------
    def _open(self, event: Any) -> bool:
        if len(self.stack) >= MAX_DEPTH:
            self._report("F005", f"YAML nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return False
        self._refuse_decorations(event)
        mark = self._mark(event.start_mark)
        flow = bool(event.flow_style)
        if type(event) is yaml.MappingStartEvent:
            frame = _Frame(yaml.MappingNode("tag:yaml.org,2002:map", [], mark, mark, flow), {}, flow, True)
        else:
            frame = _Frame(yaml.SequenceNode("tag:yaml.org,2002:seq", [], mark, mark, flow), [], flow, False)
        self.stack.append(frame)
        return True

    def _close(self, event: Any) -> None:
        frame = self.stack.pop()
        frame.node.end_mark = self._mark(event.end_mark)
        if frame.flow:
            self.last = (event.end_mark.line, event.end_mark.column, False)
        self._attach(frame.node, frame.data)

    def _attach(self, node: yaml.Node, value: Any) -> None:
        if not self.stack:
            self.root = (node, value)
            return
        frame = self.stack[-1]
        if not frame.mapping:
            frame.node.value.append(node)
            frame.data.append(value)
        elif frame.key_node is None:
            frame.key_node = node
            frame.skip = self._refused_key(frame, node)
        else:
            frame.node.value.append((frame.key_node, node))
            if not frame.skip:
                frame.data[frame.key_node.value] = value
            frame.key_node = None

    def _refused_key(self, frame: _Frame, node: yaml.Node) -> bool:
        if not isinstance(node, yaml.ScalarNode):
            self._report("F011", "mapping keys must be plain text", node.start_mark, shifted=True)
            return True
        key = node.value
        if key == "<<" and node.style is None:
            self._report("F008", "merge keys (<<) are not allowed in records", node.start_mark,
                         "write the keys out in full", shifted=True)
            return True
        if key in frame.data:
            self._report("F006", f"duplicate key '{key}'", node.start_mark,
                         "keep one of the two; YAML would silently drop the first", shifted=True)
            return True
        return False


def _plain_number(value: str) -> Any:
    """A plain scalar starting like a number: only decimal integers without a leading zero are typed."""
    return int(value) if _INT.match(value) else value
