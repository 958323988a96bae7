"""Adoption: ``opsgov init`` (set up a repository) and ``opsgov demo`` (the whole lifecycle, end to end)."""
