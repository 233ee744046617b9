"""The GLM client's errors, waits and bodies (glm/client.py): the words a user reads and the
values the client acts on."""

from __future__ import annotations

import asyncio
import json
import random
import re
from contextlib import aclosing
from datetime import datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest

from glm_lsp import __version__
from glm_lsp.glm import client as client_module
from glm_lsp.glm.client import (
    MAX_REPLY_BYTES,
    GlmClient,
    _Clock,
    _next_try,
    _status_error,
    _Watchdog,
)
from glm_lsp.glm.errors import (
    GlmAlwaysThinkingError,
    GlmBusyError,
    GlmConnectionError,
    GlmDeadlineError,
    GlmEncodingRefusedError,
    GlmError,
    GlmResponseTooLargeError,
    GlmServerError,
    GlmStatusError,
    GlmStreamBrokenError,
    GlmThinkingSpentError,
    GlmTimeoutError,
    max_tokens_setting,
)
from glm_lsp.glm.events import Waiting
from glm_lsp.glm.models import ChatRequest, TextDelta
from glm_lsp.glm.thinking import always_thinking_notice, unasked_reasoning_notice
from glm_lsp.log import redact
from tests.conftest import TEST_KEY
from tests.fake_glm import ALWAYS_THINKING_REFUSAL, FakeGlm, Reply

WEB_PAGE = (
    "The endpoint answered with a web page (HTTP 502): check glm.baseUrl "
    "(a proxy or gateway answered, not GLM's API)."
)
WRONG_PATH = (
    "the base URL's path is wrong; check glm.baseUrl (GLM's is "
    "https://open.bigmodel.cn/api/paas/v4/ or https://api.z.ai/api/paas/v4/, the Coding "
    "Plan's /api/coding/paas/v4/)."
)


def status_error(status: int, body: bytes, headers: dict[str, str] | None = None) -> GlmError:
    response = httpx.Response(status, headers=headers or {}, content=body)
    return _status_error(response, body, False, "req-1")


def make_client(fake: FakeGlm, **kw: object) -> GlmClient:
    options: dict = {"max_retries": 1, "backoff_base": 0.01, "timeout": 5.0}
    options.update(kw)
    return GlmClient(base_url=fake.url, api_key=TEST_KEY, **options)


def request(model: str = "glm-5.1", **kw: object) -> ChatRequest:
    return ChatRequest(model=model, messages=[{"role": "user", "content": "hi"}], **kw)


# -- error bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Type": "text/html; charset=utf-8"}, b"Bad gateway"),
        ({}, b"  \n<!DOCTYPE html><html><body>502</body></html>"),
        ({"Content-Type": "text/plain"}, b"<HTML><BODY>502 Bad Gateway</BODY></HTML>"),
    ],
)
def test_a_web_page_says_check_the_base_url(headers: dict[str, str], body: bytes) -> None:
    exc = status_error(502, body, headers)
    assert type(exc) is GlmStatusError
    assert (exc.user_message, exc.status, exc.request_id) == (WEB_PAGE, 502, "req-1")


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Type": "text/plain"}, b"upstream connect error"),
        ({"Content-Type": "text/html"}, b'"gateway timeout"'),  # JSON, whatever the type says
    ],
)
def test_a_body_that_is_no_page_is_a_server_error(headers: dict[str, str], body: bytes) -> None:
    exc = status_error(502, body, headers)
    assert isinstance(exc, GlmServerError)
    assert exc.user_message == "GLM had a server error (HTTP 502)."


def test_springs_404_names_the_path_and_the_right_base_urls() -> None:
    body = (
        b'{"timestamp": "2026-12-01T10:00:00.000+00:00", "status": 404, "error": "Not Found", '
        b'"path": "/api/v4/chat/completions"}'
    )
    exc = status_error(404, body)
    assert type(exc) is GlmStatusError
    assert exc.user_message == (
        f"GLM's host answered 404 Not Found for /api/v4/chat/completions: {WRONG_PATH}"
    )
    assert (exc.status, exc.code, exc.request_id) == (404, None, "req-1")


