"""Thin Click commands: parse, build plain objects, call one function that returns an exit code."""
