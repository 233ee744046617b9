"""The agent's tool loop: stream a turn, run its tool calls, feed the results back, repeat.

Knows nothing of LSP. Stops when the model answers without tool calls, after
``max_iterations`` turns, or when its task is cancelled (the open upstream stream is closed at
once by ``aclosing``). What the tools staged stays in the workspace overlay; the caller decides
what to do with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from glm_lsp.agent.tools import AgentTools
from glm_lsp.glm.events import (
    ChatResult,
    ReasoningDelta,
    Restart,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
    Waiting,
)
from glm_lsp.log import redact

if TYPE_CHECKING:
    from glm_lsp.glm.models import ChatRequest

ProgressFn = Callable[[str], None]

# Report streaming progress every so many chunks: often enough to look alive, rarely enough
# not to flood the editor.
_CHUNKS_PER_REPORT = 16

# What one run may cost, whatever the model asks for (issue 27: one reply with 3,000
# read_file calls made a 96 MB next request). Calls past the cap in one turn are answered
# with TOO_MANY_CALLS and not run; tool results are kept in the conversation up to
# RUN_TOOL_OUTPUT_BYTES, older ones giving way first (the model is told, and may read
# again); a turn whose request would still exceed MAX_REQUEST_BYTES is not sent.
MAX_TOOL_CALLS_PER_TURN = 32
RUN_TOOL_OUTPUT_BYTES = 1024 * 1024
MAX_REQUEST_BYTES = 4 * 1024 * 1024
TOO_MANY_CALLS = (
    f"error: too many tool calls in one turn; at most {MAX_TOOL_CALLS_PER_TURN} run per "
    "turn, and this one was not run. Call it again in your next turn if you still need it."
)
OUTPUT_DROPPED = (
    f"[output dropped: this run keeps at most {RUN_TOOL_OUTPUT_BYTES // 1024} KB of tool "
    "results, newest first; call the tool again if you still need it]"
)


class ChatStreamer(Protocol):
    def stream_chat(
        self, request: ChatRequest, *, feature: str, restartable: bool = ...
    ) -> AsyncGenerator[StreamEvent, None]: ...


class AgentEvents(Protocol):
    """What a front door that shows the run as it happens (ACP) is told, beside progress."""

    def text(self, delta: str) -> None: ...

    def thought(self, delta: str) -> None: ...

    async def tool_started(self, call: ToolCall) -> None: ...

    def tool_finished(self, call: ToolCall, output: str) -> None: ...


class _NoEvents:
    def text(self, delta: str) -> None:
        pass

    def thought(self, delta: str) -> None:
        pass

    async def tool_started(self, call: ToolCall) -> None:
        pass

    def tool_finished(self, call: ToolCall, output: str) -> None:
        pass


@dataclass
class AgentRun:
    """How a run ended. ``stopped`` is ``done`` when the model finished on its own;
    ``too_large`` when its next request would have exceeded :data:`MAX_REQUEST_BYTES`."""

    stopped: Literal["done", "max_iterations", "too_large"]
    summary: str
    turns: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def stop_reason(self) -> str:
        """Why an unfinished run stopped, for the user."""
        if self.stopped == "too_large":
            return f"its next request would exceed {MAX_REQUEST_BYTES // 2**20} MB"
        return "glm.agent.maxIterations"


class _Progress:
    """Formats "turn 2/25 · reading b.py · 1,234 tokens"."""

    def __init__(self, report: ProgressFn, max_turns: int) -> None:
        self._report = report
        self.max_turns = max_turns
        self.turn = 0
        self.tokens = 0  # from finished turns' usage
        self.streamed = 0  # chunks of the current turn: an estimate until usage arrives

    def say(self, activity: str) -> None:
        tokens = self.tokens + self.streamed
        unit = "token" if tokens == 1 else "tokens"
        self._report(f"turn {self.turn}/{self.max_turns} · {activity} · {tokens:,} {unit}")


async def run_agent(
    client: ChatStreamer,
    request: ChatRequest,
    tools: AgentTools,
    *,
    max_iterations: int,
    progress: ProgressFn,
    feature: str = "agent",
    events: AgentEvents | None = None,
) -> AgentRun:
    """Run the tool loop from ``request`` (its messages start the conversation)."""
    # The first turn leaves the disk idle for seconds: read the files' texts meanwhile.
    stop_preload = threading.Event()
    preload = asyncio.ensure_future(asyncio.to_thread(tools.workspace.preload, stop_preload))
    try:
        return await _tool_loop(
            client, request, tools, max_iterations, progress, feature, events or _NoEvents()
        )
    finally:
        stop_preload.set()
        with contextlib.suppress(Exception):
            await preload


async def _tool_loop(
    client: ChatStreamer,
    request: ChatRequest,
    tools: AgentTools,
    max_iterations: int,
    progress: ProgressFn,
    feature: str,
    events: AgentEvents,
) -> AgentRun:
    messages = list(request.messages)
    status = _Progress(progress, max_iterations)
    run = AgentRun("max_iterations", "", 0, messages=messages)
    # Preserved thinking: each turn's reasoning goes back byte for byte with its tool calls.
    keep_reasoning = bool(request.thinking) and request.preserve_thinking
    kept = _KeptOutputs()
    for turn in range(1, max_iterations + 1):
        status.turn, status.streamed = turn, 0
        if turn > 1 and _request_bytes(messages) > MAX_REQUEST_BYTES:
            run.stopped = "too_large"
            return run
        run.turns = turn
        turn_request = request.model_copy(update={"messages": messages, "tools": tools.schemas()})
        result = await _stream_turn(client, turn_request, status, feature, events)
        if result.usage is not None:
            run.prompt_tokens += result.usage.prompt_tokens
            run.completion_tokens += result.usage.completion_tokens
        status.tokens, status.streamed = run.total_tokens, 0
        messages.append(result.assistant_message(keep_reasoning=keep_reasoning))
        if not result.tool_calls:
            run.stopped, run.summary = "done", result.text.strip()
            return run
        calls = result.tool_calls
        outputs = await execute_tool_calls(
            tools, calls[:MAX_TOOL_CALLS_PER_TURN], status.say, events
        )
        outputs += [TOO_MANY_CALLS] * (len(calls) - len(outputs))
        for call, output in zip(calls, outputs, strict=True):
            # The key never goes upstream in a tool result (a file or a check's output).
            messages.append({"role": "tool", "tool_call_id": call.id, "content": redact(output)})
            kept.add(messages[-1])
    return run


class _KeptOutputs:
    """The tool results in the conversation, oldest first; past the run's budget the oldest
    are replaced by :data:`OUTPUT_DROPPED`."""

    def __init__(self, budget: int = RUN_TOOL_OUTPUT_BYTES) -> None:
        self.budget = budget
        self.total = 0
        self._messages: list[dict[str, Any]] = []

    def add(self, message: dict[str, Any]) -> None:
        self._messages.append(message)
        self.total += len(message["content"].encode("utf-8"))
        while self.total > self.budget and len(self._messages) > 1:  # the newest stays
            oldest = self._messages.pop(0)
            self.total -= len(oldest["content"].encode("utf-8"))
            oldest["content"] = OUTPUT_DROPPED


def _request_bytes(messages: Sequence[dict[str, Any]]) -> int:
    """The size of the messages as they go upstream (JSON, UTF-8)."""
    return len(json.dumps(messages, ensure_ascii=False).encode("utf-8"))


async def _stream_turn(
    client: ChatStreamer,
    request: ChatRequest,
    status: _Progress,
    feature: str,
    events: AgentEvents,
) -> ChatResult:
    result = ChatResult()
    status.say("waiting for GLM")
    # restartable: a turn is only used once whole, so a `network_error` may start it again.
    stream_chat = client.stream_chat(request, feature=feature, restartable=True)
    async with aclosing(stream_chat) as stream:
        async for event in stream:
            result.add(event)
            if isinstance(event, Waiting):  # a slow first token, or a backoff before a retry
                status.say(event.message)
                continue
            if isinstance(event, Restart):
                # What was shown of the broken reply stays on screen: say it starts again.
                events.text("\n\n[GLM's reply broke off (network_error); it starts again]\n\n")
                continue
            if isinstance(event, Usage):
                continue
            if isinstance(event, TextDelta):
                events.text(event.text)
            elif isinstance(event, ReasoningDelta):
                events.thought(event.text)
            status.streamed += 1
            if status.streamed % _CHUNKS_PER_REPORT == 1:
                status.say("thinking…" if isinstance(event, ReasoningDelta) else "writing")
    return result


async def execute_tool_calls(
    tools: AgentTools,
    calls: Sequence[ToolCall],
    say: ProgressFn,
    events: AgentEvents | None = None,
) -> list[str]:
    """Every call's output, in call order. Consecutive read-only calls run concurrently;
    a write waits for the reads before it and the reads after it wait for it."""
    outputs: list[str] = [""] * len(calls)
    index = 0
    while index < len(calls):
        batch_end = index + 1
        if tools.is_read_only(calls[index].name):
            while batch_end < len(calls) and tools.is_read_only(calls[batch_end].name):
                batch_end += 1
        batch = list(range(index, batch_end))
        say(", ".join(tools.describe(calls[i].name, calls[i].arguments) for i in batch))
        if events is not None:
            for i in batch:
                await events.tool_started(calls[i])
        results = await asyncio.gather(
            *(tools.execute(calls[i].name, calls[i].arguments) for i in batch)
        )
        for i, output in zip(batch, results, strict=True):
            outputs[i] = output
            if events is not None:
                events.tool_finished(calls[i], output)
        index = batch_end
    return outputs
