"""Backend B (the default): ``ops/ledger/YYYY-MM.yaml``, one ``---`` document per entry, by the id's month."""
from __future__ import annotations

from opsgov_hooks.findings import Finding
from opsgov_hooks.ledger_io.base import FileBackend, only_match, parsed_documents
from opsgov_hooks.records.ledger import LedgerEntry, parse_ledger_yaml
from opsgov_hooks.records.yamlstrict import Document


class YamlBackend(FileBackend):
    name = "yaml"

    def __init__(self, root: str, lock_path: str, ledger_dir: str) -> None:
        super().__init__(root, lock_path)
        self.ledger_dir = ledger_dir

    def file_for(self, operation_id: str) -> str:
        return f"{self.ledger_dir}/{operation_id[4:11]}.yaml"

    def parse(self, path: str, raw: bytes) -> tuple[list[LedgerEntry], list[Finding]]:
        return parse_ledger_yaml(path, raw)

    def append_text(self, before: str, entry_text: str, newline: str) -> str:
        if before and not before.endswith("\n"):
            before += newline
        return before + "---" + newline + entry_text

    def locate(self, path: str, text: str, operation_id: str) -> tuple[int, Document]:
        return only_match(path, [(0, doc) for doc in parsed_documents(path, text)], operation_id)
