"""``opsgov ledger amend OPS-ID --FIELD VALUE...``: correct an entry that no commit holds yet.

The ledger is append-only in *history*: an entry HEAD's tree holds is changed only as
``ledger rollback`` (and the emergency ``ledger approve``) allow. Before that commit it is a
draft, and a draft is corrected in place: the changed values only, the record rules run on the
result before anything is written, and section 6 of the operation's record follows.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TextIO

from opsgov_hooks.findings import UsageError, has_errors
from opsgov_hooks.git.sources import CommitSource
from opsgov_hooks.ledger_io.atomic import locked
from opsgov_hooks.lifecycle.record import check_plan
from opsgov_hooks.lifecycle.signoff_sync import finish_update
from opsgov_hooks.lifecycle.workspace import Workspace, check_operation_id, open_workspace, timestamp_option
from opsgov_hooks.records.located import at_entry
from opsgov_hooks.records.store import record_kind
from opsgov_hooks.speed.records_cache import load_records


def committed_entry(ws: Workspace, operation_id: str) -> str | None:
    """Where HEAD's tree holds the operation's entry ("<path>:<line>"), or None."""
    head = ws.git.head()
    if head is None or ws.policy.ledger_backend == "tags":
        return None
    source = CommitSource(ws.git, head)
    paths = [p for p in source.list([ws.policy.ledger_path]) if record_kind(p, ws.policy) == "ledger"]
    entry = load_records(source, ws.policy, paths=paths).entry(operation_id)
    return None if entry is None else "{}:{}".format(*at_entry(entry)[:2])


TIMESTAMPS = ("approval_timestamp", "execution_timestamp", "rollback_timestamp")


def amend_entry(start: str, operation_id: str, given: Mapping[str, Any], output_format: str,
                out: TextIO, now: datetime.datetime | None = None) -> int:
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    changes = {key: timestamp_option("--" + key.replace("_", "-"), value, moment) if key in TIMESTAMPS else value
               for key, value in given.items() if value is not None}
    if not changes:
        raise UsageError("nothing to amend: give at least one field, e.g. --rollback-ref COMMIT")
    ws = open_workspace(start)
    check_operation_id(operation_id)
    if ws.policy.ledger_backend == "tags":
        raise UsageError("with the tags backend an unsealed entry is pending in .git/opsgov/pending/: record it "
                         "again after removing that file; a sealed tag is never changed")
    where = committed_entry(ws, operation_id)
    if where is not None:
        raise UsageError(f"{operation_id}'s entry is committed ({where} at HEAD), and the ledger is append-only "
                         f"in history: record a rollback with: opsgov ledger rollback {operation_id} --at now "
                         "--evidence TEXT")
    with locked(ws.backend.lock_path):
        plan = ws.backend.plan_update(operation_id, changes)
        findings = check_plan(ws, plan, whole_operation=True)
        if not has_errors(findings):
            ws.backend.commit(plan)
    return finish_update(ws, operation_id, plan, findings, done="amended",
                         refused=": fix the above and run again", output_format=output_format, out=out)
