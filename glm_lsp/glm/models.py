"""The API's payloads (pydantic at the edge) and the typed events of a stream."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from glm_lsp.glm.events import (
    ChatResult,
    Finish,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)

if TYPE_CHECKING:
    from glm_lsp.glm.dialects import Dialect

__all__ = [
    "ChatRequest",
    "ChatResult",
    "Finish",
    "ReasoningDelta",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "Usage",
]


class ChatRequest(BaseModel):
    """Parameters GLM's chat/completions knows; ``None`` fields are not sent."""

    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: str | None = None  # GLM takes one stop string
    thinking: bool | None = None
    preserve_thinking: bool = False
    """Earlier turns' reasoning is in the messages and the model should keep it (agent loops)."""
    request_id: str | None = None

    def to_payload(self, *, stream: bool, dialect: Dialect | None = None) -> dict[str, Any]:
        """The body for ``dialect`` (default: Z.AI's GLM API)."""
        from glm_lsp.glm.dialects import DIALECTS, build_payload

        return build_payload(self, dialect or DIALECTS["zai"], stream=stream)
