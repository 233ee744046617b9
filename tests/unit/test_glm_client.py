"""The GLM client against the fake upstream over real sockets."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from contextlib import aclosing

import pytest

from glm_lsp import __version__
from glm_lsp.glm.client import MAX_BODY_BYTES, GlmClient, retry_delay
from glm_lsp.glm.dialects import tool_calling_help
from glm_lsp.glm.errors import (
    KEY_HELP,
    GlmAuthError,
    GlmConnectionError,
    GlmContentFilteredError,
    GlmLengthError,
    GlmNoBalanceError,
    GlmNoKeyError,
    GlmPlanLimitError,
    GlmRateLimitError,
    GlmResponseTooLargeError,
    GlmServerError,
    GlmStatusError,
    GlmStreamBrokenError,
)
from glm_lsp.glm.events import Usage
from glm_lsp.glm.models import ChatRequest, ReasoningDelta, TextDelta, ToolCall
from glm_lsp.glm.usage import UsageLedger
from tests.conftest import TEST_KEY
from tests.fake_glm import PLAN_LIMIT_MESSAGES, FakeGlm, Reply, plan_limit


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
                {
                    "name": "search",
                    "arguments": {"query": "helper(", "regex": False},
                    "id": "call_search",
                },
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
    assert result.tool_calls[1].id == "call_search"  # the id the next turn answers to
    # The turn goes back into the next request's history in GLM's own shape.
    message = result.assistant_message()
    assert (message["role"], message["content"]) == ("assistant", "Reading.")
    assert message["tool_calls"][1] == {
        "id": "call_search",
        "type": "function",
        "function": {"name": "search", "arguments": result.tool_calls[1].arguments},
    }
    assert all(isinstance(c, ToolCall) and c.id for c in result.tool_calls)
    assert fake_glm.requests[0].body["tool_choice"] == "auto"


async def test_tool_call_pieces_without_index_or_id_make_one_call(fake_glm: FakeGlm) -> None:
    # Servers that are not GLM: no index, no id, the name in two pieces, arguments as an object.
    def chunk(delta: dict, finish: str | None = None) -> str:
        return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    fake_glm.enqueue(
        Reply(
            raw_events=[
                chunk({"tool_calls": [{"function": {"name": "read_"}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"name": "file"}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": {"path": "a"}}}]}),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": {"n": 1}}}]}),
                chunk({}, "tool_calls"),
                "[DONE]",
            ]
        )
    )
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="agent")
    await client.aclose()
    assert result.tool_calls == [ToolCall("call_0", "read_file", '{"path": "a"}{"n": 1}')]


async def test_usage_recorded_by_feature(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(text="x", usage={"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18})
    )
    ledger = UsageLedger()
    client = make_client(fake_glm, ledger=ledger)
    result = await client.chat(request(), feature="completion")
    await client.aclose()
    assert result.usage == Usage(prompt_tokens=11, completion_tokens=7, total_tokens=18)
    snap = ledger.snapshot()
    assert snap["byFeature"] == {
        "completion": {
            "requests": 1,
            "promptTokens": 11,
            "completionTokens": 7,
            "cachedTokens": 0,
            "reasoningTokens": 0,
        }
    }


async def test_cached_and_reasoning_tokens_recorded_per_feature_and_in_total(
    fake_glm: FakeGlm,
) -> None:
    fake_glm.enqueue(
        Reply(text="a", reasoning="think " * 8, chunk_size=8, cached_tokens=6),
        Reply(text="b", cached_tokens=2),
    )
    ledger = UsageLedger()
    client = make_client(fake_glm, ledger=ledger)
    await client.chat(request(thinking=True), feature="agent")
    await client.chat(request(), feature="completion")
    await client.aclose()
    snap = ledger.snapshot()
    by_feature = snap["byFeature"]
    assert isinstance(by_feature, dict)
    assert by_feature["agent"]["cachedTokens"] == 6
    assert by_feature["agent"]["reasoningTokens"] == 6  # one per streamed reasoning chunk
    assert by_feature["completion"]["cachedTokens"] == 2
    assert by_feature["completion"]["reasoningTokens"] == 0
    assert snap["cachedTokens"] == 8 and snap["reasoningTokens"] == 6


async def test_a_failed_request_is_counted_with_no_tokens(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(text="x", usage={"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}),
        Reply(status=401, error_code="1002", error_message="bad key"),
    )
    ledger = UsageLedger()
    client = make_client(fake_glm, ledger=ledger)
    await client.chat(request(), feature="actions")
    with pytest.raises(GlmAuthError):
        await client.chat(request(), feature="actions")
    await client.aclose()
    actions = ledger.snapshot()["byFeature"]["actions"]  # type: ignore[index]
    assert (actions["requests"], actions["promptTokens"]) == (2, 11)


async def test_user_agent_names_glm_lsp_and_its_version_on_every_request(
    fake_glm: FakeGlm,
) -> None:
    client = make_client(fake_glm)
    await client.warm_up()
    await client.chat(request(), feature="actions")
    await client.aclose()
    expected = f"glm-lsp/{__version__}"
    assert fake_glm.other_headers and fake_glm.other_headers[0]["user-agent"] == expected
    assert fake_glm.requests[0].headers["user-agent"] == expected
    # No compressed bodies: one that expands past the bounds would defeat them.
    assert fake_glm.requests[0].headers["accept-encoding"] == "identity"


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
    assert (info.value.status, info.value.code) == (502, "502")
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


def test_no_key_says_where_to_put_one() -> None:
    message = GlmNoKeyError().user_message
    assert message == f"No GLM API key found. {KEY_HELP}"
    assert "BIGMODEL_API_KEY" in message


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
    with pytest.raises(GlmRateLimitError) as info:
        await client.chat(request(), feature="actions")
    assert (info.value.status, info.value.code) == (429, "1305")
    assert "rate limiting or overloaded" in info.value.user_message
    assert info.value.request_id == fake_glm.requests[-1].body["request_id"]
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
    with pytest.raises(GlmContentFilteredError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    message = "GLM's content filter stopped the reply; nothing was applied."
    assert info.value.user_message == message
    assert info.value.request_id == fake_glm.requests[0].body["request_id"]


async def test_a_network_error_finish_breaks_the_stream(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="partial", finish_reason="network_error"))
    client = make_client(fake_glm)
    with pytest.raises(GlmStreamBrokenError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "network error mid-reply" in info.value.user_message


async def test_length_finish_raises_unless_allowed(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(text="cut", finish_reason="length"), Reply(text="cut", finish_reason="length")
    )
    client = make_client(fake_glm)
    with pytest.raises(GlmLengthError) as info:
        await client.chat(request(), feature="actions")
    result = await client.chat(request(), feature="completion", allow_truncated=True)
    await client.aclose()
    assert result.text == "cut" and result.finish_reason == "length"
    assert info.value.user_message.startswith(
        "GLM's reply was cut off (token limit); nothing was applied. Select less code or raise "
    )
    assert info.value.request_id == fake_glm.requests[0].body["request_id"]


async def test_a_full_context_window_is_a_cut_reply_even_when_cuts_are_allowed(
    fake_glm: FakeGlm,
) -> None:
    fake_glm.enqueue(Reply(text="cut", finish_reason="model_context_window_exceeded"))
    client = make_client(fake_glm)
    with pytest.raises(GlmLengthError):
        await client.chat(request(), feature="completion", allow_truncated=True)
    await client.aclose()


async def test_a_streamed_reply_cut_by_its_length_raises_unless_allowed(
    fake_glm: FakeGlm,
) -> None:
    fake_glm.enqueue(Reply(text="cut", finish_reason="length"))
    client = make_client(fake_glm)
    with pytest.raises(GlmLengthError):
        async with aclosing(client.stream_chat(request(), feature="actions")) as events:
            async for _ in events:
                pass
    await client.aclose()


async def test_a_callers_max_retries_wins_over_the_clients(fake_glm: FakeGlm) -> None:
    # Completions pass 0: the next keystroke is their retry.
    fake_glm.enqueue(Reply(status=500), Reply(text="not asked"))
    client = make_client(fake_glm, max_retries=3)
    with pytest.raises(GlmServerError):
        async with aclosing(
            client.stream_chat(request(), feature="completion", max_retries=0)
        ) as events:
            async for _ in events:
                pass
    await client.aclose()
    assert len(fake_glm.requests) == 1


async def test_every_request_has_its_own_request_id(fake_glm: FakeGlm) -> None:
    client = make_client(fake_glm)
    for _ in range(2):
        await client.chat(request(), feature="actions")
    await client.aclose()
    ids = [str(r.body["request_id"]) for r in fake_glm.requests]
    assert len(set(ids)) == 2 and all(len(i) == 36 for i in ids)  # a UUID each


async def test_sse_error_chunk_raises(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="x", error_chunk={"code": "1301", "message": "unsafe"}))
    client = make_client(fake_glm)
    with pytest.raises(Exception) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "content filter" in str(info.value)


async def test_an_error_event_keeps_glms_code_words_and_request_id(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(error_chunk={"code": "1234", "message": "upstream overloaded"}))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmStreamBrokenError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert info.value.user_message == (
        "GLM reported an error mid-reply (code 1234) (upstream overloaded); nothing was applied."
    )
    assert (info.value.status, info.value.code) == (200, "1234")
    assert info.value.request_id == fake_glm.requests[0].body["request_id"]


async def test_an_error_event_that_is_only_words_is_shown(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(raw_events=['{"error": "upstream timed out"}']))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmStreamBrokenError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "(upstream timed out)" in info.value.user_message


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
    assert fake_glm.other_requests == ["/api/paas/v4/models"]  # the warm-up's request


# -- retries: Retry-After and backoff ------------------------------------------------------


async def test_retry_after_is_capped_at_30_seconds(
    fake_glm: FakeGlm, caplog: pytest.LogCaptureFixture
) -> None:
    fake_glm.enqueue(Reply(status=429, error_code="1302", headers={"Retry-After": "3600"}))
    client = make_client(fake_glm, max_retries=1)
    caplog.set_level(logging.INFO, logger="glm_lsp.glm.client")
    task = asyncio.create_task(client.chat(request(), feature="actions"))
    try:
        for _ in range(200):
            if any("retry 1/1" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.025)
        waits = [r.getMessage() for r in caplog.records if "retry 1/1" in r.getMessage()]
        assert waits and waits[0].endswith("in 30.00s"), waits  # not an hour
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await client.aclose()


def test_retry_delay_prefers_retry_after_up_to_its_cap() -> None:
    assert retry_delay(0, 3600.0, 0.5) == 30.0
    assert retry_delay(3, 2.0, 0.5) == 2.0
    assert 4.0 <= retry_delay(3, None, 0.5) <= 6.0  # 0.5 * 2**3, plus up to half as jitter
    assert 8.0 <= retry_delay(10, None, 0.5) <= 12.0  # the backoff's own cap


@pytest.mark.parametrize(("draw", "expected"), [("low", 1.0), ("high", 1.5)])
def test_the_jitter_adds_from_nothing_up_to_half_the_backoff(
    monkeypatch: pytest.MonkeyPatch, draw: str, expected: float
) -> None:
    # The ends of the random draw, to see its bounds exactly.
    monkeypatch.setattr(random, "uniform", lambda a, b: a if draw == "low" else b)
    assert retry_delay(1, None, 0.5) == expected


async def test_retry_after_as_an_http_date_is_honoured(fake_glm: FakeGlm) -> None:
    when = email.utils.formatdate(time.time() + 2.5, usegmt=True)
    fake_glm.enqueue(Reply(status=503, headers={"Retry-After": when}), Reply(text="after the date"))
    client = make_client(fake_glm, backoff_base=0.01)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "after the date"
    first, second = fake_glm.requests
    assert first.finished_at is not None
    # The date has whole seconds: 2.5 s ahead is at least 1.5 s of waiting, far above the
    # 0.01 s backoff a client that ignores the date would wait.
    assert second.started_at - first.finished_at >= 1.4


async def test_backoff_grows_exponentially_past_the_first_retry(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(*[Reply(status=503) for _ in range(3)], Reply(text="fourth time"))
    client = make_client(fake_glm, backoff_base=0.2, max_retries=3)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "fourth time"
    gaps = []
    for before, after in zip(fake_glm.requests, fake_glm.requests[1:], strict=False):
        assert before.finished_at is not None
        gaps.append(after.started_at - before.finished_at)
    assert len(gaps) == 3
    for attempt, gap in enumerate(gaps):
        assert gap >= 0.2 * 2**attempt * 0.95, gaps  # 0.2, 0.4, 0.8 s at least


# -- GLM's plan and quota codes -------------------------------------------------------------


@pytest.mark.parametrize("code", ["1308", "1309", "1310", "1311", "1313"])
async def test_plan_limits_are_not_retried_and_keep_glm_words(fake_glm: FakeGlm, code: str) -> None:
    fake_glm.enqueue(plan_limit(code), Reply(text="must not be asked for"))
    client = make_client(fake_glm)
    with pytest.raises(GlmPlanLimitError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert len(fake_glm.requests) == 1
    assert PLAN_LIMIT_MESSAGES[code] in info.value.user_message
    assert f"code {code}" in info.value.user_message


async def test_1308_message_shows_the_reset_time(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(plan_limit("1308"))
    client = make_client(fake_glm)
    with pytest.raises(GlmPlanLimitError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "reset at 2026-12-01 18:42:07" in info.value.user_message


async def test_1312_model_busy_is_retried_like_1305(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(plan_limit("1312", headers={"Retry-After": "0"}), Reply(text="served"))
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "served"
    assert len(fake_glm.requests) == 2


async def test_1312_in_a_streams_error_event_is_retried(fake_glm: FakeGlm) -> None:
    # Not a 429 this time: the busy code alone says a retry is worth it.
    busy = {"code": "1312", "message": PLAN_LIMIT_MESSAGES["1312"]}
    fake_glm.enqueue(Reply(error_chunk=busy), Reply(text="served"))
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "served"
    assert len(fake_glm.requests) == 2


async def test_1214_invalid_parameter_not_retried_and_shown(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(status=400, error_code="1214", error_message="Invalid temperature parameter"),
        Reply(text="must not be asked for"),
    )
    client = make_client(fake_glm)
    with pytest.raises(GlmStatusError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert len(fake_glm.requests) == 1
    assert "Invalid temperature parameter" in info.value.user_message
    assert "1214" in info.value.user_message


# -- the key in GLM's own words ---------------------------------------------------------------


def _key_fragments(key: str, size: int = 6) -> list[str]:
    return [key[i : i + size] for i in range(len(key) - size + 1) if "." not in key[i : i + size]]


@pytest.mark.parametrize(
    ("length", "shown"), [(300, "m" * 300), (301, "m" * 299 + "…"), (5000, "m" * 299 + "…")]
)
async def test_glms_message_is_cut_at_300_characters(
    fake_glm: FakeGlm, length: int, shown: str
) -> None:
    fake_glm.enqueue(Reply(status=400, error_code="1214", error_message="m" * length))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmStatusError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert info.value.user_message.endswith(f"({shown}).")


async def test_the_upstreams_request_id_is_kept(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(status=400, error_code="1214", headers={"X-Request-Id": "req-42"}))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmStatusError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert info.value.request_id == "req-42"  # what GLM's support can look up


@pytest.mark.parametrize(
    "value", ["0", "-5", email.utils.formatdate(time.time() - 60, usegmt=True)]
)
async def test_a_retry_after_now_or_past_means_no_wait(fake_glm: FakeGlm, value: str) -> None:
    fake_glm.enqueue(Reply(status=429, error_code="1302", headers={"Retry-After": value}))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmRateLimitError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert info.value.retry_after == 0.0


async def test_vllm_without_tool_calling_says_how_to_start_it() -> None:
    with FakeGlm(dialect="vllm") as fake:
        fake.auto_tool_choice = False  # vLLM started without --enable-auto-tool-choice
        client = make_client(fake, max_retries=0)
        tools = [{"type": "function", "function": {"name": "read_file"}}]
        with pytest.raises(GlmStatusError) as info:
            await client.chat(request(tools=tools), feature="agent")
        await client.aclose()
        sent = fake.requests[0].body["request_id"]
    assert info.value.user_message == tool_calling_help()
    assert (info.value.status, info.value.code, info.value.request_id) == (400, "400", sent)


async def test_an_error_body_of_exactly_64_kb_is_read_whole(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(status=500, body="x" * MAX_BODY_BYTES))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmServerError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "KB" not in info.value.user_message  # at the bound, not over it


async def test_an_error_without_a_code_has_none(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(status=500, body='{"error": {"message": "boom"}}'))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmServerError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert info.value.code is None
    assert "(boom)" in info.value.user_message


async def test_a_key_split_across_the_message_cut_appears_nowhere(fake_glm: FakeGlm) -> None:
    # The message is cut near 300 characters: put the key across the cut at every offset.
    offsets = range(300 - len(TEST_KEY) - 2, 302)
    fake_glm.enqueue(
        *[
            Reply(status=500, error_message="x" * offset + TEST_KEY + " trailing words")
            for offset in offsets
        ]
    )
    client = make_client(fake_glm, max_retries=0)
    for offset in offsets:
        with pytest.raises(GlmServerError) as info:
            await client.chat(request(), feature="actions")
        message = info.value.user_message
        leaked = [f for f in _key_fragments(TEST_KEY) if f in message]
        assert leaked == [], (offset, message[-80:])
    await client.aclose()


@pytest.mark.parametrize("half", ["secret", "id"])
async def test_either_half_of_the_key_alone_is_redacted(fake_glm: FakeGlm, half: str) -> None:
    key_id, _, secret = TEST_KEY.partition(".")
    alone = secret if half == "secret" else key_id
    fake_glm.enqueue(Reply(status=401, error_code="1002", error_message=f"bad token {alone}!"))
    client = make_client(fake_glm)
    with pytest.raises(GlmAuthError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert alone not in info.value.user_message
    assert "bad token [REDACTED]!" in info.value.user_message


# -- stale kept-alive connections -----------------------------------------------------------


async def test_stale_connection_is_retried_at_once_even_without_retries(
    fake_glm: FakeGlm,
) -> None:
    fake_glm.enqueue(
        Reply(text="warm"), Reply(hang_up_unanswered=True), Reply(text="on a fresh connection")
    )
    client = make_client(fake_glm, max_retries=0, backoff_base=60.0)
    assert (await client.chat(request(), feature="completion")).text == "warm"
    started = time.monotonic()
    result = await client.chat(request(), feature="completion")
    elapsed = time.monotonic() - started
    await client.aclose()
    assert result.text == "on a fresh connection"
    assert len(fake_glm.requests) == 3
    # At once, not after a backoff: the 60-s one sits far above what a loaded machine adds.
    assert elapsed < 30.0


async def test_a_reset_before_any_answer_is_a_stale_connection(fake_glm: FakeGlm) -> None:
    # The server's close crossed our request on the wire: it never reached the model.
    fake_glm.enqueue(Reply(reset_unanswered=True), Reply(text="on a fresh connection"))
    client = make_client(fake_glm, max_retries=0)
    result = await client.chat(request(), feature="completion")
    await client.aclose()
    assert result.text == "on a fresh connection"
    assert len(fake_glm.requests) == 2


async def test_stale_connection_is_retried_only_once(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(*[Reply(hang_up_unanswered=True) for _ in range(3)])
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmConnectionError) as info:
        await client.chat(request(), feature="completion")
    await client.aclose()
    assert len(fake_glm.requests) == 2
    assert "closed before any answer" in info.value.user_message


async def test_headers_then_hang_up_is_not_a_stale_connection(fake_glm: FakeGlm) -> None:
    # The server answered (200, event stream) and then broke: the model may have run, so
    # only the retries the caller allows apply (none here).
    fake_glm.enqueue(Reply(text="lost", disconnect_after=0), Reply(text="not asked"))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmConnectionError):
        await client.chat(request(), feature="completion")
    await client.aclose()
    assert len(fake_glm.requests) == 1


async def test_a_reset_after_the_headers_is_not_a_stale_connection(fake_glm: FakeGlm) -> None:
    # A 200 came back, then a TCP reset: the model may have run, so no free retry (a reset
    # before any answer is the stale case, retried at once).
    fake_glm.enqueue(Reply(reset_after_headers=True), Reply(text="not asked"))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmConnectionError) as info:
        await client.chat(request(), feature="completion")
    await client.aclose()
    assert len(fake_glm.requests) == 1
    assert "connection to GLM broke" in info.value.user_message


# -- bounded input ----------------------------------------------------------------------------


async def test_huge_error_body_is_read_only_to_64_kb(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(hostile="error-body"))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmServerError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "HTTP 500" in info.value.user_message
    assert f"over {MAX_BODY_BYTES // 1024} KB" in info.value.user_message
    assert fake_glm.wait_closed(0)  # we hung up, the fake did not get to send 2 GB


async def test_a_proxys_plain_text_error_page_is_not_called_a_huge_body(
    fake_glm: FakeGlm,
) -> None:
    fake_glm.enqueue(Reply(status=502, body="Bad Gateway"))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmServerError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "HTTP 502" in info.value.user_message
    assert "KB" not in info.value.user_message
    assert info.value.code is None  # no business code in a proxy's page


async def test_vllms_own_error_form_keeps_its_words() -> None:
    # vLLM answers {"object": "error", "message": ...} at the top level, not under "error".
    with FakeGlm(dialect="vllm") as fake:
        fake.enqueue(Reply(status=400, error_message="max_tokens must be at most 4096"))
        client = make_client(fake, max_retries=0)
        with pytest.raises(GlmStatusError) as info:
            await client.chat(request(), feature="actions")
        await client.aclose()
    assert "max_tokens must be at most 4096" in info.value.user_message
    assert info.value.code == "400"


async def test_huge_html_body_is_named_and_not_read(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(hostile="html-body"))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmConnectionError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "text/html instead of an event stream" in info.value.user_message
    assert fake_glm.wait_closed(0)


@pytest.mark.parametrize("kind", ["endless-line", "long-line"])
async def test_a_line_over_8_mb_ends_the_request(fake_glm: FakeGlm, kind: str) -> None:
    fake_glm.enqueue(Reply(hostile=kind, hostile_bytes=40 * 2**20))
    client = make_client(fake_glm, max_retries=2)
    with pytest.raises(GlmResponseTooLargeError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "over 8 MB" in info.value.user_message
    assert len(fake_glm.requests) == 1  # a bound is final: no retry


async def test_deeply_nested_json_line_is_skipped_and_the_reply_goes_on(
    fake_glm: FakeGlm,
) -> None:
    fake_glm.enqueue(Reply(hostile="deep-line", text="y = 2\n"))
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "y = 2\n"


async def test_deeply_nested_tool_arguments_arrive_as_text(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(hostile="deep-tool-arguments"))
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="agent")
    await client.aclose()
    assert [call.name for call in result.tool_calls] == ["read_file"]
    assert result.tool_calls[0].arguments.startswith('{"path": [[[')


async def test_a_reply_past_16_mb_in_small_lines_ends_the_request(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="a" * (17 * 2**20), chunk_size=2**16))
    client = make_client(fake_glm)
    with pytest.raises(GlmResponseTooLargeError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert "past 16 MB" in info.value.user_message
    assert len(fake_glm.requests) == 1


async def test_a_usage_count_that_is_not_a_number_costs_no_reply(fake_glm: FakeGlm) -> None:
    usage = {
        "prompt_tokens": "lots",
        "completion_tokens": 3,
        "total_tokens": None,
        "prompt_tokens_details": ["not", "an", "object"],
    }
    fake_glm.enqueue(Reply(text="kept", usage=usage))
    ledger = UsageLedger()
    client = make_client(fake_glm, ledger=ledger)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "kept" and result.finish_reason == "stop"
    assert ledger.snapshot()["promptTokens"] == 0
    assert ledger.snapshot()["completionTokens"] == 3


@pytest.mark.parametrize("usage", [["not", "an", "object"], "lots", 7])
async def test_a_usage_that_is_not_an_object_costs_no_reply(
    fake_glm: FakeGlm, usage: object
) -> None:
    fake_glm.enqueue(Reply(text="kept", usage=usage))  # type: ignore[arg-type]
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.text == "kept"
    assert result.usage == Usage()


async def test_counts_past_2_to_the_53_or_infinite_read_as_0(fake_glm: FakeGlm) -> None:
    # Past 2**53 a JSON number is no longer an exact count; Infinity would not convert at all.
    usage = {"prompt_tokens": 1200, "completion_tokens": 2**53, "total_tokens": float("inf")}
    fake_glm.enqueue(Reply(text="kept", usage=usage))
    client = make_client(fake_glm)
    result = await client.chat(request(), feature="actions")
    await client.aclose()
    assert result.usage == Usage(prompt_tokens=1200, completion_tokens=0, total_tokens=0)


# -- the model list (glm-lsp doctor) -----------------------------------------------------------


async def test_the_model_list_is_its_ids(fake_glm: FakeGlm) -> None:
    fake_glm.models = ["glm-5.1", "glm-4.7-flash"]
    client = make_client(fake_glm)
    assert await client.list_models() == ["glm-5.1", "glm-4.7-flash"]
    await client.aclose()
    assert fake_glm.other_requests == ["/api/paas/v4/models"]


async def test_entries_without_an_id_are_not_models(fake_glm: FakeGlm) -> None:
    data = [{"id": "a"}, {"object": "model"}, "b", {"id": ""}, {"id": "c"}]
    fake_glm.models_reply = Reply(body=json.dumps({"object": "list", "data": data}))
    client = make_client(fake_glm)
    assert await client.list_models() == ["a", "c"]
    await client.aclose()


@pytest.mark.parametrize(
    "body",
    [
        "<html>not json</html>",
        '{"data": "glm-5.1"}',
        "[1]",
        '{"data": [' + " " * 70_000,
        '{"data": [{"id": "a"}]}' + " " * 70_000,  # past 64 KB: not read as a list at all
    ],
)
async def test_an_answer_that_is_no_model_list_says_so(fake_glm: FakeGlm, body: str) -> None:
    fake_glm.models_reply = Reply(body=body)
    client = make_client(fake_glm)
    with pytest.raises(GlmConnectionError) as info:
        await client.list_models()
    await client.aclose()
    assert info.value.user_message.endswith("models did not answer with a model list.")
    assert fake_glm.url in info.value.user_message


async def test_a_refused_model_list_keeps_glms_words(fake_glm: FakeGlm) -> None:
    fake_glm.models_reply = Reply(status=401, error_code="1002", error_message="token expired")
    client = make_client(fake_glm)
    with pytest.raises(GlmAuthError) as info:
        await client.list_models()
    await client.aclose()
    assert "token expired" in info.value.user_message
    assert info.value.request_id == "models"  # which request it was, where no id came back


async def test_a_huge_error_body_for_the_model_list_is_read_only_to_64_kb(
    fake_glm: FakeGlm,
) -> None:
    fake_glm.models_reply = Reply(status=502, body="x" * (MAX_BODY_BYTES + 10))
    client = make_client(fake_glm)
    with pytest.raises(GlmServerError) as info:
        await client.list_models()
    await client.aclose()
    assert f"over {MAX_BODY_BYTES // 1024} KB" in info.value.user_message


async def test_an_unreachable_model_list_names_the_url() -> None:
    fake = FakeGlm().start()
    url = fake.url
    fake.stop()
    client = GlmClient(base_url=url, api_key=TEST_KEY, timeout=5.0)
    with pytest.raises(GlmConnectionError) as info:
        await client.list_models()
    await client.aclose()
    assert info.value.user_message == f"Cannot reach GLM at {url} (ConnectError)."
