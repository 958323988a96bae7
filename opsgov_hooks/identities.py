"""People named in records (requested_by, approved_by, the approvers list): text a person can read.

A sign-off is only worth something if the reader sees who signed. So an identity

* is in Unicode NFKC form (a full-width ``Ｂob`` is written ``Bob``);
* holds no control, format (zero-width, bidi override), private-use or other
  default-ignorable character: nothing a reader cannot see;
* keeps each word in one script, and no non-Latin word is made only of letters that
  look like Latin ones: ``аlice`` with a Cyrillic ``а`` is refused (Unicode TR39
  mixed-script and whole-script confusable detection, with the confusables table of
  ``confusable-homoglyphs``).

:func:`comparable` is the form the sign-off rules compare (NFKC, case folded,
invisible characters dropped), so two spellings of one person never count as two.
"""
from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) outside the format (Cf) category,
# which is refused as a whole: fillers and variation selectors render as nothing.
_IGNORABLE_RANGES = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x3164, 0x3164),
                     (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
                     (0xE0000, 0xE0FFF))
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_NEUTRAL = frozenset({"COMMON", "INHERITED"})


def _invisible(ch: str) -> bool:
    point = ord(ch)
    return (unicodedata.category(ch) in _REFUSED_CATEGORIES
            or any(low <= point <= high for low, high in _IGNORABLE_RANGES))


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}"


def _plain(text: str) -> bool:
    """Printable ASCII only: then nothing is invisible (every refused character and range lies outside
    U+0020-U+007E), the text is its own NFKC form, and its words are Latin letters. Almost every
    identity is written so; ``tests/unit/test_identities_fast.py`` pins both answers to the general path."""
    return text.isascii() and text.isprintable()


def problems(text: str) -> list[str]:
    """Why ``text`` is not a readable identity (empty: it is)."""
    if _plain(text):
        return []
    found: tuple[str, ...] = _remembered(_problems, _PROBLEMS, text)
    return list(found)


_REMEMBER_UP_TO = 256   # characters: a name or an address; longer text is judged each time, never kept
_MEMO_SIZE = 4096


def _remembered(function: Callable[[str], T], memo: dict[str, T], text: str) -> T:
    """``function(text)``, each short text computed once per process (a team's few people sign every entry)."""
    if len(text) > _REMEMBER_UP_TO:
        return function(text)
    found = memo.get(text)
    if found is None:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        found = memo[text] = function(text)
    return found


def _problems(text: str) -> tuple[str, ...]:
    """The general path of :func:`problems`, for any text."""
    invisible = sorted({ch for ch in text if _invisible(ch)})
    if invisible:
        return (f"holds {', '.join(_name(c) for c in invisible)}, which a reader cannot see",)
    found: list[str] = []
    normal = unicodedata.normalize("NFKC", text)
    if normal != text:
        found.append(f"is not in Unicode NFKC form: write it {normal!r}")
    for word in _words(normal):
        found.extend(_word_problems(word))
    return tuple(found)


def comparable(text: str) -> str:
    """The form people are compared in: NFKC, case folded, invisible characters dropped."""
    if _plain(text):
        return text.lower()   # ASCII: casefold is lower, NFKC changes nothing, nothing is invisible
    return _remembered(_comparable, _COMPARABLE, text)


def _comparable(text: str) -> str:
    """The general path of :func:`comparable`, for any text."""
    visible = "".join(ch for ch in unicodedata.normalize("NFKC", text) if not _invisible(ch))
    return unicodedata.normalize("NFKC", visible.casefold())


_PROBLEMS: dict[str, tuple[str, ...]] = {}
_COMPARABLE: dict[str, str] = {}


def _words(text: str) -> list[str]:
    """Runs of letters and marks (what a script can be told of); '@', '.', digits and blanks split them."""
    words, current = [], []
    for ch in text:
        if unicodedata.category(ch)[0] in "LM":
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


@functools.lru_cache(maxsize=1024)
def _word_problems(word: str) -> tuple[str, ...]:
    from confusable_homoglyphs import categories, confusables

    scripts = sorted({categories.alias(ch) for ch in word} - _NEUTRAL)
    if len(scripts) > 1:
        return (f"mixes scripts in {word!r} ({', '.join(scripts)}): a reader takes it for another name",)
    if scripts and scripts != ["LATIN"]:
        lookalikes = confusables.is_confusable(word, greedy=True, preferred_aliases=["latin"]) or []
        dangerous = {item["character"] for item in lookalikes}
        letters = {ch for ch in word if unicodedata.category(ch)[0] == "L"}
        if letters and letters <= dangerous:
            return (f"{word!r} is written in {scripts[0]} letters that each look like Latin ones: a reader "
                    "takes it for a Latin name",)
    return ()
