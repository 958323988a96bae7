"""Signatures through git's own signing: verify a commit or tag, create a signed commit, ask the graph.

git does the cryptography (``gpg.format``: openpgp, ssh or x509; ``user.signingkey``); opsgov never
holds a key. SSH signatures are verified against an allowed-signers file the caller names (the
trusted revision's copy); what git reports is parsed here into who signed and with which key.
"""
from __future__ import annotations

import contextlib
import os
import dataclasses
import re
import tempfile
from collections.abc import Iterator, Sequence

from opsgov_hooks.git.gitio import Git

from opsgov_hooks.git.process import GitError, git_env, run_git

# What git (through ssh-keygen, gpg or gpgsm) says about a signature it checked.
_SSH_GOOD = re.compile(r'Good "git" signature (?:for (\S+) )?with (\S+) key (\S+)')
_GPG_GOOD = re.compile(r"\[GNUPG:\] GOODSIG \S+ ([^\n]+)")
_GPG_FPR = re.compile(r"\[GNUPG:\] VALIDSIG (\S+)")


@dataclasses.dataclass(frozen=True)
class Signature:
    """A checked signature: valid only when git accepted it (and, for SSH, an allowed signer made it)."""

    valid: bool
    signer: str | None        # the SSH principal of the allowed-signers file, or the GPG/X.509 user id
    fingerprint: str | None   # "ED25519 SHA256:..." (SSH) or the key's fingerprint (GPG/X.509)
    output: str               # what git said, for the finding's message

    @property
    def reason(self) -> str:
        """One line saying why the signature is not valid (empty when it is)."""
        if self.valid:
            return ""
        said = " ".join(self.output.split())
        if not said or "no signature found" in said:
            return "the commit is not signed"
        if self.fingerprint and not self.signer:
            return f"key {self.fingerprint} is not in the allowed signers file"
        return said[:200]


def parse_signature(valid: bool, output: str) -> Signature:
    ssh = _SSH_GOOD.search(output)
    if ssh:
        return Signature(valid, ssh[1], f"{ssh[2]} {ssh[3]}", output)
    good, fpr = _GPG_GOOD.search(output), _GPG_FPR.search(output)
    return Signature(valid, good[1].strip() if good else None, fpr[1] if fpr else None, output)


def _config(allowed_signers: str | None) -> list[str]:
    return ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []


@contextlib.contextmanager
def allowed_signers_file(git: Git, trusted: str | None, path: str | None) -> Iterator[tuple[str | None, str]]:
    """The allowed-signers file ``path`` as the trusted revision holds it, in a temporary file for
    ``gpg.ssh.allowedSignersFile`` (never the judged tree's copy): (file, ""), (None, "") when no file is
    configured (git's own configuration answers), or (None, the problem) when it cannot be read there."""
    if not path:
        yield None, ""
        return
    kind, data = git.read_objects([f"{trusted}:{path}"])[0] if trusted else ("missing", None)
    if kind != "blob" or data is None:
        yield None, f"the allowed signers file {path} is not in the trusted revision {str(trusted)[:12]}"
        return
    fd, temp = tempfile.mkstemp(prefix="opsgov-allowed-signers-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        yield temp, ""
    finally:
        os.unlink(temp)


def verify_commit(git: Git, sha: str, allowed_signers: str | None) -> Signature:
    """``git verify-commit --raw``: is ``sha`` signed, by whom, with which key."""
    proc = run_git((*_config(allowed_signers), "verify-commit", "--raw", "--end-of-options", sha), git.root)
    return parse_signature(proc.returncode == 0, (proc.stdout + proc.stderr).decode("utf-8", "replace"))


def verify_commits(git: Git, shas: Sequence[str], allowed_signers: str | None) -> dict[str, Signature]:
    """Many commits' signatures from one ``git log --no-walk`` (git still asks ssh-keygen or gpg once per
    commit, but no process of ours is started per commit). Valid means git's verdict ``G``: a good
    signature by a key it trusts (for SSH, one the allowed-signers file names)."""
    if not shas:
        return {}
    out = git.run(*_config(allowed_signers), "log", "--no-walk=unsorted", "--format=%H%x00%G?%x00%GF%x00%GG%x01",
                  "--end-of-options", *dict.fromkeys(shas))
    found = {}
    for record in out.decode("utf-8", "replace").split("\x01"):
        parts = record.lstrip("\n").split("\0")
        if len(parts) == 4:
            sha, verdict, fingerprint, said = parts
            signature = parse_signature(verdict == "G", said)
            if signature.fingerprint is None and fingerprint:
                signature = dataclasses.replace(signature, fingerprint=fingerprint)
            found[sha] = signature
    return found


def last_commits_touching(git: Git, rev: str, paths: Sequence[str], folder: str) -> dict[str, str]:
    """For each of ``paths`` (all under ``folder``), the newest commit reachable from ``rev`` that changed it.

    A few paths: one ``git log -n 1`` each. Many: one walk of ``folder``'s history, stopped at the
    last path found (merges list no files there; a merge that wrote a record itself is caught by the
    caller, who compares what the commit found wrote with what the tree holds).
    """
    if len(paths) <= 4:
        return {p: c for p in paths if (c := last_commit_touching(git, rev, p)) is not None}
    out = git.run("log", "-z", "--format=%x01%H", "--name-only", "--no-renames", "--end-of-options", rev, "--",
                  folder)
    wanted, found = set(paths), {}
    for record in out.split(b"\x01")[1:]:
        sha, _, names = record.partition(b"\0")
        for name in names.split(b"\0"):
            path = name.strip(b"\n").decode("utf-8", "surrogateescape")
            if path in wanted and path not in found:
                found[path] = sha.decode()
        if len(found) == len(wanted):
            break
    return found


def last_commit_touching(git: Git, rev: str, path: str) -> str | None:
    """The newest commit reachable from ``rev`` that changed ``path`` (git's history simplification)."""
    out = git.run("log", "-n", "1", "--format=%H", "--end-of-options", rev, "--", path, check=False).strip()
    return out.decode() if out else None


def descendants(git: Git, commit: str, head: str) -> frozenset[str]:
    """The commits reachable from ``head`` that descend from ``commit`` (one ``rev-list --ancestry-path``)."""
    return frozenset(git.rev_list("--ancestry-path", "--end-of-options", f"{commit}..{head}"))


def signing_format(git: Git) -> tuple[str, str | None]:
    """(gpg.format, user.signingkey) as the user's git configuration has them."""
    return (git.config_get("gpg.format") or "openpgp"), git.config_get("user.signingkey")


def commit_signed(git: Git, path: str, message: str) -> str:
    """Commit ``path`` alone (added first) with a signature made by git's configured signing; its sha.

    The commit goes through the repository's hooks like any other (the gate knows an approval
    commit); the message goes in on stdin and no editor opens.
    """
    git.run("add", "--", path)
    proc = run_git(("commit", "-q", "-S", "-F", "-", "--", path), git.root, stdin=message.encode("utf-8"),
                   env={**git_env(), "GIT_EDITOR": "true"})
    if proc.returncode != 0:
        said = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
        fix = ("set up git's signing (e.g. 'git config gpg.format ssh' and 'git config user.signingkey "
               "~/.ssh/id_ed25519.pub'), then run again" if "sign" in said.lower() else
               "fix what the commit's hooks report, then run again")
        raise GitError(f"git commit -S failed: {said}\n{fix}")
    head = git.head()
    assert head is not None
    return head
