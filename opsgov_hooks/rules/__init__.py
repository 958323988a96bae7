"""Rules: small pure functions over plain data, each yielding findings with a stable code."""
