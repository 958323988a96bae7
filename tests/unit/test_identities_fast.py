"""The printable-ASCII fast path of identities.py answers exactly as the general path does.

Most identities are plain addresses, so :func:`problems` and :func:`comparable` skip the
per-character Unicode work for printable ASCII, and remember short answers. Here both
answers are compared with the general functions on every ASCII character and on text a
hostile or careless writer could put in a ledger entry.
"""
from __future__ import annotations

import pytest

from opsgov_hooks import identities
from opsgov_hooks.identities import comparable, problems

ASCII = [chr(c) for c in range(128)]
ODD = [
    "", " ", "alice@example.com", "Alice Example <ALICE@Example.COM>", "mailto:bob@x.org", "SELF", "self",
    "bob@x.org\t", "\tbob", "bob\nbob", "bob\r", "bob\x7f", "\x00", "bob\x1b[31m", "a" * 300, "A" * 300 + "\x00",
    "alice@example.com\u200b", "\u202ealice@example.com", "\uff41lice@example.com", "\u0430lice@example.com",
    "\u0440\u0430\u0443\u0430@example.com", "Jos\u00e9", "Jose\u0301", "\u00c5ngstr\u00f6m", "\u212bngstr\u00f6m",
    "stra\u00dfe", "STRASSE", "\u0130stanbul", "\u017fam", "\ufb01sh", "\u2126", "\u00a0bob", "bob\u3000",
    "\u115fbob", "bob\ufe0f", "\U000e0041bob", "\ud800", "\U0010ffff", "\u0345", "\u03a3\u03c3\u03c2",
    "\u0391\u0392\u0395", "\u4e2d\u6587", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "x" * 257 + "\u200b",
]
CASES = ASCII + [a + b for a in ("", "x", "X@") for b in ASCII] + ODD


@pytest.mark.parametrize("text", CASES)
def test_fast_path_agrees_with_the_general_path(text: str) -> None:
    assert problems(text) == list(identities._problems(text))
    assert comparable(text) == identities._comparable(text)
    # asked again (now remembered where short), the answer is the same
    assert problems(text) == list(identities._problems(text))
    assert comparable(text) == identities._comparable(text)


def test_the_fast_path_takes_printable_ascii_only() -> None:
    plain = [c for c in ASCII if identities._plain(c)]
    assert plain == [chr(c) for c in range(0x20, 0x7f)]
    assert not identities._plain("bob\u00e9") and not identities._plain("bob\t")


def test_refused_text_is_still_refused() -> None:
    assert problems("bob\x7f") and problems("bob\t") and problems("alice\u200b")
    assert comparable("ALICE@X.ORG\u200b") == "alice@x.org"
