"""Collect the change: the only package that runs git."""
