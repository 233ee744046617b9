"""The pure readers behind "GLM as the service behaves now", and the client against the fake
for what a unit can show (the rows through the real server: test_service_cases.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import aclosing

import pytest

from glm_lsp.glm.chunks import ReplyReader
from glm_lsp.glm.client import GlmClient
from glm_lsp.glm.errors import (
    GlmBusyError,
    GlmEncodingRefusedError,
    GlmError,
    GlmMalformedReplyError,
    GlmPlanLimitError,
    GlmStreamBrokenError,
    error_from_response,
    local_reset_time,
)
from glm_lsp.glm.events import Finish, Restart, TextDelta, ToolCall, Waiting
from glm_lsp.glm.models import ChatRequest, ChatResult
from glm_lsp.glm.quota import describe, parse_quota, quota_url
from glm_lsp.glm.sse import BoundedSseDecoder
from glm_lsp.glm.thinking import refused_effort, without_thinking_switch
from tests.conftest import TEST_KEY
from tests.fake_glm import ALWAYS_THINKING_REFUSAL, FakeGlm, Reply, plan_limit, quota_answer


def chunk(content: str, **extra: object) -> str:
    return json.dumps(
        {"id": "x", "choices": [{"index": 0, "delta": {"content": content}}], **extra}
    )


def test_a_glued_frame_gives_the_intact_one_even_with_data_in_its_text() -> None:
    intact = chunk("x = 'data: 1'")
    events = ReplyReader("r").feed(intact[:20] + "data: " + intact)
    assert events == [TextDelta("x = 'data: 1'")]


@pytest.mark.parametrize(
    "frame",
    [
        '{"choices": 5}',
        '{"choices": [5]}',
        '{"choices": [{"delta": ["a"]}]}',
        '{"choices": [{"delta": {"content": 7}}]}',
        '{"choices": [{"delta": {"tool_calls": "x"}}]}',
    ],
)
def test_odd_json_types_are_a_clear_message(frame: str) -> None:
    with pytest.raises(GlmMalformedReplyError, match="unexpected shape"):
        ReplyReader("r").feed(frame)


def test_an_unknown_finish_reason_reads_as_stop() -> None:
    frame = json.dumps({"choices": [{"delta": {}, "finish_reason": "abort_v2"}]})
    assert ReplyReader("r").feed(frame) == [Finish("stop")]


def test_a_whole_tool_call_with_its_name_repeated_is_one_call() -> None:
    reader = ReplyReader("r")
    call = {"index": 0, "id": "c1", "function": {"name": "read_file", "arguments": '{"a": 1}'}}
    again = {"index": 0, "id": "c1", "function": {"name": "read_file", "arguments": ""}}
    for delta in (call, again):
        reader.feed(json.dumps({"choices": [{"delta": {"tool_calls": [delta]}}]}))
    done = reader.feed(json.dumps({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]}))
    assert done[0] == ToolCall("c1", "read_file", '{"a": 1}')


def test_an_error_event_ends_the_request_with_its_message() -> None:
    with pytest.raises(GlmStreamBrokenError, match="gateway lost the model"):
        ReplyReader("r").feed('{"message": "gateway lost the model"}', "error")


def test_the_sse_decoder_names_error_events() -> None:
    decoder = BoundedSseDecoder(1000)
    assert decoder.feed_events(b"event: error\ndata: x\n\ndata: y\n\n") == [
        ("error", "x"),
        ("message", "y"),
    ]


def test_the_refusal_gives_the_lowest_listed_effort() -> None:
    assert refused_effort("1210", ALWAYS_THINKING_REFUSAL) == "low"
    assert refused_effort("1210", "always engages in thinking; use high or max") == "high"
    assert refused_effort("1214", ALWAYS_THINKING_REFUSAL) is None
    assert refused_effort("1210", "Incorrect API call parameters") is None


def test_without_the_switch_keeps_the_rest() -> None:
    body = {"model": "m", "thinking": {"type": "disabled"}, "max_tokens": 5}
    assert without_thinking_switch(body, "low") == {
        "model": "m",
        "max_tokens": 5,
        "reasoning_effort": "low",
    }


@pytest.fixture
def utc_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("utc_clock")
def test_1308_reset_time_in_local_time() -> None:
    message = "Usage limit reached for 5 hour. Your limit will reset at 2026-12-01 18:42:07"
    assert local_reset_time(message) == "2026-12-01 10:42:07 UTC"
    error = error_from_response(429, "1308", message, None, None)
    assert isinstance(error, GlmPlanLimitError)
    assert "your local time: 2026-12-01 10:42:07 UTC" in error.user_message


@pytest.mark.parametrize("code", [str(c) for c in range(1314, 1322)])
def test_1314_to_1321_are_plan_codes(code: str) -> None:
    error = error_from_response(429, code, "plan says no", None, None)
    assert isinstance(error, GlmPlanLimitError) and not error.retryable


@pytest.mark.parametrize("code", ["1302", "1305"])
def test_1302_and_1305_back_off_from_30_seconds(code: str) -> None:
    error = error_from_response(429, code, "busy", None, None)
    assert isinstance(error, GlmBusyError)
    client = GlmClient(base_url="http://127.0.0.1:9/api/paas/v4/", api_key=TEST_KEY)
    assert 30 <= client._retry_delay(error, 0) <= 33
    assert 60 <= client._retry_delay(error, 1) <= 66


def test_quota_answer_parsed_by_unit() -> None:
    limits = parse_quota(quota_answer(five_hour=80, weekly=5))
    assert limits is not None
    assert [(q.window, q.percentage) for q in limits] == [("5-hour", 80.0), ("weekly", 5.0)]
    assert parse_quota({"code": 500, "msg": "no"}) is None
    assert describe(None) == "quota unknown"
    assert quota_url("https://api.z.ai/api/coding/paas/v4/") == (
        "https://api.z.ai/api/monitor/usage/quota/limit"
    )


def request(**kw: object) -> ChatRequest:
    return ChatRequest(model="glm-5.1", messages=[{"role": "user", "content": "hi"}], **kw)


def client_for(fake: FakeGlm, **kw: object) -> GlmClient:
    options: dict = {"max_retries": 1, "backoff_base": 0.01, "timeout": 5.0}
    options.update(kw)
    return GlmClient(base_url=fake.url, api_key=TEST_KEY, **options)


async def test_a_compressed_reply_is_refused_unread(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(hostile="gzip-bomb", hostile_bytes=2**20))
    client = client_for(fake_glm)
    with pytest.raises(GlmEncodingRefusedError, match="gzip, gzip"):
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert fake_glm.requests[0].headers["accept-encoding"] == "identity"


async def test_a_slow_first_token_is_reported_while_waiting(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="ok", first_token_delay=2.5))
    client = client_for(fake_glm, timeout=1.0, first_token_timeout=30.0)
    async with aclosing(client.stream_chat(request(), feature="actions")) as stream:
        events = [event async for event in stream]
    await client.aclose()
    assert any(isinstance(e, Waiting) and "first token" in e.message for e in events)
    result = ChatResult()
    for event in events:
        result.add(event)
    assert result.text == "ok"


async def test_completions_keep_the_short_first_token_budget(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="ok", first_token_delay=2.5))
    client = client_for(fake_glm, timeout=1.0, first_token_timeout=30.0)
    stream = client.stream_chat(request(), feature="completion", max_retries=0)
    with pytest.raises(GlmError, match=r"glm\.requestTimeout"):
        async with aclosing(stream) as events:
            async for _ in events:
                pass
    await client.aclose()


async def test_the_total_deadline_ends_a_trickling_reply(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="x" * 40, chunk_size=1, chunk_delay=0.1))
    client = client_for(fake_glm, deadlines={"actions": 1.0})
    with pytest.raises(GlmError, match="longer than the 1 s limit"):
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert len(fake_glm.requests) == 1


async def test_network_error_restarts_a_restartable_request(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="half", finish_reason="network_error"), Reply(text="whole"))
    client = client_for(fake_glm)
    result = ChatResult()
    restarts = 0
    stream = client.stream_chat(request(), feature="actions", restartable=True)
    async with aclosing(stream) as events:
        async for event in events:
            restarts += isinstance(event, Restart)
            result.add(event)
    await client.aclose()
    assert (result.text, restarts, len(fake_glm.requests)) == ("whole", 1, 2)


async def test_completions_never_wait_for_a_busy_backoff(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(plan_limit("1305"))
    client = client_for(fake_glm)
    stream = client.stream_chat(request(), feature="completion", max_retries=0)
    with pytest.raises(GlmBusyError):
        async with aclosing(stream) as events:
            async for _ in events:
                pass
    await client.aclose()
    assert len(fake_glm.requests) == 1


async def test_a_stall_between_chunks_times_out_at_request_timeout(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="abc", chunk_size=1, chunk_delay=2.0))
    client = client_for(fake_glm, timeout=0.5, first_token_timeout=30.0)
    with pytest.raises(GlmError, match="did not answer in time"):
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert len(fake_glm.requests) == 1  # text had arrived: not retried


async def test_next_edits_keep_the_short_first_token_budget(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="ok", first_token_delay=2.5))
    client = client_for(fake_glm, timeout=1.0, first_token_timeout=30.0)
    stream = client.stream_chat(request(), feature="nextEdit", max_retries=0)
    with pytest.raises(GlmError, match=r"glm\.requestTimeout"):
        async with aclosing(stream) as events:
            async for _ in events:
                pass
    await client.aclose()
