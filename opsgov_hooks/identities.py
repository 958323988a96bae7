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


def problems(text: str) -> list[str]:
    """Why ``text`` is not a readable identity (empty: it is)."""
    invisible = sorted({ch for ch in text if _invisible(ch)})
    if invisible:
        return [f"holds {', '.join(_name(c) for c in invisible)}, which a reader cannot see"]
    found = []
    normal = unicodedata.normalize("NFKC", text)
    if normal != text:
        found.append(f"is not in Unicode NFKC form: write it {normal!r}")
    for word in _words(normal):
        found.extend(_word_problems(word))
    return found


def comparable(text: str) -> str:
    """The form people are compared in: NFKC, case folded, invisible characters dropped."""
    visible = "".join(ch for ch in unicodedata.normalize("NFKC", text) if not _invisible(ch))
    return unicodedata.normalize("NFKC", visible.casefold())


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
