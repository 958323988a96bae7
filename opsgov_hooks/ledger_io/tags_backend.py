"""Backend C: the entry lives in the message of the operation's annotated ``ops-*`` tag.

A tag is written once and never moved, so until ``opsgov tag`` closes the
operation its entry waits, unshared, in the repository's git directory
(``.git/opsgov/pending/<ID>.yaml``). ``opsgov tag`` makes that text the tag's
message and removes the pending file. Once sealed, an entry cannot change: a
later rollback needs a file backend.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any

from opsgov_hooks.findings import Finding, UsageError, error
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.ledger_io.base import FileBackend, Plan, only_match, parsed_documents
from opsgov_hooks.records.ids import tag_name
from opsgov_hooks.records.ledger import LedgerEntry, parse_tag_entry
from opsgov_hooks.records.yamlstrict import Document


class TagsBackend(FileBackend):
    name = "tags"

    def __init__(self, git: Git, lock_path: str) -> None:
        self.git = git
        self.pending_dir = os.path.join(git.common_dir(), "opsgov", "pending")
        super().__init__(self.pending_dir, lock_path)

    def file_for(self, operation_id: str) -> str:
        return f"{operation_id}.yaml"

    def label(self, operation_id: str) -> str:
        return os.path.relpath(os.path.join(self.pending_dir, self.file_for(operation_id)), self.git.root)

    def parse(self, path: str, raw: bytes) -> tuple[list[LedgerEntry], list[Finding]]:
        label = self.label(path.removesuffix(".yaml"))
        entry, findings = parse_tag_entry(label, raw.decode("utf-8", "replace"))
        return ([entry] if entry is not None else []), findings

    def append_text(self, before: str, entry_text: str, newline: str) -> str:
        return before + entry_text

    def locate(self, path: str, text: str, operation_id: str) -> tuple[int, Document]:
        return only_match(path, [(0, doc) for doc in parsed_documents(path, text)], operation_id)

    def plan_append(self, fields: Mapping[str, Any]) -> Plan:
        op_id = str(fields["operation_id"])
        sealed = self.git.local_tag(tag_name(op_id))
        plan = super().plan_append(fields)
        plan.path = self.label(op_id)
        if sealed is not None:
            plan.findings.insert(0, error("T009", f"{op_id} is already sealed in tag {tag_name(op_id)}",
                                          f"refs/tags/{tag_name(op_id)}"))
        return plan

    def plan_update(self, operation_id: str, changes: Mapping[str, Any]) -> Plan:
        if self.read(self.file_for(operation_id)) is None and self.git.local_tag(tag_name(operation_id)):
            raise UsageError(f"{operation_id} is sealed in tag {tag_name(operation_id)} and opsgov never moves a "
                             "tag: with the tags ledger backend an entry cannot change once closed. Record "
                             "rollbacks in a file backend (ledger: {backend: yaml} in .opsgov.yaml)")
        plan = super().plan_update(operation_id, changes)
        plan.path = self.label(operation_id)
        return plan

    def pending(self) -> tuple[list[LedgerEntry], list[Finding]]:
        """Every entry waiting for its tag."""
        entries: list[LedgerEntry] = []
        findings: list[Finding] = []
        names = sorted(os.listdir(self.pending_dir)) if os.path.isdir(self.pending_dir) else []
        for name in names:
            raw = self.read(name)
            if name.endswith(".yaml") and raw is not None:
                got, problems = self.parse(name, raw)
                entries += got
                findings += problems
        return entries, findings

    def pending_text(self, operation_id: str) -> str | None:
        raw = self.read(self.file_for(operation_id))
        return None if raw is None else raw.decode("utf-8", "replace")

    def discard(self, operation_id: str) -> None:
        """Forget a pending entry once its tag carries it."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.pending_dir, self.file_for(operation_id)))
