"""One streamed reply's frames, read into typed events: pure, no I/O.

What the service sends today, besides OpenAI's shape (DESIGN.md, "GLM as the service behaves
now"): chunks without a ``finish_reason`` key, ``role`` in every delta, usage on the finish
chunk or on a chunk of its own with ``choices: []``, ids that are not ``chatcmpl-…``, whole
tool calls in one chunk with id and name repeated, two frames glued on one line with the first
cut short, ``data: {"error": …}`` and ``event: error`` frames, and finish reasons beyond
OpenAI's. Each is read here; whatever cannot be read becomes a :class:`GlmError` with a sentence
a person can act on, never an ``AttributeError``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from glm_lsp.glm.dialects import reasoning_delta
from glm_lsp.glm.errors import (
    GlmContentFilteredError,
    GlmContextWindowError,
    GlmLengthError,
    GlmMalformedReplyError,
    GlmNetworkFinishError,
    GlmThinkingSpentError,
    error_from_response,
    max_tokens_setting,
)
from glm_lsp.glm.events import Finish, StreamEvent, TextDelta, ToolCall, Usage
from glm_lsp.log import redact

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 300  # GLM's own text inside our message
# Finish reasons the readers downstream know; any other is read as "stop" (GLM adds new ones).
KNOWN_FINISH_REASONS = frozenset(
    {
        "stop",
        "length",
        "tool_calls",
        "function_call",
        "content_filter",
        "sensitive",
        "network_error",
        "model_context_window_exceeded",
    }
)
_FRAME_START = "data:"


class ReplyReader:
    """Feed each SSE event (its name and data); get back the events of the reply.

    ``max_tokens`` and ``feature`` only word the message when thinking uses up the budget."""

    def __init__(
        self,
        request_id: str,
        *,
        allow_truncated: bool = False,
        feature: str = "",
        max_tokens: int | None = None,
    ) -> None:
        self.request_id = request_id
        self.allow_truncated = allow_truncated
        self.feature = feature
        self.max_tokens = max_tokens
        self.finished = False
        self.saw_text = False
        self.saw_reasoning = False
        self._tools = _ToolCallAssembler()

    def feed(self, data: str, event: str = "message") -> list[StreamEvent]:
        if event == "error":
            raise self._error_frame(data)
        chunk = _parse_frame(data)
        if chunk is None:
            return []
        try:
            return self._chunk_events(chunk)
        except (AttributeError, TypeError, ValueError) as exc:
            # JSON that parses but not in the shape of a chunk (`"choices": 5`, a delta that
            # is a list...): say so in words, never with a Python error's name.
            log.debug("unreadable chunk shape: %s", exc)
            raise GlmMalformedReplyError(
                "GLM sent a stream chunk of an unexpected shape; nothing was applied.",
                request_id=self.request_id,
            ) from None

    # -- frames --------------------------------------------------------------------------------
    def _error_frame(self, data: str) -> Exception:
        """An ``event: error`` frame: its message, whatever shape the data has."""
        try:
            parsed: Any = json.loads(data)
        except (ValueError, RecursionError):
            parsed = data
        error = parsed.get("error", parsed) if isinstance(parsed, dict) else parsed
        if not isinstance(error, dict):
            error = {"message": error}
        return error_from_response(
            200,
            _str_or_none(error.get("code")),
            clean(error.get("message") or "an error event"),
            self.request_id,
            None,
        )

    def _chunk_events(self, chunk: dict[str, Any]) -> list[StreamEvent]:
        if "error" in chunk:
            error = chunk.get("error") or {}
            if not isinstance(error, dict):
                error = {"message": error}
            raise error_from_response(
                200,
                _str_or_none(error.get("code")),
                clean(error.get("message")),
                self.request_id,
                None,
            )
        events: list[StreamEvent] = []
        finish: str | None = None
        choices = chunk.get("choices")
        if choices is not None and not isinstance(choices, list):
            raise TypeError(f"choices is {type(choices).__name__}")
        for choice in choices or []:
            delta = choice.get("delta") or {}
            reasoning = reasoning_delta(delta)  # reasoning_content, or vLLM's reasoning
            if reasoning is not None:
                self.saw_reasoning = True
                events.append(reasoning)
            content = delta.get("content")
            if content:
                if not isinstance(content, str):
                    raise TypeError(f"content is {type(content).__name__}")
                self.saw_text = True
                events.append(TextDelta(content))
            calls = delta.get("tool_calls") or []
            if not isinstance(calls, list):
                raise TypeError(f"tool_calls is {type(calls).__name__}")
            for call in calls:
                self._tools.add(call)
            reason = choice.get("finish_reason")
            finish = str(reason) if reason else finish
        if chunk.get("usage"):
            events.append(_usage(chunk["usage"]))
        if finish and not self.finished:
            events.extend(self._finish(finish))
        return events

    def _finish(self, reason: str) -> list[StreamEvent]:
        request_id = self.request_id
        if reason == "sensitive":
            raise GlmContentFilteredError(
                "GLM's content filter stopped the reply; nothing was applied.",
                request_id=request_id,
            )
        if reason == "network_error":
            raise GlmNetworkFinishError(
                "GLM reported a network error mid-reply; nothing was applied.",
                request_id=request_id,
            )
        if reason == "model_context_window_exceeded":
            raise GlmContextWindowError(
                "The request was too large for GLM's context window; nothing was applied. "
                "Select less code, or lower the contextChars settings (the agent: a narrower "
                "instruction).",
                request_id=request_id,
            )
        calls = self._tools.drain()
        if reason == "length" and not self.saw_text and not calls and self.saw_reasoning:
            # Thinking used up max_tokens: say so, never hand on an empty edit.
            spent = f"all {self.max_tokens} tokens" if self.max_tokens else "all its tokens"
            raise GlmThinkingSpentError(
                f"GLM spent {spent} thinking; raise {max_tokens_setting(self.feature)} "
                "(it wrote no answer; nothing was applied).",
                request_id=request_id,
            )
        if reason == "length" and not self.allow_truncated:
            raise GlmLengthError(
                "GLM's reply was cut off (token limit); nothing was applied. "
                f"Select less code or raise {max_tokens_setting(self.feature)}.",
                request_id=request_id,
            )
        if reason not in KNOWN_FINISH_REASONS:
            log.info("GLM finished with %r, read as stop", reason[:40])
            reason = "stop"
        self.finished = True
        return [*calls, Finish(reason)]


def _parse_frame(data: str) -> dict[str, Any] | None:
    """The JSON object of one frame's data; ``None`` when it cannot be read. Two frames glued
    on one line (GLM's damage: the first cut short, then ``data: {…}`` whole) give the last
    piece that reads: the damaged one is dropped."""
    chunk = _json_object(data)
    if chunk is not None:
        return chunk
    start = data.find(_FRAME_START)
    while start >= 0:
        chunk = _json_object(data[start + len(_FRAME_START) :].strip())
        if chunk is not None:
            log.info("dropped a damaged stream frame glued to an intact one")
            return chunk
        start = data.find(_FRAME_START, start + 1)
    return None


def _json_object(data: str) -> dict[str, Any] | None:
    try:
        chunk = json.loads(data)
    except (ValueError, RecursionError) as exc:
        log.debug(
            "ignoring an unreadable stream line (%d bytes): %s", len(data), type(exc).__name__
        )
        return None
    return chunk if isinstance(chunk, dict) else None


class _ToolCallAssembler:
    """Tool calls arrive in pieces keyed by ``index`` (or whole, id and name repeated); join
    them until the turn finishes."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, str]] = {}

    def add(self, delta: Any) -> None:
        if not isinstance(delta, dict):
            raise TypeError(f"a tool call is {type(delta).__name__}")
        index = int(delta.get("index", len(self._parts)))
        part = self._parts.setdefault(index, {"id": "", "name": "", "arguments": ""})
        if delta.get("id"):
            part["id"] = str(delta["id"])
        function = delta.get("function") or {}
        name = function.get("name")
        if name and str(name) != part["name"]:  # a repeated name is the same name
            part["name"] += str(name)
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # some servers send an object, not a string
            part["arguments"] += json.dumps(arguments)
        elif arguments:
            part["arguments"] += str(arguments)

    def drain(self) -> list[ToolCall]:
        calls = [
            ToolCall(id=p["id"] or f"call_{i}", name=p["name"], arguments=p["arguments"])
            for i, p in sorted(self._parts.items())
        ]
        self._parts.clear()
        return calls


def _usage(u: object) -> Usage:
    """GLM's usage object; a count that is not a number reads as 0 (usage is for the ledger:
    it must never cost the user the reply it came with)."""
    usage = u if isinstance(u, dict) else {}
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    return Usage(
        prompt_tokens=_count(usage, "prompt_tokens"),
        completion_tokens=_count(usage, "completion_tokens"),
        total_tokens=_count(usage, "total_tokens"),
        cached_tokens=_count(prompt_details, "cached_tokens"),
        reasoning_tokens=_count(completion_details, "reasoning_tokens"),
    )


def _count(container: object, key: str) -> int:
    value = container.get(key) if isinstance(container, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        return 0
    return int(value) if value < 2**53 else 0


def clean(message: object) -> str | None:
    """GLM's own words for a message: redacted first, then cut (a cut first could split the
    key into pieces that no longer match it)."""
    if message is None:
        return None
    text = redact(str(message))
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)
