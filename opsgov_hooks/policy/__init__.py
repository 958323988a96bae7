"""The policy: its model, loaded from a trusted revision, globs and schemas."""
