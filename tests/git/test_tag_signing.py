"""Signed ops tags with an SSH key made by the test, verified through ``git verify-tag`` (git/tags.py).

Needs ``ssh-keygen`` (package openssh-client); the test fails, never skips, without it.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Repo, entry_text
from lifecycle_helpers import OP, declare, history, record_args

from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.tags import TagRef, split_signature

pytest_plugins = ["conftest_lifecycle"]

TAG = "ops-2026-01-27-001"
CONFIG = "require_signed_tags: true\nallowed_signers_file: .github/allowed_signers\n"


def _ssh_key(tmp_path: Path, name: str) -> tuple[Path, str]:
    keygen = shutil.which("ssh-keygen")
    assert keygen is not None, "ssh-keygen is required for signing tests: install openssh-client"
    key = tmp_path / name
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key, (tmp_path / f"{name}.pub").read_text().strip()


@pytest.fixture
def signing(declared: Repo, tmp_path: Path) -> tuple[Repo, Path, str]:
    """The repository signs with an SSH key; the committed allowed-signers file maps it to bob."""
    key, public = _ssh_key(tmp_path, "bob_key")
    declared.git("config", "gpg.format", "ssh")
    declared.git("config", "user.signingkey", str(key))
    declared.write(".opsgov.yaml", CONFIG)
    declared.write(".github/allowed_signers", f"bob@example.com {public}\n")
    return declared, key, public


def test_signed_tag_by_the_approver(signing, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo, _key, _public = signing
    assert run_cli(*record_args())[0] == 0
    head = repo.commit("record")
    assert run_cli("tag", OP, "--sign") == (0, f"created tag {TAG} at {head[:12]} (signed)\n", "")
    valid, said = Git(str(repo.path)).verify_tag(TAG, str(repo.path / ".github/allowed_signers"))
    assert valid is True and 'Good "git" signature for bob@example.com with ED25519 key' in said
    assert history(repo, head, head, mode="all") == []


def test_require_signed_tags_refuses_an_unsigned_tag(signing, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo, _key, _public = signing
    run_cli(*record_args())
    repo.commit("record")
    code, out, _ = run_cli("tag", OP)
    assert (code, out.splitlines()[0]) == (1, (
        f"refs/tags/{TAG}:1:1: T007 require_signed_tags is set: the tag must be signed (fix: run again with --sign)"))
    assert repo.git("tag", "--list") == ""


def test_a_signer_who_is_not_the_approver_is_refused_and_the_tag_removed(signing, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo, _key, _public = signing
    run_cli(*record_args(approved_by="carol@example.com"))
    repo.commit("record")
    code, out, _ = run_cli("tag", OP, "--sign")
    assert (code, out) == (1, (
        f"refs/tags/{TAG}:1:1: T008 tag {TAG} is signed by 'bob@example.com', not by the approver 'carol@example.com' "
        "(fix: the approver closes (and signs) the operation)\n"
        "Found 1 error(s), 0 warning(s).\n"
        f"opsgov: tag {TAG} did not verify and was removed again\n"))
    assert repo.git("tag", "--list") == ""


def test_consistency_reports_unsigned_and_unknown_signers(signing, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo, _key, _public = signing
    declare(repo, "OPS-2026-01-27-002", commit=False)
    repo.write("ops/ledger/2026-01.yaml", entry_text(OP) + entry_text("OPS-2026-01-27-002"))
    head = repo.commit("record two")
    body = entry_text(OP).removeprefix("---\n")
    repo.git("tag", "-a", "--no-sign", "-m", f"{OP}: t\n\n{body}", TAG)
    stranger, _ = _ssh_key(tmp_path, "stranger")
    repo.git("config", "user.signingkey", str(stranger))
    body2 = entry_text("OPS-2026-01-27-002").removeprefix("---\n")
    repo.git("tag", "-s", "-m", f"OPS-2026-01-27-002: t\n\n{body2}", "ops-2026-01-27-002")
    lines = history(repo, head, head, mode="all")
    assert lines[0] == (f"refs/tags/{TAG}:1:1: T007 tag {TAG} has no valid signature: error: no signature found "
                        "(fix: close operations with 'opsgov tag OPS-ID --sign' and list signing keys in "
                        "allowed_signers_file)")
    assert lines[1].startswith("refs/tags/ops-2026-01-27-002:1:1: T007 tag ops-2026-01-27-002 has no valid "
                               "signature: ")
    assert len(lines) == 2


def test_the_allowed_signers_file_comes_from_the_trusted_revision(signing, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """A change cannot vouch for its own key: signers are read at the base, not in the judged tree."""
    repo, _key, _public = signing
    run_cli(*record_args())
    base = repo.commit("record")
    assert run_cli("tag", OP, "--sign")[0] == 0
    repo.write(".github/allowed_signers", "")  # the judged change empties the file
    head = repo.commit("drop signers")
    assert history(repo, base, head) == []
    assert [line.split(" ")[1] for line in history(repo, head, head, mode="all")] == ["T007"]


def test_a_pushed_tag_is_read_and_verified_from_its_object_alone(signing, run_cli) -> None:  # type: ignore[no-untyped-def]
    """In a pre-receive hook the ref does not exist yet: the tag is read and verified from the object."""
    repo, _key, _public = signing
    assert run_cli(*record_args())[0] == 0
    head = repo.commit("record")
    assert run_cli("tag", OP, "--sign")[0] == 0
    git = Git(str(repo.path))
    as_listed = next(t for t in git.ops_tags() if t.name == TAG)
    repo.git("tag", "-d", TAG)   # the object stays, as a pushed one sits in quarantine without its ref
    pushed = git.pushed_tag(f"refs/tags/{TAG}", as_listed.object_sha)
    assert pushed == as_listed and pushed.signature.startswith("-----BEGIN SSH SIGNATURE-----")
    assert pushed.target_sha == head
    signers = str(repo.path / ".github/allowed_signers")
    assert git.verify_tag(TAG, signers)[0] is False   # no ref any more
    valid, said = git.verify_tag(TAG, signers, pushed.object_sha)
    assert valid is True and "bob@example.com" in said
    assert git.pushed_tag("refs/tags/x", head) == TagRef("refs/tags/x", "commit", head, head, "", "", "")
    assert git.pushed_tag("refs/tags/x", "0" * 40) is None


@pytest.mark.parametrize("body", [
    b"entry\n", b"entry\n-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n",
    b"quoted -----BEGIN SSH SIGNATURE----- mid-line\n", b"-----BEGIN SSH SIGNATURE-----\nx\n",
    b"a\n-----BEGIN PGP SIGNATURE-----\n1\n-----END PGP SIGNATURE-----\n-----BEGIN SSH SIGNATURE-----\n2\n",
])
def test_a_tag_message_is_split_from_its_signature_where_git_splits_it(repo: Repo, body: bytes) -> None:
    """Against git's own split (for-each-ref's %(contents) and %(contents:signature)) of the same object."""
    repo.write("f", "x\n")
    head = repo.commit("c")
    raw = b"object " + head.encode() + b"\ntype commit\ntag t\ntagger A <a@b> 0 +0000\n\n" + body
    sha = subprocess.run(["git", "hash-object", "-t", "tag", "-w", "--stdin"], cwd=repo.path, input=raw,
                         capture_output=True, check=True).stdout.decode().strip()
    repo.git("update-ref", "refs/tags/t", sha)
    listed = subprocess.run(["git", "for-each-ref", "--format=%(contents)%00%(contents:signature)%00",
                             "refs/tags/t"], cwd=repo.path, capture_output=True, check=True).stdout.decode()
    contents, signature, _end = listed.split("\0")
    message, got = split_signature(body)
    assert got.decode() == signature and contents.startswith(message.decode())
