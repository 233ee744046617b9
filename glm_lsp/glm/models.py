"""The API's payloads (pydantic at the edge) and the typed events of a stream.

The wire body for a dialect is built by ``glm_lsp.glm.dialects.build_payload``: the builder
depends on the request model, never the other way round."""

from __future__ import annotations

from typing import Any

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
