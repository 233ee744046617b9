"""The GLM client against the fake upstream over real sockets."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import aclosing

import pytest

from glm_lsp.glm.client import GlmClient
from glm_lsp.glm.errors import (
    GlmAuthError,
    GlmConnectionError,
    GlmContentFilteredError,
    GlmLengthError,
    GlmNoBalanceError,
    GlmRateLimitError,
    GlmStreamBrokenError,
)
from glm_lsp.glm.models import ChatRequest, ReasoningDelta, TextDelta, ToolCall
from glm_lsp.glm.usage import UsageLedger
from tests.conftest import TEST_KEY
from tests.fake_glm import FakeGlm, Reply


def make_client(fake: FakeGlm, **kw: object) -> GlmClient:
    options: dict = {"max_retries": 3, "backoff_base": 0.05, "timeout": 5.0}
    options.update(kw)
    return GlmClient(base_url=fake.url, api_key=TEST_KEY, **options)


def request(**kw: object) -> ChatRequest:
    return ChatRequest(model="glm-5.1", messages=[{"role": "user", "content": "hi"}], **kw)


async def test_text_and_reasoning_stream_assembled(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(text="def add(a, b):\n    return a + b\n", reasoning="Let me think.", chunk_size=3)
    )
    client = make_client(fake_glm)
    events = [e async for e in client.stream_chat(request(thinking=True), feature="actions")]
    await client.aclose()
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert text == "def add(a, b):\n    return a + b\n"
    assert reasoning == "Let me think."
    sent = fake_glm.requests[0]
    assert sent.body["stream"] is True
    assert sent.body["thinking"] == {"type": "enabled"}
    assert sent.headers["authorization"] == f"Bearer {TEST_KEY}"


async def test_tool_calls_joined_across_chunks(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(
            text="Reading.",
            tool_calls=[
                {"name": "read_file", "arguments": {"path": "a.py", "start_line": 1}},
                {"name": "search", "arguments": {"query": "helper(", "regex": False}},
            ],
        )
    )
    client = make_client(fake_glm)
    result = await client.chat(
        request(tools=[{"type": "function", "function": {"name": "x"}}]), feature="agent"
    )
    await client.aclose()
    assert result.finish_reason == "tool_calls"
    assert [c.name for c in result.tool_calls] == ["read_file", "search"]
    assert json.loads(result.tool_calls[0].arguments) == {"path": "a.py", "start_line": 1}
    assert json.loads(result.tool_calls[1].arguments) == {"query": "helper(", "regex": False}
    assert all(isinstance(c, ToolCall) and c.id for c in result.tool_calls)
    assert fake_glm.requests[0].body["tool_choice"] == "auto"


async def test_usage_recorded_by_feature(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(text="x", usage={"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18})
    )
    ledger = UsageLedger()
    client = make_client(fake_glm, ledger=ledger)
    result = await client.chat(request(), feature="completion")
    await client.aclose()
    assert result.usage is not None and result.usage.completion_tokens == 7
    snap = ledger.snapshot()
    assert snap["byFeature"] == {
        "completion": {"requests": 1, "promptTokens": 11, "completionTokens": 7}
    }


async def test_list_content_sent_as_string(fake_glm: FakeGlm) -> None:
    client = make_client(fake_glm)
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "tool", "tool_call_id": "1", "content": [{"type": "text", "text": "out"}]},
    ]
    await client.chat(ChatRequest(model="m", messages=messages, stop="\n\n"), feature="x")
    await client.aclose()
    sent = fake_glm.requests[0].body["messages"]
    assert sent[0]["content"] == "ab" and sent[1]["content"] == "out"
    assert fake_glm.requests[0].body["stop"] == "\n\n"


async def test_429_retry_after_honoured(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(status=429, error_code="1302", headers={"Retry-After": "1"}), Reply(text="ok")
    )
    client = make_client(fake_glm)
    started = time.monotonic()
    result = await client.chat(request(), feature="actions")
    elapsed = time.monotonic() - started
    await client.aclose()
    assert result.text == "ok"
    assert elapsed >= 1.0
    assert len(fake_glm.requests) == 2


async def test_500_503_then_ok(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(status=500), Reply(status=503), Reply(text="fine"))
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "fine"
    assert len(fake_glm.requests) == 3


async def test_retries_give_up_after_max(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(*[Reply(status=502) for _ in range(5)])
    client = make_client(fake_glm, max_retries=2)
    with pytest.raises(Exception) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "HTTP 502" in str(info.value)
    assert len(fake_glm.requests) == 3


async def test_401_is_auth_error_without_retry(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(status=401, error_code="1001", error_message="token expired"))
    client = make_client(fake_glm)
    with pytest.raises(GlmAuthError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert len(fake_glm.requests) == 1
    assert "rejected the API key" in info.value.user_message
    assert TEST_KEY not in info.value.user_message


async def test_1113_no_balance_not_retried(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(status=429, error_code="1113", error_message="insufficient balance"))
    client = make_client(fake_glm)
    with pytest.raises(GlmNoBalanceError):
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert len(fake_glm.requests) == 1


async def test_rate_limit_error_after_retries(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        *[Reply(status=429, error_code="1305", headers={"Retry-After": "0"}) for _ in range(3)]
    )
    client = make_client(fake_glm, max_retries=2)
    with pytest.raises(GlmRateLimitError):
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert len(fake_glm.requests) == 3


async def test_disconnect_mid_stream_is_stream_broken(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="a" * 80, chunk_size=4, disconnect_after=5))
    client = make_client(fake_glm)
    seen = ""
    with pytest.raises(GlmStreamBrokenError):
        async for event in client.stream_chat(request(), feature="actions"):
            if isinstance(event, TextDelta):
                seen += event.text
    await client.aclose()
    assert seen == "a" * 20  # what came before the break, and no silent retry after it
    assert len(fake_glm.requests) == 1


async def test_disconnect_before_first_token_is_retried(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="lost", disconnect_after=0), Reply(text="second try"))
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "second try"
    assert len(fake_glm.requests) == 2


async def test_garbage_lines_ignored(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="clean text", garbage=True, chunk_size=2))
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "clean text"


async def test_sensitive_finish_is_content_filtered(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="partial", finish_reason="sensitive"))
    client = make_client(fake_glm)
    with pytest.raises(GlmContentFilteredError):
        await client.chat(request(), feature="actions")
    await client.aclose()


async def test_length_finish_raises_unless_allowed(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(text="cut", finish_reason="length"), Reply(text="cut", finish_reason="length")
    )
    client = make_client(fake_glm)
    with pytest.raises(GlmLengthError):
        await client.chat(request(), feature="actions")
    result = await client.chat(request(), feature="completion", allow_truncated=True)
    await client.aclose()
    assert result.text == "cut" and result.finish_reason == "length"


async def test_sse_error_chunk_raises(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="x", error_chunk={"code": "1301", "message": "unsafe"}))
    client = make_client(fake_glm)
    with pytest.raises(Exception) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "content filter" in str(info.value)


async def test_connect_refused_is_connection_error() -> None:
    fake = FakeGlm().start()
    url = fake.url
    fake.stop()
    client = GlmClient(base_url=url, api_key=TEST_KEY, max_retries=1, backoff_base=0.01)
    with pytest.raises(GlmConnectionError):
        await client.chat(request(), feature="actions")
    await client.aclose()


async def test_cancel_closes_upstream_within_50ms(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="x" * 400, chunk_size=1, chunk_delay=0.02))
    client = make_client(fake_glm)
    first = asyncio.Event()

    async def consume() -> None:
        async with aclosing(client.stream_chat(request(), feature="actions")) as events:
            async for _ in events:
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(fake_glm.wait_closed, 0, 2.0)
    closed_at = fake_glm.requests[0].closed_at
    assert closed_at is not None
    assert closed_at - cancelled_at < 0.05
    assert fake_glm.requests[0].chunks_sent < 400
    await client.aclose()


async def test_connection_reused_across_requests(fake_glm: FakeGlm) -> None:
    client = make_client(fake_glm)
    await client.warm_up()
    for _ in range(3):
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert fake_glm.max_open_connections == 1
