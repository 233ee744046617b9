"""The LSP handlers, one module (or folder) per feature family; each thin: params, a core call,
an LSP result."""
