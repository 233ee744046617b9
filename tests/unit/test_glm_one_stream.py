"""One streamed request of the GLM client against the fake GLM (glm/client.py, _one_stream):
what it sends, and the words and request id of each way a stream goes wrong."""

from __future__ import annotations

import asyncio
import json

import pytest

from glm_lsp import __version__
from glm_lsp.glm.client import MAX_REPLY_BYTES, GlmClient
from glm_lsp.glm.errors import (
    GlmConnectionError,
    GlmError,
    GlmResponseTooLargeError,
    GlmStreamBrokenError,
    GlmThinkingSpentError,
    GlmTimeoutError,
    max_tokens_setting,
)
from glm_lsp.glm.models import ChatRequest, TextDelta
from tests.conftest import TEST_KEY
from tests.fake_glm import FakeGlm, Reply


def make_client(fake: FakeGlm, **options: float) -> GlmClient:
    settings = {"max_retries": 0, "backoff_base": 0.01, "timeout": 5.0, **options}
    return GlmClient(base_url=fake.url, api_key=TEST_KEY, **settings)  # type: ignore[arg-type]


def request(**fields: object) -> ChatRequest:
    return ChatRequest(model="glm-5.1", messages=[{"role": "user", "content": "hi"}], **fields)  # type: ignore[arg-type]


async def failure(
    fake: FakeGlm, reply: Reply, *, feature: str = "actions", **fields: object
) -> GlmError:
    fake.enqueue(reply)
    client = make_client(fake)
    try:
        with pytest.raises(GlmError) as caught:
            async for _ in client.stream_chat(request(**fields), feature=feature):
                pass
    finally:
        await client.aclose()
    assert caught.value.request_id == fake.requests[-1].body["request_id"]  # for support
    return caught.value


async def test_the_request_is_json_sent_by_post(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="ok"))
    client = make_client(fake_glm)
    assert [e async for e in client.stream_chat(request(), feature="actions")]
    await client.aclose()
    sent = fake_glm.requests[0]
    assert sent.headers["content-type"] == "application/json"
    assert sent.body["messages"] == [{"role": "user", "content": "hi"}]


async def test_a_page_instead_of_a_stream_says_so(fake_glm: FakeGlm) -> None:
    page = Reply(body="<html><body>Sign in</body></html>", content_type="text/html")
    error = await failure(fake_glm, page)
    assert isinstance(error, GlmConnectionError)
    assert error.user_message == (
        f"{fake_glm.url.rstrip('/')}/ answered with text/html instead of an event stream (a "
        "proxy, or the wrong glm.baseUrl?); nothing was applied."
    )


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply(raw_events=[], close_without_done=True), GlmConnectionError),
        (Reply(text="def add(a, b):", close_without_done=True), GlmStreamBrokenError),
    ],
    ids=["before-any-text", "after-some-text"],
)
async def test_a_stream_that_stops_before_its_end(
    fake_glm: FakeGlm, reply: Reply, kind: type[GlmError]
) -> None:
    error = await failure(fake_glm, reply)
    assert type(error) is kind  # nothing yet: worth a retry; some text: a broken reply
    assert error.user_message == (
        "The GLM stream ended before the reply was complete; nothing was applied."
    )


async def test_an_error_event_is_glms_own_words(fake_glm: FakeGlm) -> None:
    error = await failure(fake_glm, Reply(text="par", error_event="Model overloaded (scripted)"))
    assert "Model overloaded (scripted)" in error.user_message


async def test_thinking_that_spends_the_budget_names_the_features_setting(
    fake_glm: FakeGlm,
) -> None:
    reply = Reply(reasoning="Let me think about this at length.", finish_reason="length")
    error = await failure(fake_glm, reply, feature="agent", max_tokens=64, thinking=True)
    assert isinstance(error, GlmThinkingSpentError)
    assert error.user_message == (
        f"GLM spent all 64 tokens thinking; raise {max_tokens_setting('agent')} "
        "(it wrote no answer; nothing was applied)."
    )


@pytest.mark.parametrize(
    ("feature", "setting"),
    [("completion", "glm.requestTimeout"), ("actions", "glm.firstTokenTimeout")],
)
async def test_no_first_token_in_time_names_the_setting_that_bounds_it(
    fake_glm: FakeGlm, feature: str, setting: str
) -> None:
    fake_glm.enqueue(Reply(text="late", first_token_delay=3.0))
    client = make_client(fake_glm, timeout=0.4, first_token_timeout=0.4)
    with pytest.raises(GlmTimeoutError) as caught:
        async for _ in client.stream_chat(request(), feature=feature):
            pass
    await client.aclose()
    assert f"({setting})" in caught.value.user_message


async def test_a_slow_reader_of_the_stream_is_not_a_stalled_stream(fake_glm: FakeGlm) -> None:
    """The chunk timeout counts GLM's silence, not the time the caller spends between
    events (an agent runs a tool, a completion is rebased)."""
    fake_glm.enqueue(Reply(text="one two three four", chunk_size=5))
    client = make_client(fake_glm, timeout=0.3)
    text = ""
    async for event in client.stream_chat(request(), feature="actions"):
        if isinstance(event, TextDelta):
            text += event.text
            await asyncio.sleep(0.7)  # longer than the chunk timeout, after every piece
    await client.aclose()
    assert text == "one two three four"


async def test_a_reply_past_the_size_limit_is_cut(fake_glm: FakeGlm) -> None:
    piece = "x" * (6 * 2**20)  # under the line limit (8 MB); three of them pass 16 MB
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
    }
    events = [json.dumps(chunk)] * (MAX_REPLY_BYTES // len(piece) + 1)
    error = await failure(fake_glm, Reply(raw_events=events, close_without_done=True))
    assert isinstance(error, GlmResponseTooLargeError)
    assert error.user_message == (
        "GLM's reply grew past 16 MB; stopped reading it, nothing was applied."
    )


async def test_a_client_made_without_options_has_the_settings_defaults(fake_glm: FakeGlm) -> None:
    """Doctor and tests build clients with the defaults: they are the settings' own."""
    from glm_lsp.config import GlmSettings

    defaults = GlmSettings()
    client = GlmClient(base_url=fake_glm.url.rstrip("/"), api_key=TEST_KEY)
    assert client.base_url == fake_glm.url.rstrip("/") + "/"
    assert client.timeout == defaults.request_timeout
    assert client.first_token_timeout == defaults.first_token_timeout
    assert client.max_retries == defaults.max_retries
    assert client.backoff_base == 0.5
    assert client.deadlines == {}
    fake_glm.enqueue(Reply(text="ok"))
    assert [e async for e in client.stream_chat(request(), feature="actions")]
    await client.aclose()
    headers = fake_glm.requests[0].headers
    assert headers["accept"] == "text/event-stream, application/json"
    assert headers["accept-encoding"] == "identity"  # nothing compressed can grow past a bound
    assert headers["user-agent"] == f"glm-lsp/{__version__}"
