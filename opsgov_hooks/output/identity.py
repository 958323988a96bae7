"""What the CI formats share: a finding's fingerprint, and where a code's documentation lives.

A fingerprint lets code scanning and GitLab recognise one finding from run to run: the
code, the path and the message, with the commit id taken out (a rebased branch keeps
its findings), and the finding's rank among identical ones (in file order), so a line
moving down a file keeps its fingerprint while two identical findings still differ.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from opsgov_hooks.findings import Finding

DOCS_URL_VARIABLE = "OPSGOV_DOCS_URL"


def _without_commit(text: str, commit: str | None) -> str:
    if not commit:
        return text
    return text.replace(commit, "<commit>").replace(commit[:12], "<commit>")


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One stable hexadecimal fingerprint per finding, in the same order."""
    seen: dict[str, int] = {}
    found = []
    for f in findings:
        key = "\0".join((f.code, _without_commit(f.path, f.commit), _without_commit(f.message, f.commit)))
        rank = seen.get(key, 0)
        seen[key] = rank + 1
        found.append(hashlib.sha256(f"{key}\0{rank}".encode("utf-8", "surrogateescape")).hexdigest())
    return found


def docs_url() -> str | None:
    """The base URL of opsgov's docs/ folder (``$OPSGOV_DOCS_URL``), or None when nobody said where it is.

    opsgov cannot know where its own documentation is hosted; the GitHub action sets it to
    the action's repository at its ref, a GitLab job can set it to wherever opsgov is mirrored.
    """
    url = os.environ.get(DOCS_URL_VARIABLE, "").strip().rstrip("/")
    return url if url.startswith(("https://", "http://")) else None


def rule_url(code: str) -> str | None:
    """The code's entry in docs/rules.md (its heading anchor), when the docs URL is known."""
    base = docs_url()
    return f"{base}/rules.md#{code.lower()}" if base else None
