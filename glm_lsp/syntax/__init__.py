"""CORE: code read with tree-sitter: which grammar reads a file (loaded on first use), its
definitions, imports and scopes (one query file per language in ``queries/``), where its
imports point in the workspace, and blocks (the definition around a line, where a streamed
suggestion's construct closes)."""
