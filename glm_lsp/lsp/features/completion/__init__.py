"""Inline completions and completion items."""
