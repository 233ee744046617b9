"""What an engine that asks GLM on the editor's behalf (completions, next edits) needs from the
front door that runs it; the LSP server provides it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from glm_lsp.config import GlmSettings
    from glm_lsp.glm.client import GlmClient


class GlmHost(Protocol):
    @property
    def settings(self) -> GlmSettings: ...

    def has_key(self) -> bool: ...

    def glm_client(self) -> GlmClient: ...

    def model_for(self, feature: str) -> str: ...

    def warn_once(self, key: str, text: str) -> None: ...
