"""The record model: declarations (operation records), ledger entries, and their loaders."""
