"""The ``ops-*`` tags a push brings, judged by the server's pre-receive hook before they land.

A tag seals an operation's ledger entry as it was at closing. ``opsgov tag`` makes a tag that
is right by construction; one made by hand, or copied from another operation, or re-pointed,
is judged here by the same rules ``check --all`` applies to every tag (T001, T003-T008), with
the ref read from the pushed object (in a pre-receive hook the ref does not exist yet):

* against the ledger of the revision the server will have at its HEAD after the push (the
  pushed value of HEAD's branch when the push updates it), as ``check --all`` will judge it;
* with the policy and the allowed signers of the server's HEAD before the push (trusted);
* a push that moves an existing ``ops-*`` tag is refused (T009: a seal is never moved);
* a tag the push creates closes its operation for the push's own commits built on it, as it will
  for the next push (:class:`~opsgov_hooks.check.judge.Judge`'s ``pushed``).

A deleted tag brings nothing to judge (``receive.denyDeletes`` is git's own setting for that).
"""
from __future__ import annotations

from collections.abc import Sequence

from opsgov_hooks.check.change_records import RecordCache
from opsgov_hooks.check.pipeline import trusted_policy
from opsgov_hooks.check.runner import run_tag_rules
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.tags import OPS_TAGS, TagRef
from opsgov_hooks.rules.context import CheckContext

_PREFIX = OPS_TAGS.removesuffix("*")   # refs/tags/ops-


def _absent(sha: str) -> bool:
    return set(sha) == {"0"}


def created_tags(git: Git, updates: Sequence[tuple[str, str, str]]) -> list[TagRef]:
    """The ``ops-*`` tags ``updates`` (a pre-receive hook's lines) create, read from the pushed objects."""
    found = (git.pushed_tag(ref, new) for old, new, ref in updates
             if ref.startswith(_PREFIX) and _absent(old) and not _absent(new))
    return [tag for tag in found if tag is not None]


def _moved(updates: Sequence[tuple[str, str, str]]) -> list[Finding]:
    findings = []
    for old, new, ref in updates:
        if ref.startswith(_PREFIX) and not _absent(old) and not _absent(new) and old != new:
            name = ref.removeprefix("refs/tags/")
            findings.append(error("T009", f"tag {name} already exists here: this push moves it from {old[:12]} to "
                                  f"{new[:12]}; a tag seals its operation's entry and is never moved", ref,
                                  hint=f"push the tag as the server has it ('git fetch origin tag {name}'); a "
                                       "changed operation is a new operation ('opsgov new')"))
    return findings


def pushed_tag_findings(git: Git, updates: Sequence[tuple[str, str, str]], tags: Sequence[TagRef]) -> list[Finding]:
    """Findings for the ``ops-*`` tags a push creates (``tags``, from :func:`created_tags`) or moves."""
    findings = _moved(updates)
    if not tags:
        return findings
    trusted = git.head()
    branch = git.head_branch()
    after = next((new for _old, new, ref in updates if ref == branch and not _absent(new)), None)
    judged = after or trusted or tags[0].target_sha or None
    policy = trusted_policy(git, trusted)
    records = RecordCache(git, policy, tags)
    state = records.load(records.tree_files(judged))
    ctx = CheckContext(policy=policy, head_records=state, base_records=state, mode="pre-receive", tags=list(tags),
                       head_sha=judged, base_sha=trusted, git=git)
    return findings + run_tag_rules(ctx)