def test_springs_404_without_a_path_or_error_words() -> None:
    exc = status_error(404, b'{"status": 404, "error": "", "path": null}')
    assert exc.user_message == f"GLM's host answered 404 for the request's path: {WRONG_PATH}"


@pytest.mark.parametrize(
    "body",
    [
        b'{"code": 1305, "msg": "concurrency too high", "path": "/api/paas/v4/chat"}',
        b'{"error": "Too Many Requests", "code": "1305", "message": "concurrency too high"}',
    ],
)
def test_a_top_level_code_is_glms_words_not_springs(body: bytes) -> None:
    exc = status_error(429, body)
    assert isinstance(exc, GlmBusyError)
    assert exc.user_message == (
        "GLM is rate limiting or overloaded (code 1305) (concurrency too high); try again shortly."
    )
    assert exc.code == "1305"


def test_vllms_error_object_gives_its_message() -> None:
    body = b'{"object": "error", "message": "The model `glm-9` does not exist.", "type": "x"}'
    exc = status_error(404, body)
    said = "The model `glm-9` does not exist."
    assert exc.user_message == f"GLM refused the request (HTTP 404) ({said})."


def test_a_thinking_refusal_carries_the_effort_to_retry_with() -> None:
    body = b'{"error": {"code": "1210", "message": "%s"}}' % ALWAYS_THINKING_REFUSAL.encode()
    exc = status_error(400, body, {"X-Request-Id": "srv-9"})
    assert isinstance(exc, GlmAlwaysThinkingError)
    assert exc.user_message == (
        f"GLM refused thinking off: this model always thinks ({ALWAYS_THINKING_REFUSAL})."
    )
    assert (exc.effort, exc.status, exc.code, exc.request_id) == ("low", 400, "1210", "srv-9")


async def test_a_compressed_error_body_is_refused_with_the_requests_id(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(hostile="gzip-bomb-error", hostile_bytes=2**16))
    client = make_client(fake_glm, max_retries=0)
    with pytest.raises(GlmEncodingRefusedError) as info:
        await client.chat(request(), feature="actions")
    await client.aclose()
    assert info.value.status == 500
    assert info.value.request_id == fake_glm.requests[0].body["request_id"]


# -- retries -----------------------------------------------------------------------------------


def test_the_next_try_is_named_by_its_local_time() -> None:
    message = _next_try(GlmBusyError("busy", code="1305"), 600.0)
    found = re.fullmatch(
        r"GLM is busy \(code 1305\); next try at (\d\d):(\d\d):(\d\d) \(in 600 s\)", message
    )
    assert found is not None
    hours, minutes, seconds = (int(part) for part in found.groups())
    expected = datetime.now() + timedelta(seconds=600)
    off = (hours - expected.hour) * 3600 + (minutes - expected.minute) * 60
    off += seconds - expected.second
    assert abs((off + 43200) % 86400 - 43200) < 60  # ten minutes ahead, not behind


def test_a_busy_wait_without_a_code_names_none() -> None:
    message = _next_try(GlmBusyError("busy"), 2.0)
    assert re.fullmatch(r"GLM is busy; next try at \d\d:\d\d:\d\d \(in 2 s\)", message)


async def test_a_busy_retry_says_when_it_tries_again(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(status=429, error_code="1305", error_message="busy", headers={"Retry-After": "1"}),
        Reply(text="ok"),
    )
    client = make_client(fake_glm)
    async with aclosing(client.stream_chat(request(), feature="actions")) as stream:
        waits = [event async for event in stream if isinstance(event, Waiting)]
    await client.aclose()
    assert len(waits) == 1 and waits[0].seconds == 1.0
    busy = r"GLM is busy \(code 1305\); next try at \d\d:\d\d:\d\d \(in 1 s\)"
    assert re.fullmatch(busy, waits[0].message)


