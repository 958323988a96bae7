"""The gate: ``opsgov check`` on a staged change, a range of commits, a push, or the whole repository."""
