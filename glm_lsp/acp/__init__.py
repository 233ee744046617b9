"""FRONT DOOR: the agent over the Agent Client Protocol (``glm-lsp --acp``), for Zed, JetBrains,
CodeCompanion, avante and agent-shell. Translates ACP to the agent core and back."""