@pytest.mark.parametrize(
    ("attempt", "end", "delay"),
    [(0, "low", 30.0), (0, "high", 33.0), (1, "high", 66.0), (3, "high", 132.0)],
)
async def test_a_busy_backoff_adds_up_to_a_tenth_as_jitter(
    monkeypatch: pytest.MonkeyPatch, attempt: int, end: str, delay: float
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: low if end == "low" else high)
    client = GlmClient(base_url="http://127.0.0.1:9/", api_key=TEST_KEY)
    assert client._retry_delay(GlmBusyError("busy", code="1305"), attempt) == delay
    await client.aclose()


# -- thinking ----------------------------------------------------------------------------------


async def test_a_refused_thinking_switch_is_dropped_and_remembered(fake_glm: FakeGlm) -> None:
    fake_glm.always_thinking = "refuse"
    fake_glm.always_thinking_models = {"glm-5.1"}
    notices: list[str] = []
    client = make_client(fake_glm, on_notice=notices.append)
    for model in ("glm-5.1", "glm-5.1", "glm-4.7"):
        result = await client.chat(request(model, thinking=False), feature="completion")
        assert result.text == "OK"
    await client.aclose()
    sent = [(r.body.get("thinking"), r.body.get("reasoning_effort")) for r in fake_glm.requests]
    off = {"type": "disabled"}
    assert sent == [(off, None), (None, "low"), (None, "low"), (off, None)]
    assert notices == [always_thinking_notice("glm-5.1", "low")]


async def test_a_second_refusal_of_thinking_off_is_not_retried(fake_glm: FakeGlm) -> None:
    refusal = Reply(status=400, error_code="1210", error_message=ALWAYS_THINKING_REFUSAL)
    fake_glm.enqueue(refusal, refusal)
    client = make_client(fake_glm)
    with pytest.raises(GlmAlwaysThinkingError):
        await client.chat(request(thinking=False), feature="completion")
    await client.aclose()
    assert len(fake_glm.requests) == 2


async def test_reasoning_although_thinking_was_off_is_counted_once_per_reply(
    fake_glm: FakeGlm,
) -> None:
    fake_glm.always_thinking = "ignore"  # thinks in several reasoning chunks, switch or not
    notices: list[str] = []
    client = make_client(fake_glm, on_notice=notices.append)
    for _ in range(2):
        await client.chat(request(thinking=False), feature="completion")
    await client.aclose()
    counts = client.ledger.snapshot()["byFeature"]
    assert isinstance(counts, dict)
    assert counts["completion"]["unaskedReasoning"] == 2
    assert notices == [unasked_reasoning_notice("glm-5.1")]


@pytest.mark.parametrize("thinking", [True, False])
async def test_no_unasked_reasoning_when_asked_or_none_came(
    fake_glm: FakeGlm, thinking: bool
) -> None:
    fake_glm.enqueue(Reply(text="x = 1", reasoning="Let me think it over." if thinking else ""))
    notices: list[str] = []
    client = make_client(fake_glm, on_notice=notices.append)
    await client.chat(request(thinking=thinking), feature="completion")
    await client.aclose()
    counts = client.ledger.snapshot()["byFeature"]
    assert isinstance(counts, dict)
    assert "unaskedReasoning" not in counts["completion"]
    assert notices == []


# -- warm-up -----------------------------------------------------------------------------------


async def test_warm_up_waits_at_most_five_seconds() -> None:
    seen: list[httpx.Request] = []

    def answer(sent: httpx.Request) -> httpx.Response:
        seen.append(sent)
        return httpx.Response(200, stream=httpx.ByteStream(b'{"object": "list", "data": []}'))

    client = GlmClient(base_url="http://glm.test/api/paas/v4", api_key=TEST_KEY, timeout=120.0)
    await client._http.aclose()
    client._http = httpx.AsyncClient(
        base_url=client.base_url, transport=httpx.MockTransport(answer), timeout=120.0
    )
    await client.warm_up()
    await client.aclose()
    assert [(r.method, str(r.url)) for r in seen] == [("GET", "http://glm.test/api/paas/v4/models")]
    assert seen[0].extensions["timeout"] == {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}


