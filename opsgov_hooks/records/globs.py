"""Globs in gitignore syntax (``pathspec``), checked once where they are declared."""
from __future__ import annotations


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot select any path, or None when it is a usable glob.

    ``pathspec`` silently turns a comment (``#x``), a blank or an unclosed ``[``
    into a pattern that matches nothing; in an allowlist that would be a scope
    the author believes in and the gate never grants, so it is refused.
    """
    import pathspec

    if pattern.startswith("#"):
        return "starts with '#', which gitignore syntax reads as a comment"
    try:
        spec = pathspec.GitIgnoreSpec.from_lines([pattern])
    except Exception as exc:  # pathspec raises several types for a bad pattern
        # The position pathspec reports is in its generated regex, not in the glob: drop it.
        return f"is not a valid glob ({str(exc).split(' at position')[0]})"
    if not spec.patterns or getattr(spec.patterns[0], "regex", None) is None:
        return "matches no path (blank, or an unclosed '[')"
    return None
