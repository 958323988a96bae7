"""Glob answers that need no glob engine: the common shapes, decided exactly, or not at all.

Why: importing ``pathspec`` (and through it ``pathlib``, ``urllib.parse`` and its backends)
costs about 22 ms, more than the rest of the hook's work on a typical governed commit.
Most questions a commit asks have an answer that follows from the pattern's text alone:

- ``ops/**`` matches a path below ``ops``, and ``ops/services/svc-1/config.yaml`` (an anchored
  literal) that path and any below it, whatever else the list holds, when it negates nothing;
- ``**/*.pem`` cannot match a path that does not contain ``.pem``: every literal piece of a
  glob is matched by the same characters of the path, so a path lacking one of them is
  not matched. When no pattern of the list can match, the answer is "no".

Anything else (a negation that could undo a match, an escape, a pattern with no literal
piece the path lacks) answers None, and the caller asks pathspec, whose word is final.
``tests/policy/test_globquick.py`` holds every answer given here against pathspec's.

No import at all: the no-op fast path (:mod:`opsgov_hooks.fastpath`) uses it too.
"""
from __future__ import annotations

_WILDCARDS = "*?["
_MOST = 64   # a longer list (the union of every operation's scope) is the engine's: one RE2 set is faster
# (directory prefixes whose whole content matches, literal paths that match, the literal pieces each
# other pattern needs, whether some pattern is beyond this module)
_Shape = tuple[tuple[str, ...], frozenset[str], tuple[tuple[str, ...], ...], bool]
_SHAPES: dict[tuple[str, ...], _Shape] = {}


def quick_match(patterns: tuple[str, ...], path: str) -> bool | None:
    """Whether gitignore-style ``patterns`` match ``path`` (as pathspec's GitIgnoreSpec says), or None.

    ``path`` is the form the engine is given: relative, '/'-separated, as RE2 can take it.
    """
    shape = _SHAPES.get(patterns)
    if shape is None:
        if len(patterns) > _MOST:
            return None
        shape = _SHAPES[patterns] = _shape(patterns)
    prefixes, literals, needs, unknown = shape
    if path.startswith(("/", "./")) or "//" in path:
        return None   # the engine normalises such a path first: leave it to the engine
    if path.startswith(prefixes) or path in literals:
        return True
    if unknown:
        return None
    for pieces in needs:
        if all(piece in path for piece in pieces):
            return None   # this pattern might match: only the engine knows
    return False


def _shape(patterns: tuple[str, ...]) -> _Shape:
    """(literal prefixes that certainly match, the literal pieces each other pattern needs, unsure)."""
    negates = any(p.startswith("!") for p in patterns)
    prefixes: list[str] = []
    literals: set[str] = set()
    needs: list[tuple[str, ...]] = []
    unknown = False
    for pattern in patterns:
        if pattern.startswith("!"):
            continue   # a negation removes matches: it never makes "no" a "yes"
        if not pattern or pattern.startswith("#"):
            continue   # blank or a comment: matches nothing
        if "\\" in pattern or pattern != pattern.strip() or any(s in (".", "..") for s in pattern.split("/")):
            unknown = True   # escapes, trailing spaces, "." and "..": their own rules, the engine's
            continue
        if not negates:
            found = _literal(pattern)
            if found is not None:
                prefixes.append(found[0] + "/")
                if found[1]:
                    literals.add(found[0])
                continue
        pieces = _pieces(pattern)
        if not pieces:
            unknown = True   # "*", "**", "?": may match anything
        else:
            needs.append(pieces)
    return tuple(prefixes), frozenset(literals), tuple(needs), unknown


def _literal(pattern: str) -> tuple[str, bool] | None:
    """(``dir``, whether ``dir`` itself matches) when ``pattern`` matches everything below ``dir``.

    ``dir/**`` matches what is below ``dir`` (not ``dir``); an anchored literal ``a/b`` (a slash
    before its end) matches ``a/b`` and what is below it. Anything else: None.
    """
    body = pattern[1:] if pattern.startswith("/") else pattern
    itself = not body.endswith("/**")
    if not itself:
        body = body[:-3]
    elif "/" not in body.rstrip("/") or body.endswith("/"):
        return None   # unanchored (any depth), or a directory-only pattern
    if not body or any(c in body for c in _WILDCARDS) or body.startswith("/") or "//" in body:
        return None
    if any(part in ("", ".", "..") for part in body.split("/")):
        return None
    return body, itself


def _pieces(pattern: str) -> tuple[str, ...]:
    """The literal runs of ``pattern`` (between wildcards, brackets and slashes) a match must contain."""
    pieces = []
    for segment in pattern.split("/"):
        cut = min((i for i in (segment.find("["), segment.find("]")) if i != -1), default=-1)
        if cut != -1:
            segment = segment[:cut]   # a bracket class and what follows: not needed to be literal
        run = ""
        for char in segment:
            if char in "*?":
                if run:
                    pieces.append(run)
                run = ""
            else:
                run += char
        if run:
            pieces.append(run)
    return tuple(pieces)
