"""Tags: the ``ops-*`` tags as git stores them, and creating, pushing and verifying one.

A tag is never forced: creating refuses an existing name, pushing refuses to move a
remote tag, and deleting only removes a tag still pointing where this process put it.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from opsgov_hooks.git.objects import ObjectReads
from opsgov_hooks.git.process import run_git

OPS_TAGS = "refs/tags/ops-*"
_TAGOPT = ("config", "--get-regexp", "-z", r"^remote\..*\.tagopt$")


# What git takes for the start of a tag's signature (gpg-interface.c): the last line that opens with one.
_SIGNATURE_STARTS = (b"-----BEGIN PGP SIGNATURE-----", b"-----BEGIN PGP MESSAGE-----",
                     b"-----BEGIN SIGNED MESSAGE-----", b"-----BEGIN SSH SIGNATURE-----")


def split_signature(body: bytes) -> tuple[bytes, bytes]:
    """A tag object's message and its signature (empty when unsigned), split where git splits them."""
    start = -1
    for marker in _SIGNATURE_STARTS:
        at = body.rfind(b"\n" + marker)
        start = max(start, at + 1 if at != -1 else (0 if body.startswith(marker) else -1))
    return (body, b"") if start == -1 else (body[:start], body[start:])


def _names_of(patterns: Sequence[str]) -> tuple[str, ...]:
    return ("for-each-ref", "--format=%(refname)%00", "--end-of-options", *patterns)


@dataclasses.dataclass(frozen=True)
class TagRef:
    """An ``ops-*`` tag as git stores it."""

    ref: str                 # refs/tags/ops-2026-01-27-001
    object_type: str         # "tag" for annotated, "commit" for lightweight
    object_sha: str
    target_sha: str          # the commit the tag points at (peeled)
    tag_name: str            # the name written inside the tag object
    message: str             # subject + body, without the signature
    signature: str
    complete: bool = True    # False: only the name was read, the other fields are empty (see Tags.ops_tags)

    @property
    def name(self) -> str:
        return self.ref.removeprefix("refs/tags/")


