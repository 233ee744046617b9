"""Next-edit suggestions over LSP: Copilot's ``textDocument/copilotInlineEdit`` and its
notifications, the accept command and the ``GLM: Predict next edit`` code action."""
