"""glm-lsp: GLM-5.1 in every editor that speaks LSP."""

__version__ = "0.1.0"
