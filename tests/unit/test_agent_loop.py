"""The tool loop against a scripted stream: what goes back to the model, when it stops."""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

import pytest

from glm_lsp.agent.loop import execute_tool_calls, run_agent
from glm_lsp.agent.tools import AgentTools
from glm_lsp.glm.models import (
    ChatRequest,
    Finish,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)
from glm_lsp.workspace import Workspace

Turn = Callable[[list[dict[str, Any]]], list[StreamEvent]]


class ScriptedModel:
    """Plays the model: each turn sees the messages so far and returns the events."""

    def __init__(self, turns: list[Turn], *, hang_on_turn: int | None = None) -> None:
        self.turns = turns
        self.requests: list[ChatRequest] = []
        self.closed = 0
        self.hang_on_turn = hang_on_turn
        self.hanging = asyncio.Event()

    async def stream_chat(
        self, request: ChatRequest, *, feature: str, restartable: bool = False
    ) -> AsyncGenerator[StreamEvent, None]:
        assert feature == "agent"
        self.requests.append(copy.deepcopy(request))
        turn = len(self.requests)
        try:
            for event in self.turns[min(turn, len(self.turns)) - 1](request.messages):
                yield event
            if turn == self.hang_on_turn:
                self.hanging.set()
                await asyncio.sleep(60)
        finally:
            self.closed += 1


def calls(*pairs: tuple[str, dict[str, Any]]) -> Turn:
    def turn(_messages: list[dict[str, Any]]) -> list[StreamEvent]:
        events: list[StreamEvent] = [ReasoningDelta("hmm")]
        events += [ToolCall(f"call_{i}", n, json.dumps(a)) for i, (n, a) in enumerate(pairs)]
        return [*events, Usage(100, 10, 110), Finish("tool_calls")]

    return turn


def answer(text: str) -> Turn:
    return lambda _messages: [TextDelta(text), Usage(200, 5, 205), Finish("stop")]


@pytest.fixture
def tools(tmp_path: Path) -> AgentTools:
    (tmp_path / "a.py").write_text("def helper(): ...\n")
    (tmp_path / "b.py").write_text("helper()\n")
    return AgentTools(Workspace([tmp_path]), max_output_bytes=4096)


def ignore(_message: str) -> None:
    pass


def start_request() -> ChatRequest:
    return ChatRequest(model="glm-5.1", messages=[{"role": "user", "content": "rename helper"}])


async def test_tool_results_go_back_as_string_tool_messages(tools: AgentTools) -> None:
    model = ScriptedModel(
        [calls(("read_file", {"path": "a.py"}), ("read_file", {"path": "b.py"})), answer("Done.")]
    )
    progress: list[str] = []
    run = await run_agent(model, start_request(), tools, max_iterations=5, progress=progress.append)
    assert (run.stopped, run.summary, run.turns) == ("done", "Done.", 2)
    assert (run.prompt_tokens, run.completion_tokens) == (300, 15)
    second = model.requests[1].messages
    assistant = second[1]
    assert assistant["role"] == "assistant"
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["read_file"] * 2
    assert second[2] == {"role": "tool", "tool_call_id": "call_0", "content": "def helper(): ...\n"}
    assert second[3] == {"role": "tool", "tool_call_id": "call_1", "content": "helper()\n"}
    assert model.requests[0].tools == tools.schemas()
    assert any("turn 1/5" in p and "reading a.py, reading b.py" in p for p in progress)
    assert any("turn 2/5" in p and "110 tokens" in p for p in progress)


async def test_failing_tool_calls_keep_the_loop_going(tools: AgentTools) -> None:
    model = ScriptedModel([calls(("nope", {}), ("read_file", {"path": "../x"})), answer("ok")])
    run = await run_agent(model, start_request(), tools, max_iterations=5, progress=ignore)
    assert run.stopped == "done"
    results = [m["content"] for m in model.requests[1].messages if m["role"] == "tool"]
    assert all(r.startswith("error: ") for r in results) and len(results) == 2


async def test_endless_tool_calls_stop_at_max_iterations(tools: AgentTools) -> None:
    model = ScriptedModel([calls(("list_files", {}))])
    run = await run_agent(model, start_request(), tools, max_iterations=3, progress=ignore)
    assert (run.stopped, run.turns, len(model.requests)) == ("max_iterations", 3, 3)


async def test_conversation_grows_by_one_turn_each_time(tools: AgentTools) -> None:
    model = ScriptedModel([calls(("read_file", {"path": "a.py"}))] * 3 + [answer("ok")])
    await run_agent(model, start_request(), tools, max_iterations=5, progress=ignore)
    assert [len(r.messages) for r in model.requests] == [1, 3, 5, 7]


async def test_cancel_closes_the_stream(tools: AgentTools) -> None:
    model = ScriptedModel([calls(("list_files", {})), answer("ok")], hang_on_turn=2)
    task = asyncio.create_task(
        run_agent(model, start_request(), tools, max_iterations=5, progress=ignore)
    )
    await asyncio.wait_for(model.hanging.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert model.closed == 2


async def test_reads_of_one_turn_run_concurrently_writes_in_order(tools: AgentTools) -> None:
    barrier = threading.Barrier(2, timeout=5)  # both reads must be running at once

    class MeetingTools(AgentTools):
        def run(self, name: str, arguments: str) -> str:
            if name == "read_file":
                barrier.wait()
            return super().run(name, arguments)

    meeting = MeetingTools(tools.workspace, max_output_bytes=4096)
    batch = [
        ToolCall("1", "read_file", '{"path": "a.py"}'),
        ToolCall("2", "read_file", '{"path": "b.py"}'),
        ToolCall("3", "write_file", '{"path": "b.py", "content": "assist()\\n"}'),
        ToolCall("4", "list_files", "{}"),
    ]
    outputs = await execute_tool_calls(meeting, batch, ignore)
    assert outputs[:2] == ["def helper(): ...\n", "helper()\n"]
    assert outputs[2].startswith("wrote b.py")
    assert outputs[3] == "a.py\nb.py"


def test_progress_counts_one_token_in_the_singular() -> None:
    from glm_lsp.agent.loop import _Progress

    said: list[str] = []
    progress = _Progress(said.append, max_turns=25)
    progress.turn, progress.streamed = 1, 1
    progress.say("writing")
    progress.streamed = 1234
    progress.say("writing")
    assert said == ["turn 1/25 · writing · 1 token", "turn 1/25 · writing · 1,234 tokens"]