# -- the clock of one attempt ------------------------------------------------------------------


def at(monkeypatch: pytest.MonkeyPatch, now: float) -> None:
    monkeypatch.setattr(client_module, "time", SimpleNamespace(monotonic=lambda: now))


def test_waiting_says_how_long_so_far(monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, 13.25)
    waiting = _Clock(10.0, 300.0, None, None, "r").waiting()
    assert waiting == Waiting("waiting for GLM's first token: 3 s (up to 300 s)", 3.25)


def test_a_stall_after_the_first_token_is_a_read_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, 20.0)
    exc = _Clock(10.0, 300.0, None, None, "r-7").timed_out()
    assert isinstance(exc, GlmTimeoutError)
    assert exc.user_message == "GLM did not answer in time (ReadTimeout)."
    assert exc.request_id == "r-7"


def test_no_first_token_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, 20.0)
    exc = _Clock(10.0, 300.0, 50.0, 40.0, "r-7").timed_out(first=True)
    assert isinstance(exc, GlmTimeoutError)
    assert exc.user_message == (
        "GLM did not answer in time: no first token within 300 s (glm.firstTokenTimeout); "
        "nothing was applied."
    )
    assert exc.request_id == "r-7"


@pytest.mark.parametrize("now", [50.0 - 0.001, 50.0, 51.0])
def test_the_deadline_counts_from_a_millisecond_before_it(
    monkeypatch: pytest.MonkeyPatch, now: float
) -> None:
    at(monkeypatch, now)  # a timer may fire a hair early: that is the deadline already
    exc = _Clock(10.0, 300.0, 50.0, 40.0, "r-7").timed_out(first=True)
    assert isinstance(exc, GlmDeadlineError)
    assert exc.user_message == (
        "GLM's reply took longer than the 40 s limit for one request; nothing was applied "
        "(the totalTimeout setting of this feature)."
    )
    assert exc.request_id == "r-7"


def test_a_second_before_the_deadline_is_not_it(monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, 49.0)
    assert isinstance(_Clock(10.0, 300.0, 50.0, 40.0, "r").timed_out(), GlmTimeoutError)


# -- the watchdog between chunks ---------------------------------------------------------------


async def read_under_watchdog(
    seconds: float,
    deadline_in: float | None = None,
    *,
    busy: float = 0.0,
    reads: tuple[float, ...] = (1.0,),
    outside_cancel_at_deadline: bool = False,
) -> str:
    """Reads as _one_stream does, in a task of its own: busy (no read) first, then reads."""

    async def run() -> str:
        loop = asyncio.get_running_loop()
        deadline = None if deadline_in is None else loop.time() + deadline_in
        watchdog = _Watchdog(seconds, deadline)
        if outside_cancel_at_deadline:
            assert deadline is not None and task is not None
            loop.call_at(deadline, task.cancel)  # the editor cancels just as the watchdog fires
        try:
            try:
                await asyncio.sleep(busy)
            except asyncio.CancelledError:
                return "cancelled while busy"
            for read in reads:
                watchdog.last = loop.time()
                watchdog.reading = True
                try:
                    await asyncio.sleep(read)
                except asyncio.CancelledError:
                    return "timed out" if watchdog.timed_out() else "cancelled"
                finally:
                    watchdog.reading = False
            return "read"
        finally:
            watchdog.close()

    task: asyncio.Task[str] | None = None
    task = asyncio.create_task(run())
    return await task


async def test_a_stalled_read_times_out_though_the_caller_was_busy_first() -> None:
    assert await read_under_watchdog(0.1, busy=0.35) == "timed out"


