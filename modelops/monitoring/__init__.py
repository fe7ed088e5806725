"""Prospective monitoring: what the nodes predicted, how fast, and what failed."""
