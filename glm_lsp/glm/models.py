"""The API's payloads (pydantic at the edge) and the typed events of a stream."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from .events import (
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
    request_id: str | None = None

    def to_payload(self, *, stream: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [_string_content(m) for m in self.messages],
            "stream": stream,
        }
        for name in ("temperature", "top_p", "max_tokens", "stop", "request_id"):
            value = getattr(self, name)
            if value is not None:
                payload[name] = value
        if self.tools:
            payload["tools"] = self.tools
            payload["tool_choice"] = "auto"  # the only value GLM accepts
        if self.thinking is not None:
            payload["thinking"] = {"type": "enabled" if self.thinking else "disabled"}
        return payload


def _string_content(message: dict[str, Any]) -> dict[str, Any]:
    """GLM silently drops list-form content: always send a string."""
    content = message.get("content")
    if isinstance(content, list):
        text = "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
        return {**message, "content": text}
    if content is None and message.get("role") in ("tool", "assistant"):
        return {**message, "content": ""}
    return message
