"""Self-hosted GLM: the real server against the fake speaking vLLM's dialect, and preserved
thinking in agent tool loops (vLLM and Z.AI). Asserts what the upstream received and what the
user sees (buffer text, progress, messages, glm.status)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import after_progress_began, execute, inline, messages_of, start_session

CALC = "import math\n\n\ndef area(radius):\n    return math.pi * radius ** 2\n"
ADD = "def add(a, b):\n    return \n"
# Thinking text with what a careless copy would change: spaces at the ends, blank lines, CRLF,
# non-ASCII, JSON-looking text, a fence that must never reach the code.
THOUGHT = '  Let me read a.py first.\r\n\n- ünïcode ✓ {"x": 1}\n```python\nBAD = 1\n```\n  '
VLLM = {"provider": "vllm", "completion": {"debounceMs": 0}}


@pytest.fixture
def vllm() -> Iterator[FakeGlm]:
    with FakeGlm(dialect="vllm") as fake:
        yield fake


def span(l1: int, c1: int, l2: int, c2: int) -> dict[str, Any]:
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


def read_then_finish(reasoning: str) -> list[Reply]:
    """Turn 1 thinks and reads a.py (reasoning and a tool call in one turn); turn 2 ends."""
    call = {"name": "read_file", "arguments": {"path": "a.py"}, "id": "call_read"}
    return [
        Reply(reasoning=reasoning, tool_calls=[call], chunk_size=5),
        Reply(reasoning="Done.", text="a.py is fine as it is."),
    ]


def progress_messages(client: Any) -> list[str]:
    reports = [r for rs in client.progress_reports.values() for r in rs]
    return [r.message or "" for r in reports if isinstance(r, types.WorkDoneProgressReport)]


async def test_vllm_completion_switches_thinking_off_in_the_chat_template(
    vllm: FakeGlm, tmp_path: Path
) -> None:
    vllm.enqueue(Reply(text="a + b", usage={"prompt_tokens": 40, "completion_tokens": 3}))
    async with start_session(vllm, tmp_path, init_options=VLLM) as (client, editor):
        uri = editor.open("calc.py", ADD)
        offered = await inline(client, uri, types.Position(line=1, character=len("    return ")))
        assert offered == ["a + b"]
        status = await execute(client, "glm.status", {})

    (sent,) = vllm.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.body["chat_template_kwargs"] == {"enable_thinking": False}
    assert "thinking" not in sent.body
    assert sent.body["stream_options"] == {"include_usage": True}
    completion = status["byFeature"]["completion"]
    assert (completion["promptTokens"], completion["completionTokens"]) == (40, 3)


async def test_vllm_action_thinks_shows_its_reasoning_as_progress_and_counts_usage(
    vllm: FakeGlm, tmp_path: Path
) -> None:
    (tmp_path / "calc.py").write_text(CALC, encoding="utf-8")
    reply = "```python\ndef area(radius: float) -> float:\n    return math.pi * radius**2\n```"
    clients: list[Any] = []  # the reply waits until progress shows: it is asserted below
    vllm.responder = after_progress_began(
        clients, Reply(reasoning="Type hints would help here. " * 4, text=reply)
    )
    async with start_session(vllm, tmp_path, init_options=VLLM) as (client, editor):
        clients.append(client)
        uri = editor.open("calc.py", CALC)
        result = await execute(client, "glm.refactor", {"uri": uri, "range": span(3, 0, 5, 0)})
        assert result == {"applied": True}
        assert "def area(radius: float) -> float:" in editor.text(uri)
        assert "Type hints" not in editor.text(uri)  # thinking is never code
        status = await execute(client, "glm.status", {})

    (sent,) = vllm.requests
    assert sent.body["chat_template_kwargs"] == {"enable_thinking": True}
    assert "thinking" not in sent.body
    assert sent.body["stream_options"] == {"include_usage": True}
    assert any("thinking" in m for m in progress_messages(client))
    actions = status["byFeature"]["actions"]
    assert actions["requests"] == 1 and actions["promptTokens"] > 0
    assert actions["completionTokens"] > 0


async def test_vllm_agent_preserves_reasoning_in_the_field_vllm_reads(
    vllm: FakeGlm, tmp_path: Path
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    clients: list[Any] = []  # turn 1 waits until progress shows: it is asserted below
    first_turn, last_turn = read_then_finish(THOUGHT)
    hold = after_progress_began(clients, first_turn)
    vllm.responder = lambda body: (
        last_turn if any(m["role"] == "assistant" for m in body["messages"]) else hold(body)
    )
    async with start_session(vllm, tmp_path, init_options=VLLM) as (client, _):
        clients.append(client)
        result = await execute(client, "glm.agent", {"instruction": "check a.py"})
        assert result is not None
        status = await execute(client, "glm.status", {})

    first, second = vllm.requests
    assert first.body["chat_template_kwargs"] == {"enable_thinking": True, "clear_thinking": False}
    assert second.body["chat_template_kwargs"] == first.body["chat_template_kwargs"]
    assert "thinking" not in second.body
    assert first.body["stream_options"] == second.body["stream_options"] == {"include_usage": True}
    assistant = next(m for m in second.body["messages"] if m["role"] == "assistant")
    assert assistant["reasoning"] == THOUGHT  # byte for byte, in vLLM's field
    assert "reasoning_content" not in assistant
    assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["read_file"]
    assert any("turn 1/" in m and "thinking" in m for m in progress_messages(client))
    assert status["byFeature"]["agent"]["requests"] == 2
    assert status["byFeature"]["agent"]["promptTokens"] > 0


async def test_vllm_without_tool_parsing_says_which_flags_to_start_it_with(
    vllm: FakeGlm, tmp_path: Path
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    vllm.auto_tool_choice = False
    async with start_session(vllm, tmp_path, init_options=VLLM) as (client, editor):
        await execute(client, "glm.agent", {"instruction": "check a.py"})
        assert editor.applied_edits == []
        shown = messages_of(client, types.MessageType.Error) + messages_of(
            client, types.MessageType.Warning
        )

    assert len(vllm.requests) == 1  # a refusal is not retried
    (message,) = [m for m in shown if "tool" in m]
    assert "--enable-auto-tool-choice" in message and "--tool-call-parser glm47" in message
    assert "HTTP 400" not in message


async def test_zai_agent_sends_each_turns_reasoning_back_with_clear_thinking_off(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    fake_glm.enqueue(*read_then_finish(THOUGHT))
    async with start_session(fake_glm, tmp_path) as (client, _):
        await execute(client, "glm.agent", {"instruction": "check a.py"})

    first, second = fake_glm.requests
    assert first.body["thinking"] == {"type": "enabled", "clear_thinking": False}
    assert second.body["thinking"] == {"type": "enabled", "clear_thinking": False}
    assert "chat_template_kwargs" not in second.body and "stream_options" not in second.body
    assistant = next(m for m in second.body["messages"] if m["role"] == "assistant")
    assert assistant["reasoning_content"] == THOUGHT  # byte for byte
    assert list(assistant) == ["role", "content", "reasoning_content", "tool_calls"]


async def test_preserve_thinking_off_sends_no_reasoning_and_no_clear_thinking(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    fake_glm.enqueue(*read_then_finish(THOUGHT))
    options = {"agent": {"preserveThinking": False}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, _):
        await execute(client, "glm.agent", {"instruction": "check a.py"})

    first, second = fake_glm.requests
    assert first.body["thinking"] == second.body["thinking"] == {"type": "enabled"}
    assistant = next(m for m in second.body["messages"] if m["role"] == "assistant")
    assert "reasoning_content" not in assistant and "reasoning" not in assistant
    assert "Let me read" not in second.raw.decode()


async def test_vllm_error_body_reaches_the_user_as_its_message(
    vllm: FakeGlm, tmp_path: Path
) -> None:
    (tmp_path / "calc.py").write_text(CALC, encoding="utf-8")
    vllm.enqueue(Reply(status=404, error_message="The model `glm-5.1` does not exist."))
    async with start_session(vllm, tmp_path, init_options=VLLM) as (client, editor):
        uri = editor.open("calc.py", CALC)
        await execute(client, "glm.refactor", {"uri": uri, "range": span(3, 0, 5, 0)})
        assert editor.text(uri) == CALC
        shown = messages_of(client, types.MessageType.Error) + messages_of(
            client, types.MessageType.Warning
        )

    body = vllm.requests[0]
    assert body.path == "/v1/chat/completions"
    assert any("The model `glm-5.1` does not exist." in m for m in shown), shown
