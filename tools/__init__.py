"""Development tooling: generates docs from the code; not shipped in the wheel."""
