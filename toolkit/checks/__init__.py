"""Checking: value parsing, the rule engine and the finding catalogue."""