async def test_chunks_in_time_are_never_cut() -> None:
    assert await read_under_watchdog(0.5, reads=(0.05,) * 14) == "read"


async def test_a_deadline_passed_while_busy_ends_the_next_read_soon() -> None:
    assert await read_under_watchdog(10.0, 0.05, busy=0.2, reads=(0.6,)) == "timed out"


async def test_a_cancel_from_outside_is_not_a_timeout() -> None:
    outcome = await read_under_watchdog(10.0, 0.1, outside_cancel_at_deadline=True)
    assert outcome == "cancelled"


# -- one streamed request against the fake: what it sends, each way a stream goes wrong --


def stream_client(fake: FakeGlm, **options: float) -> GlmClient:
    settings = {"max_retries": 0, "backoff_base": 0.01, "timeout": 5.0, **options}
    return GlmClient(base_url=fake.url, api_key=TEST_KEY, **settings)  # type: ignore[arg-type]


def chat(**fields: object) -> ChatRequest:
    return ChatRequest(model="glm-5.1", messages=[{"role": "user", "content": "hi"}], **fields)  # type: ignore[arg-type]


async def failure(
    fake: FakeGlm, reply: Reply, *, feature: str = "actions", **fields: object
) -> GlmError:
    fake.enqueue(reply)
    client = stream_client(fake)
    try:
        with pytest.raises(GlmError) as caught:
            async for _ in client.stream_chat(chat(**fields), feature=feature):
                pass
    finally:
        await client.aclose()
    assert caught.value.request_id == fake.requests[-1].body["request_id"]  # for support
    return caught.value


async def test_the_request_is_json_sent_by_post(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="ok"))
    client = stream_client(fake_glm)
    assert [e async for e in client.stream_chat(chat(), feature="actions")]
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
    client = stream_client(fake_glm, timeout=0.4, first_token_timeout=0.4)
    with pytest.raises(GlmTimeoutError) as caught:
        async for _ in client.stream_chat(chat(), feature=feature):
            pass
    await client.aclose()
    assert f"({setting})" in caught.value.user_message


async def test_a_slow_reader_of_the_stream_is_not_a_stalled_stream(fake_glm: FakeGlm) -> None:
    """The chunk timeout counts GLM's silence, not the time the caller spends between
    events (an agent runs a tool, a completion is rebased)."""
    fake_glm.enqueue(Reply(text="one two three four", chunk_size=5))
    client = stream_client(fake_glm, timeout=0.3)
    text = ""
    async for event in client.stream_chat(chat(), feature="actions"):
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
    assert [e async for e in client.stream_chat(chat(), feature="actions")]
    await client.aclose()
    headers = fake_glm.requests[0].headers
    assert headers["accept"] == "text/event-stream, application/json"
    assert headers["accept-encoding"] == "identity"  # nothing compressed can grow past a bound
    assert headers["user-agent"] == f"glm-lsp/{__version__}"


async def test_only_a_coding_plan_client_asks_for_the_quota(fake_glm: FakeGlm) -> None:
    plan = GlmClient(
        base_url=f"http://127.0.0.1:{fake_glm.port}/api/coding/paas/v4/", api_key=TEST_KEY
    )
    other = GlmClient(base_url=fake_glm.url, api_key=TEST_KEY)
    try:
        assert plan.on_coding_plan and not other.on_coding_plan
        assert await other.quota() is None  # a pay-per-token account has no such limits
        limits = await plan.quota()
        assert limits is not None and [limit.window for limit in limits] == ["5-hour", "weekly"]
    finally:
        await plan.aclose()
        await other.aclose()


async def test_the_clients_key_is_hidden_from_whatever_is_reported() -> None:
    key = "client-key-that-only-this-test-uses-4711"
    assert redact(f"sent {key}") == f"sent {key}"  # not a key by its looks: only if registered
    client = GlmClient(base_url="http://127.0.0.1:9/api/paas/v4/", api_key=key)
    await client.aclose()
    assert key not in redact(f"sent {key}")