class Tags(ObjectReads):
    # -- reading ---------------------------------------------------------------------------
    def ops_tags(self, pattern: str = OPS_TAGS, *, messages: bool = True) -> list[TagRef]:
        """The tags matching ``pattern``. Without ``messages``, only their names are read (``complete``
        is False; the other fields are empty): listing 1,000 names takes git 4 ms where peeling every
        tag object for its target and reading its message takes 37 ms, and a staged change needs
        the rest of only the tags it answers for (:meth:`complete_tags` reads those)."""
        return self._tags([pattern], messages)

    def complete_tags(self, tags: Sequence[TagRef], names: Iterable[str]) -> list[TagRef]:
        """``tags`` with those named ``names`` read in full (one process; already complete ones are kept)."""
        wanted = sorted({t.ref for t in tags if not t.complete} & {f"refs/tags/{n}" for n in names})
        if not wanted:
            return list(tags)
        full = {t.ref: t for t in self._tags(wanted, True)}
        return [full.get(t.ref, t) for t in tags]

    def _tags(self, patterns: Sequence[str], complete: bool) -> list[TagRef]:
        if not complete:
            out = self.run(*_names_of(patterns))
            names = out.decode("utf-8", "replace").split("\0")[:-1]
            return [TagRef(ref.lstrip("\n"), "", "", "", "", "", "", complete=False) for ref in names]
        # %(contents), not subject + body: git joins the lines of a message's first
        # paragraph into one "subject", which would garble an entry written without a title.
        fields = ("%(refname)", "%(objecttype)", "%(objectname)", "%(*objectname)", "%(tag)",
                  "%(contents)", "%(contents:signature)")
        out = self.run("for-each-ref", "--format=" + "%00".join(fields) + "%00", "--end-of-options", *patterns)
        parts = out.decode("utf-8", "replace").split("\0")
        tags = []
        for i in range(0, len(parts) - 1, len(fields)):
            ref, otype, osha, peeled, tagname, message, signature = parts[i:i + len(fields)]
            ref = ref.lstrip("\n")
            target = peeled or osha
            if signature and message.endswith(signature):
                message = message[:-len(signature)]
            tags.append(TagRef(ref, otype, osha, target, tagname, message.rstrip("\n") + "\n", signature))
        return tags

    def tag_dates(self, pattern: str = OPS_TAGS) -> dict[str, str]:
        """ref -> ISO 8601 creation time (the tagger date; the commit date for a lightweight tag)."""
        out = self.run("for-each-ref", "--format=%(refname)%00%(creatordate:iso-strict)%00",
                       "--end-of-options", pattern)
        parts = out.decode("utf-8", "replace").split("\0")
        return {parts[i].lstrip("\n"): parts[i + 1] for i in range(0, len(parts) - 1, 2)}

    def tags_merged_into(self, commit: str, pattern: str = OPS_TAGS) -> set[str]:
        """Names of the tags matching ``pattern`` whose commit is ``commit`` or one of its ancestors."""
        out = self.run("for-each-ref", "--format=%(refname)", f"--merged={commit}", "--end-of-options", pattern)
        return {line.removeprefix("refs/tags/") for line in out.decode("utf-8", "replace").splitlines() if line}

    def local_tag(self, name: str) -> str | None:
        """The object a local tag ref points at, or None."""
        out = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"refs/tags/{name}", check=False)
        return out.decode().strip() or None

    def verify_tag(self, name: str, allowed_signers: str | None, object_sha: str = "") -> tuple[bool, str]:
        """``git verify-tag --raw``: (valid, what git and gpg/ssh-keygen said).

        ``object_sha``: the tag object itself, for a tag whose ref does not exist yet (a push the
        pre-receive hook is judging); else the ref ``refs/tags/<name>``."""
        config = ("-c", f"gpg.ssh.allowedSignersFile={allowed_signers}") if allowed_signers else ()
        proc = run_git((*config, "verify-tag", "--raw", "--end-of-options", object_sha or f"refs/tags/{name}"),
                       self.root)
        return proc.returncode == 0, (proc.stdout + proc.stderr).decode("utf-8", "replace")

    def pushed_tag(self, ref: str, sha: str) -> TagRef | None:
        """The tag ``ref`` becomes when a push sets it to ``sha``, read from the object (in a pre-receive
        hook the ref does not exist yet, so ``for-each-ref`` cannot tell). None: ``sha`` is neither a
        tag object nor a commit (or is missing)."""
        (kind, data), = self.read_objects([sha])
        if data is None or kind not in ("tag", "commit"):
            return None
        if kind == "commit":   # lightweight, as for-each-ref shows one: no tag name, no message
            return TagRef(ref, "commit", sha, sha, "", "", "")
        head, _sep, body = data.partition(b"\n\n")
        headers = dict(line.split(b" ", 1) for line in head.split(b"\n") if b" " in line)
        target = self.peel_commits([sha]).get(sha, "")
        message, signature = split_signature(body)
        return TagRef(ref, "tag", sha, target, headers.get(b"tag", b"").decode("utf-8", "replace"),
                      message.decode("utf-8", "replace").rstrip("\n") + "\n", signature.decode("utf-8", "replace"))

    # -- remotes -------------------------------------------------------------------------------
    def remote_tags(self, remote: str, names: Sequence[str]) -> dict[str, str]:
        """tag name -> object sha on ``remote`` for the given names (one ``ls-remote``)."""
        out = self.run("ls-remote", "--tags", "--refs", "--end-of-options", remote,
                       *[f"refs/tags/{n}" for n in names])
        result = {}
        for line in out.decode("utf-8", "replace").splitlines():
            sha, _, ref = line.partition("\t")
            result[ref.removeprefix("refs/tags/")] = sha
        return result

    def prefetch_tag_names(self, pattern: str = OPS_TAGS) -> None:
        """Start :meth:`ops_tags`' question (names only) now."""
        self.prefetch(*_names_of([pattern]))

    def prefetch_remotes_without_tags(self) -> None:
        """Start :meth:`remotes_without_tags`' question now."""
        self.prefetch(*_TAGOPT)

    def remotes_without_tags(self) -> list[str]:
        """The remotes configured never to fetch tags (``tagOpt = --no-tags``, what ``git clone --no-tags`` sets)."""
        out = self.run(*_TAGOPT, check=False)
        found = []
        for record in out.split(b"\0"):
            key, _sep, value = record.decode("utf-8", "replace").partition("\n")
            if value.strip() == "--no-tags":
                found.append(key[len("remote."):-len(".tagopt")])
        return found

    # -- writing -----------------------------------------------------------------------------
    def create_tag(self, name: str, commit: str, message: str, *, sign: bool) -> None:
        """An annotated (optionally signed) tag; never forced, never an editor, the message verbatim."""
        self.run("-c", "core.editor=true", "tag", "-a", "-s" if sign else "--no-sign", "--cleanup=verbatim",
                 "-F", "-", "--end-of-options", name, commit, stdin=message.encode("utf-8"),
                 env={"GIT_EDITOR": "true"})

    def delete_local_tag(self, name: str, expected: str) -> None:
        """Delete a tag this process just created, only if it still points at ``expected``."""
        self.run("update-ref", "-d", "--end-of-options", f"refs/tags/{name}", expected)

    def push_tag(self, remote: str, name: str) -> tuple[bool, str]:
        """Push one tag without force: (accepted, git's message)."""
        ref = f"refs/tags/{name}"
        proc = run_git(("push", "--porcelain", "--end-of-options", remote, f"{ref}:{ref}"), self.root)
        text = (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
        return proc.returncode == 0, text
