"""Backend A: ``docs/OPS_CHANGELOG.md``, Markdown prose with one ``---``-delimited YAML block per entry."""
from __future__ import annotations

from opsgov_hooks.findings import Finding, UsageError
from opsgov_hooks.ledger_io.base import FileBackend, only_match, parsed_documents
from opsgov_hooks.records.ledger import LedgerEntry, parse_changelog
from opsgov_hooks.records.located import at_entry
from opsgov_hooks.records.yamlstrict import Document

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

    def locate(self, path: str, text: str, operation_id: str) -> tuple[int, Document]:
        """The changelog parser finds the entry; its block is the ``---`` pair around that line."""
        entries, _findings = parse_changelog(path, text.encode("utf-8"))
        matches = [e for e in entries if e.operation_id == operation_id]
        if len(matches) != 1:
            what = "no valid ledger entry" if not matches else f"{len(matches)} ledger entries"
            raise UsageError(f"{path} has {what} for {operation_id}; run 'opsgov validate' and fix the ledger")
        lines = text.split("\n")
        inside = at_entry(matches[0])[1] - 1
        opening = max(i for i in range(inside + 1) if lines[i].rstrip() == "---")
        closing = next(i for i in range(opening + 1, len(lines)) if lines[i].rstrip() == "---")
        offset = sum(len(line) + 1 for line in lines[:opening + 1])
        block = "\n".join(lines[opening + 1:closing]) + "\n"
        return only_match(path, [(offset, doc) for doc in parsed_documents(path, block)], operation_id)
