"""Backend A: ``docs/OPS_CHANGELOG.md``, Markdown prose with one ``---``-delimited YAML block per entry."""
from __future__ import annotations

from opsgov_hooks.findings import Finding
from opsgov_hooks.ledger_io.base import FileBackend, parsed_documents
from opsgov_hooks.records.ledger import LedgerEntry, parse_changelog, yaml_blocks
from opsgov_hooks.yamlstrict import Document

HEADER = ("# Ops changelog\n\nThe sign-off ledger (Ops Governor v1.0, P5, option A): one YAML block per "
          "operation, appended by `opsgov ledger record`.\n")


class MarkdownBackend(FileBackend):
    name = "markdown"

    def __init__(self, root: str, lock_path: str, changelog: str) -> None:
        super().__init__(root, lock_path)
        self.changelog = changelog

    def file_for(self, operation_id: str) -> str:
        return self.changelog

    def parse(self, path: str, raw: bytes) -> tuple[list[LedgerEntry], list[Finding]]:
        return parse_changelog(path, raw)

    def append_text(self, before: str, entry_text: str, newline: str) -> str:
        if not before:
            before = HEADER.replace("\n", newline)
        elif not before.endswith("\n"):
            before += newline
        return before + newline + "---" + newline + entry_text + "---" + newline

    def documents(self, path: str, text: str) -> list[tuple[int, Document]]:
        """Each block is parsed on its own; its offset is where its first line starts in the file."""
        starts = _line_starts(text)
        found = []
        blocks, _problems = yaml_blocks(text)
        for block, first_line in blocks:
            offset = starts[first_line - 1] if first_line - 1 < len(starts) else len(text)
            found += [(offset, doc) for doc in parsed_documents(path, block)]
        return found


def _line_starts(text: str) -> list[int]:
    """Character offset of each line, split exactly as :func:`yaml_blocks` splits them."""
    starts, position = [], 0
    for line in text.splitlines(keepends=True):
        starts.append(position)
        position += len(line)
    return starts
