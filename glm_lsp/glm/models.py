"""The API's payloads (pydantic at the edge) and the typed events of a stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict


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


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text as the model wrote it; may be invalid

    def to_message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class Finish:
    reason: str


StreamEvent = TextDelta | ReasoningDelta | ToolCall | Usage | Finish


@dataclass
class ChatResult:
    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            self.text += event.text
        elif isinstance(event, ReasoningDelta):
            self.reasoning += event.text
        elif isinstance(event, ToolCall):
            self.tool_calls.append(event)
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, Finish):
            self.finish_reason = event.reason

    def assistant_message(self) -> dict[str, Any]:
        """The reply as the next request's history entry (string content, GLM's format)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = [call.to_message() for call in self.tool_calls]
        return message
