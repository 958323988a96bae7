"""The execution contract: run one step at a time, verify it, and record it in the operation's runbook."""
