"""FRONT DOOR: the language server. Translates LSP to the cores and back; owns documents,
progress, versioned edits and the editor's questions."""
