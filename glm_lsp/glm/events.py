"""Typed events of a streamed reply (plain dataclasses: cheap to import at start-up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str
    field: str = "reasoning_content"  # the delta field it came in (vLLM: "reasoning")


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
    cached_tokens: int = 0  # usage.prompt_tokens_details.cached_tokens (prompt-cache hits)
    reasoning_tokens: int = 0  # usage.completion_tokens_details.reasoning_tokens


@dataclass(frozen=True)
class Finish:
    reason: str


@dataclass(frozen=True)
class Waiting:
    """Nothing has arrived yet: the first token is slow, or a retry waits out a backoff.
    ``message`` says so for a progress report; it is not part of the reply."""

    message: str
    seconds: float  # waited so far (first token), or to wait (a retry)


@dataclass(frozen=True)
class Restart:
    """What arrived so far is void: the request is being sent again (``network_error``
    before anything was applied). Only callers that asked with ``restartable`` get it."""


StreamEvent = TextDelta | ReasoningDelta | ToolCall | Usage | Finish | Waiting | Restart


@dataclass
class ChatResult:
    text: str = ""
    reasoning: str = ""
    reasoning_field: str = "reasoning_content"
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, Restart):
            self.text, self.reasoning, self.tool_calls = "", "", []
            self.usage, self.finish_reason = None, None
        elif isinstance(event, TextDelta):
            self.text += event.text
        elif isinstance(event, ReasoningDelta):
            self.reasoning += event.text
            self.reasoning_field = event.field
        elif isinstance(event, ToolCall):
            self.tool_calls.append(event)
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, Finish):
            self.finish_reason = event.reason

    def assistant_message(self, *, keep_reasoning: bool = False) -> dict[str, Any]:
        """The reply as the next request's history entry (string content, GLM's format).
        ``keep_reasoning``: carry this turn's thinking back unchanged (preserved thinking), in
        the field it streamed in; the request builder renames it for the provider."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if keep_reasoning and self.reasoning:
            message[self.reasoning_field] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = [call.to_message() for call in self.tool_calls]
        return message
