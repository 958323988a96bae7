"""The operation lifecycle after ``opsgov new``: record, roll back, approve, list, show, close with a tag.

Each module holds plain functions that return an exit code; the Click commands
in :mod:`opsgov_hooks.commands` only parse arguments and call them.
"""
