"""The strict YAML loader that every command shares.

Why not ``yaml.safe_load``: it silently turns ``no`` into ``False``, ``010`` into 8
and ``12:30`` into 750, keeps the last of two duplicate keys, and expands aliases
(how YAML bombs and copy-pasted approvals work). Records are audit evidence, so
the loader keeps what the user wrote:

* scalars stay strings, except the unambiguous plain forms ``true``/``false``,
  ``null``/``~``/empty, and decimal integers without a leading zero;
* duplicate keys, anchors, aliases, merge keys and explicit tags are findings;
* the C parser is used when PyYAML has it (about 6x faster than pure Python).

Every problem is a :class:`~opsgov_hooks.findings.Finding` located at the
offending key or value; nothing here raises on bad input.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any, Union

import yaml

from opsgov_hooks.findings import Finding, error

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64

_Loader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})

PathKey = Union[str, int]


@dataclasses.dataclass
class Document:
    """One YAML document: its plain value, and its node tree for locating problems."""

    data: Any
    node: yaml.Node
    path: str

    def position(self, where: tuple[PathKey, ...] = (), *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at ``where`` (or of its key).

        Walks as far as the path exists: a missing key is reported at its mapping.
        """
        node = self.node
        for part in where:
            child = _child(node, part)
            if child is None:
                break
            key_node, value_node = child
            if key and part == where[-1] and key_node is not None:
                node = key_node
                break
            node = value_node
        return node.start_mark.line + 1, node.start_mark.column + 1


def _child(node: yaml.Node, part: PathKey) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == part:
                return k, v
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


def check_bytes(path: str, raw: bytes) -> tuple[str | None, list[Finding]]:
    """Decode a record file, refusing what is not small UTF-8 text."""
    if len(raw) > MAX_BYTES:
        return None, [error("F004", f"file is {len(raw)} bytes, over the 1 MiB limit for records", path,
                            hint="split the ledger by month (ops/ledger/YYYY-MM.yaml)")]
    if not raw.strip():
        return None, [error("F003", "file is empty", path)]
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
    return text.removeprefix("\ufeff"), []


def load_documents(path: str, text: str, *, line_offset: int = 0) -> tuple[list[Document], list[Finding]]:
    """Parse every document of a YAML stream strictly.

    ``line_offset`` shifts reported lines, for YAML embedded in a larger file
    (Markdown front matter, changelog blocks).
    """
    findings = _find_anchors(path, text, line_offset) if ("&" in text or "*" in text) else []
    if findings:
        return [], findings
    docs: list[Document] = []
    try:
        loader = _Loader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                builder = _Builder(path, line_offset)
                data = builder.build(node, 0)
                findings.extend(builder.findings)
                if not builder.findings:
                    docs.append(Document(data, _shift(node, line_offset), path))
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "cannot parse").strip()
        hint = ("quote a value that contains ': ', e.g. rollback_ref: 'command: git revert abc1234'"
                if "mapping values are not allowed" in problem else None)
        findings.append(error("F005", f"YAML syntax error: {problem}", path, line + line_offset, col, hint))
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        findings.append(error("F005", f"YAML syntax error: {type(exc).__name__}", path, 1 + line_offset, 1))
    return docs, findings


def _find_anchors(path: str, text: str, line_offset: int) -> list[Finding]:
    """Anchors and aliases, found on the event stream before anything is composed."""
    findings: list[Finding] = []
    try:
        for event in yaml.parse(text, Loader=_Loader):
            anchor = getattr(event, "anchor", None)
            if anchor is None:
                continue
            mark = event.start_mark
            line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
            findings.append(error("F007", f"YAML {kind} '{anchor}' is not allowed in records", path,
                                  line + line_offset, col,
                                  hint="write the value out in full"))
    except yaml.YAMLError:
        return []  # the composer reports the syntax error with its position
    return findings


def _shift(node: yaml.Node, line_offset: int) -> yaml.Node:
    if line_offset:
        for n in _walk(node):
            n.start_mark = yaml.Mark("", 0, n.start_mark.line + line_offset, n.start_mark.column, None, None)  # type: ignore[arg-type]
    return node


def _walk(node: yaml.Node) -> Iterator[yaml.Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.extend((k, v))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)


class _Builder:
    """Turns a node tree into plain data, collecting findings instead of raising."""

    def __init__(self, path: str, line_offset: int) -> None:
        self.path = path
        self.line_offset = line_offset
        self.findings: list[Finding] = []

    def _report(self, code: str, message: str, node: yaml.Node, hint: str | None = None) -> None:
        mark = node.start_mark
        self.findings.append(error(code, message, self.path, mark.line + 1 + self.line_offset,
                                   mark.column + 1, hint))

    def build(self, node: yaml.Node, depth: int) -> Any:
        if depth > MAX_DEPTH:
            self._report("F005", f"YAML nested deeper than {MAX_DEPTH} levels", node)
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self._report("F009", f"explicit tag {node.tag} is not allowed", node)
            return [self.build(item, depth + 1) for item in node.value]
        if node.tag != _MAP_TAG:
            self._report("F009", f"explicit tag {node.tag} is not allowed", node)
        assert isinstance(node, yaml.MappingNode)
        return self._mapping(node, depth)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag != _STR_TAG:
            self._report("F009", f"explicit tag {node.tag} is not allowed", node, hint="remove the tag")
            return node.value
        value: str = node.value
        if node.style:  # quoted or block scalar: always a string (plain is None or '')
            return value
        if value in _BOOLS:
            return _BOOLS[value]
        if value in _NULLS:
            return None
        if _INT.match(value):
            return int(value)
        return value

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._report("F011", "mapping keys must be plain text", key_node)
                continue
            key = key_node.value
            if key == "<<" and not key_node.style:
                self._report("F008", "merge keys (<<) are not allowed in records", key_node,
                             hint="write the keys out in full")
                continue
            if key in result:
                self._report("F006", f"duplicate key '{key}'", key_node,
                             hint="keep one of the two; YAML would silently drop the first")
                continue
            result[key] = self.build(value_node, depth + 1)
        return result
