"""The Coding Plan's quota, the thinking switch, errors' details, usage and the wire messages
(glm/quota.py, thinking.py, errors.py, usage.py, events.py, dialects.py)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from glm_lsp.glm.client import GlmClient, _status_error
from glm_lsp.glm.dialects import DIALECTS, build_payload, resolve_dialect
from glm_lsp.glm.errors import (
    GlmAlwaysThinkingError,
    error_from_response,
    local_reset_time,
    max_tokens_setting,
)
from glm_lsp.glm.events import (
    ChatResult,
    Finish,
    ReasoningDelta,
    Restart,
    TextDelta,
    ToolCall,
    Usage,
)
from glm_lsp.glm.models import ChatRequest
from glm_lsp.glm.quota import MAX_QUOTA_BYTES, QuotaLimit, QuotaWatcher, describe, parse_quota
from glm_lsp.glm.thinking import (
    always_thinking_notice,
    asked_no_thinking,
    refused_effort,
    unasked_reasoning_notice,
    without_thinking_switch,
)
from glm_lsp.glm.usage import UsageLedger
from tests.conftest import TEST_KEY
from tests.fake_glm import (
    ALWAYS_THINKING_REFUSAL,
    QUOTA_5H_RESET_MS,
    QUOTA_WEEK_RESET_MS,
    FakeGlm,
    Reply,
    quota_answer,
)

RESET_MESSAGE = "Usage limit reached for 5 hour. Your limit will reset at 2026-12-01 18:42:07"


def clock(monkeypatch: pytest.MonkeyPatch, tz: str) -> Iterator[None]:
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def utc_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from clock(monkeypatch, "UTC")


@pytest.fixture
def unnamed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A POSIX zone with an empty name: the local clock has an offset but no zone name.
    yield from clock(monkeypatch, "<>0")


def limits_answer(*limits: dict[str, object]) -> dict[str, object]:
    return {"code": 200, "success": True, "data": {"limits": list(limits)}}


def tokens(percentage: object, **extra: object) -> dict[str, object]:
    return {"type": "TOKENS_LIMIT", "percentage": percentage, **extra}


# -- quota --------------------------------------------------------------------------------------


def test_the_quota_answer_gives_each_window_its_reset() -> None:
    assert parse_quota(quota_answer(five_hour=80, weekly=5)) == [
        QuotaLimit("5-hour", 80.0, QUOTA_5H_RESET_MS),
        QuotaLimit("weekly", 5.0, QUOTA_WEEK_RESET_MS),
    ]


def test_the_unit_names_the_window_whatever_its_position() -> None:
    answer = limits_answer(tokens(5, unit=6), tokens(80, unit=3))
    assert parse_quota(answer) == [
        QuotaLimit("weekly", 5.0, None),
        QuotaLimit("5-hour", 80.0, None),
    ]


@pytest.mark.parametrize("unit", [None, 99, "3", [3], 6.0])
def test_an_unknown_unit_falls_back_to_the_position(unit: object) -> None:
    answer = limits_answer(tokens(80, unit=unit), tokens(5, unit=unit))
    assert parse_quota(answer) == [
        QuotaLimit("5-hour", 80.0, None),
        QuotaLimit("weekly", 5.0, None),
    ]


@pytest.mark.parametrize("reset", [None, "1796121727000", True])
def test_an_unreadable_reset_time_is_none(reset: object) -> None:
    answer = limits_answer(tokens(80, unit=3, nextResetTime=reset))
    assert parse_quota(answer) == [QuotaLimit("5-hour", 80.0, None)]


def test_a_fractional_reset_time_is_whole_milliseconds() -> None:
    answer = limits_answer(tokens(80, unit=3, nextResetTime=1_796_121_727_000.7))
    assert parse_quota(answer) == [QuotaLimit("5-hour", 80.0, 1_796_121_727_000)]


@pytest.mark.parametrize("percentage", [True, "80", None])
def test_a_limit_without_a_number_is_skipped_and_the_rest_read(percentage: object) -> None:
    answer = limits_answer(tokens(percentage, unit=3), tokens(5, unit=6))
    assert parse_quota(answer) == [QuotaLimit("weekly", 5.0, None)]
    assert parse_quota(limits_answer(tokens(percentage, unit=3))) is None


@pytest.mark.parametrize("answer", [None, [1], "data", {"data": [1]}, {"data": {"limits": {}}}])
def test_an_answer_in_another_shape_is_unknown(answer: object) -> None:
    assert parse_quota(answer) is None


@pytest.mark.usefixtures("utc_clock")
def test_the_quota_described() -> None:
    limits = [QuotaLimit("5-hour", 80.0, QUOTA_5H_RESET_MS), QuotaLimit("weekly", 5.5, None)]
    assert describe(limits) == (
        "Coding Plan quota: 5-hour 80% used, resets 2026-12-01 10:42 UTC; weekly 5.5% used"
    )
    assert describe([]) == "quota unknown"


@pytest.mark.usefixtures("unnamed_clock")
def test_a_reset_in_an_unnamed_zone_has_no_trailing_space() -> None:
    assert describe([QuotaLimit("weekly", 5.0, QUOTA_5H_RESET_MS)]) == (
        "Coding Plan quota: weekly 5% used, resets 2026-12-01 10:42"
    )


@pytest.mark.usefixtures("utc_clock")
def test_a_limit_as_status_json() -> None:
    assert QuotaLimit("5-hour", 80.0, QUOTA_5H_RESET_MS).as_json() == {
        "window": "5-hour",
        "percentage": 80.0,
        "nextReset": "2026-12-01T10:42:07+00:00",
        "nextResetMs": QUOTA_5H_RESET_MS,
    }
    assert QuotaLimit("weekly", 5.0, None).as_json()["nextReset"] is None


def test_a_reset_time_out_of_range_is_left_out() -> None:
    limit = QuotaLimit("weekly", 5.0, 10**20)
    assert limit.as_json()["nextReset"] is None
    assert limit.describe() == "weekly 5% used"


# -- the quota endpoint -------------------------------------------------------------------------

CODING_BASE = "https://api.z.ai/api/coding/paas/v4/"


class Pieces(httpx.AsyncByteStream):
    def __init__(self, *pieces: bytes) -> None:
        self.pieces = pieces

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece


def endpoint(
    answer: Callable[[httpx.Request], httpx.Response],
) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=3.0), seen


def in_pieces(
    answer: object, size: int = 100, headers: dict[str, str] | None = None
) -> httpx.Response:
    raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
    pieces = [raw[i : i + size] for i in range(0, len(raw), size)]
    return httpx.Response(200, headers=headers, stream=Pieces(*pieces))


async def test_the_quota_is_asked_of_the_base_host_with_the_raw_key() -> None:
    http, seen = endpoint(lambda _: in_pieces(quota_answer(five_hour=80, weekly=5)))
    limits = await QuotaWatcher(CODING_BASE, TEST_KEY).limits(http)
    await http.aclose()
    assert limits == [
        QuotaLimit("5-hour", 80.0, QUOTA_5H_RESET_MS),
        QuotaLimit("weekly", 5.0, QUOTA_WEEK_RESET_MS),
    ]
    [request] = seen
    assert (request.method, str(request.url)) == (
        "GET",
        "https://api.z.ai/api/monitor/usage/quota/limit",
    )
    assert (request.headers["authorization"], request.headers["accept"]) == (
        TEST_KEY,
        "application/json",
    )
    assert request.extensions["timeout"]["read"] == 10.0


async def test_the_quota_is_fetched_at_most_once_a_minute() -> None:
    http, seen = endpoint(lambda _: in_pieces(quota_answer(five_hour=80)))
    watcher = QuotaWatcher(CODING_BASE, TEST_KEY)
    first = await watcher.limits(http)
    again = await watcher.limits(http)
    await http.aclose()
    assert first is not None and again == first
    assert len(seen) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


async def test_after_a_minute_the_quota_is_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr("glm_lsp.glm.quota.time", clock)  # the watcher's clock only
    http, seen = endpoint(lambda _: in_pieces(quota_answer()))
    watcher = QuotaWatcher(CODING_BASE, TEST_KEY)
    fetches = []
    for now in (1000.0, 1059.9, 1060.0, 1119.9):
        clock.now = now
        assert await watcher.limits(http) is not None
        fetches.append(len(seen))
    await http.aclose()
    assert fetches == [1, 1, 2, 2]


async def test_a_failed_fetch_is_remembered_as_unknown_too() -> None:
    http, seen = endpoint(lambda _: httpx.Response(500, json={"code": 500, "msg": "busy"}))
    watcher = QuotaWatcher(CODING_BASE, TEST_KEY)
    assert await watcher.limits(http) is None
    assert await watcher.limits(http) is None
    await http.aclose()
    assert len(seen) == 1


def refuse_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


@pytest.mark.parametrize(
    "answer",
    [
        lambda _: httpx.Response(201, json=quota_answer()),
        lambda _: httpx.Response(401, json=quota_answer()),
        # Compressed although identity was asked for: not read (here the bytes are plain JSON).
        lambda _: in_pieces(quota_answer(), headers={"content-encoding": "gzip"}),
        lambda _: in_pieces(b"{not json"),
        lambda _: in_pieces(b"[" * 5000 + b"]" * 5000),
        lambda _: in_pieces({"data": {"limits": []}, "pad": "x" * MAX_QUOTA_BYTES}, 4096),
        refuse_connection,
    ],
    ids=["201", "401", "gzip", "not-json", "too-deep", "too-large", "refused"],
)
async def test_an_odd_quota_answer_reads_as_unknown(
    answer: Callable[[httpx.Request], httpx.Response],
) -> None:
    http, _ = endpoint(answer)
    assert await QuotaWatcher(CODING_BASE, TEST_KEY).limits(http) is None
    await http.aclose()


async def test_an_answer_of_exactly_the_bound_is_read() -> None:
    answer = quota_answer(five_hour=80)
    padding = MAX_QUOTA_BYTES - len(json.dumps(answer).encode())
    body = json.dumps(answer).encode() + b" " * padding
    assert len(body) == MAX_QUOTA_BYTES
    http, _ = endpoint(lambda _: httpx.Response(200, stream=Pieces(body[:1000], body[1000:])))
    limits = await QuotaWatcher(CODING_BASE, TEST_KEY).limits(http)
    await http.aclose()
    assert limits is not None and limits[0].percentage == 80.0


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feature", "setting"),
    [
        ("completion", "glm.completion.maxTokens"),
        ("agent", "glm.agent.maxTokens"),
        ("actions", "glm.actions.maxTokens"),
        ("nextEdit", "the maxTokens setting"),
    ],
)
def test_each_feature_names_its_max_tokens_setting(feature: str, setting: str) -> None:
    assert max_tokens_setting(feature) == setting


@pytest.mark.usefixtures("unnamed_clock")
def test_a_reset_time_in_an_unnamed_zone_says_local_time() -> None:
    assert local_reset_time(RESET_MESSAGE) == "2026-12-01 10:42:07 local time"
    error = error_from_response(429, "1308", RESET_MESSAGE, None, None)
    assert error.user_message == (
        f"GLM: the plan's usage limit is reached (code 1308): {RESET_MESSAGE} "
        "(UTC+8; your local time: 2026-12-01 10:42:07 local time). Not retried."
    )


@pytest.mark.parametrize(
    "message", [None, "", "Usage limit reached", "reset at 2026-13-45 99:00:00"]
)
def test_a_message_without_a_valid_reset_time_names_none(message: str | None) -> None:
    assert local_reset_time(message) is None


# -- thinking -----------------------------------------------------------------------------------


def test_a_refusal_listing_none_still_asks_for_some_thinking() -> None:
    message = "always engages in thinking and cannot be disabled; please use none, medium or max"
    assert refused_effort("1210", message) == "medium"


def test_a_refusal_listing_no_effort_asks_for_low() -> None:
    assert refused_effort("1210", "The model always engages in thinking.") == "low"
    assert refused_effort("1210", "Thinking cannot be disabled; use none") == "low"


def test_without_the_switch_drops_enable_thinking_and_keeps_other_template_kwargs() -> None:
    body = {
        "model": "m",
        "thinking": {"type": "disabled"},
        "chat_template_kwargs": {"enable_thinking": False, "clear_thinking": True},
    }
    assert without_thinking_switch(body, "high") == {
        "model": "m",
        "chat_template_kwargs": {"clear_thinking": True},
        "reasoning_effort": "high",
    }


def test_without_the_switch_drops_template_kwargs_left_empty() -> None:
    body = {"model": "m", "chat_template_kwargs": {"enable_thinking": False}}
    assert without_thinking_switch(body, "low") == {"model": "m", "reasoning_effort": "low"}


def test_without_the_switch_leaves_template_kwargs_that_have_no_switch() -> None:
    body = {"model": "m", "chat_template_kwargs": {"clear_thinking": False}}
    assert without_thinking_switch(body, "low") == {
        "model": "m",
        "chat_template_kwargs": {"clear_thinking": False},
        "reasoning_effort": "low",
    }


def test_the_refusal_is_an_error_carrying_the_effort() -> None:
    response = httpx.Response(
        400, json={"error": {"code": "1210", "message": ALWAYS_THINKING_REFUSAL}}
    )
    error = _status_error(response, response.content, False, "req-1")
    assert isinstance(error, GlmAlwaysThinkingError)
    assert error.user_message == (
        f"GLM refused thinking off: this model always thinks ({ALWAYS_THINKING_REFUSAL})."
    )
    assert (error.effort, error.status, error.code, error.request_id) == (
        "low",
        400,
        "1210",
        "req-1",
    )


def thinking_off() -> ChatRequest:
    return ChatRequest(
        model="glm-5.1", messages=[{"role": "user", "content": "hi"}], thinking=False
    )


async def test_a_refused_switch_is_sent_again_thinking_low_and_said_once(
    fake_glm: FakeGlm,
) -> None:
    fake_glm.always_thinking = "refuse"
    fake_glm.enqueue(Reply(text="a"), Reply(text="b"))
    notices: list[str] = []
    client = GlmClient(base_url=fake_glm.url, api_key=TEST_KEY, on_notice=notices.append)
    first = await client.chat(thinking_off(), feature="completion")
    second = await client.chat(thinking_off(), feature="completion")
    await client.aclose()
    assert (first.text, second.text) == ("a", "b")
    assert notices == [
        "GLM: glm-5.1 always thinks on this endpoint (it refused thinking off), so requests "
        "to it now think at reasoning_effort 'low'. For fast completions without thinking, "
        "set glm.completion.model to glm-4.7, whose thinking turns off."
    ]
    assert notices == [always_thinking_notice("glm-5.1", "low")]
    retried = fake_glm.requests[1].body
    assert "thinking" not in retried and retried["reasoning_effort"] == "low"


async def test_reasoning_despite_the_switch_is_counted_and_said_once(fake_glm: FakeGlm) -> None:
    fake_glm.always_thinking = "ignore"
    fake_glm.enqueue(Reply(text="a"), Reply(text="b"))
    notices: list[str] = []
    ledger = UsageLedger()
    client = GlmClient(
        base_url=fake_glm.url, api_key=TEST_KEY, ledger=ledger, on_notice=notices.append
    )
    for _ in range(2):
        await client.chat(thinking_off(), feature="completion")
    await client.aclose()
    assert notices == [unasked_reasoning_notice("glm-5.1")]
    by_feature = ledger.snapshot()["byFeature"]
    assert isinstance(by_feature, dict)
    assert by_feature["completion"]["unaskedReasoning"] == 2


@pytest.mark.parametrize(
    ("payload", "off"),
    [
        ({"thinking": {"type": "disabled"}}, True),
        ({"chat_template_kwargs": {"enable_thinking": False}}, True),
        ({"thinking": {"type": "enabled"}}, False),
        ({"chat_template_kwargs": {"enable_thinking": True}}, False),
        ({"chat_template_kwargs": {"clear_thinking": False}}, False),
        ({"chat_template_kwargs": False, "thinking": "disabled"}, False),
        ({}, False),
    ],
)
def test_either_switch_asks_for_no_thinking(payload: dict[str, object], off: bool) -> None:
    assert asked_no_thinking(payload) is off


async def test_reasoning_despite_the_template_switch_is_counted(fake_glm: FakeGlm) -> None:
    fake_glm.always_thinking = "ignore"
    fake_glm.enqueue(Reply(text="a"), Reply(text="b"))
    notices: list[str] = []
    ledger = UsageLedger()
    client = GlmClient(
        base_url=fake_glm.url,
        api_key=TEST_KEY,
        ledger=ledger,
        dialect=DIALECTS["vllm"],
        on_notice=notices.append,
    )
    await client.chat(thinking_off(), feature="completion")
    thinking_on = thinking_off().model_copy(update={"thinking": True})
    await client.chat(thinking_on, feature="agent")
    await client.aclose()
    assert fake_glm.requests[0].body["chat_template_kwargs"] == {"enable_thinking": False}
    assert notices == [unasked_reasoning_notice("glm-5.1")]
    by_feature = ledger.snapshot()["byFeature"]
    assert isinstance(by_feature, dict)
    assert by_feature["completion"]["unaskedReasoning"] == 1
    assert "unaskedReasoning" not in by_feature["agent"]


# -- dialects -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url", ["https://gw.example.com/api/paas/v4", "https://gw.example.com/api/coding/paas/v4"]
)
def test_a_relay_of_glms_path_without_the_last_slash_is_glm(base_url: str) -> None:
    assert resolve_dialect("auto", base_url).name == "zai"


def wire(*messages: dict[str, object]) -> list[dict[str, object]]:
    request = ChatRequest(model="glm-5.1", messages=list(messages))
    sent = build_payload(request, DIALECTS["zai"], stream=True)["messages"]
    assert isinstance(sent, list)
    return sent


def test_list_content_is_sent_as_one_string() -> None:
    parts = [{"type": "text", "text": "a"}, {"type": "image_url"}, "b", 7]
    assert wire({"role": "user", "content": parts}) == [{"role": "user", "content": "ab7"}]


def test_missing_content_is_an_empty_string_only_for_tool_and_assistant() -> None:
    assert wire(
        {"role": "tool", "tool_call_id": "1", "content": None},
        {"role": "assistant", "content": None},
        {"role": "user", "content": None},
    ) == [
        {"role": "tool", "tool_call_id": "1", "content": ""},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": None},
    ]


# -- usage and results --------------------------------------------------------------------------


def test_unasked_reasoning_is_counted_by_feature_and_in_total() -> None:
    ledger = UsageLedger()
    ledger.record("agent", Usage(10, 2, 12))
    ledger.count_unasked_reasoning("agent")
    ledger.count_unasked_reasoning("agent")
    ledger.count_unasked_reasoning("completion")
    snap = ledger.snapshot()
    assert snap["unaskedReasoning"] == 3
    assert snap["byFeature"] == {
        "agent": {
            "requests": 1,
            "promptTokens": 10,
            "completionTokens": 2,
            "cachedTokens": 0,
            "reasoningTokens": 0,
            "unaskedReasoning": 2,
        },
        "completion": {
            "requests": 0,
            "promptTokens": 0,
            "completionTokens": 0,
            "cachedTokens": 0,
            "reasoningTokens": 0,
            "unaskedReasoning": 1,
        },
    }


def test_a_restart_voids_everything_received_so_far() -> None:
    result = ChatResult()
    for event in (
        ReasoningDelta("hmm", "reasoning"),
        TextDelta("old"),
        ToolCall("c1", "read_file", "{}"),
        Usage(1, 1, 2),
        Finish("stop"),
        Restart(),
        TextDelta("new"),
    ):
        result.add(event)
    assert (result.text, result.reasoning, result.tool_calls) == ("new", "", [])
    assert (result.usage, result.finish_reason) == (None, None)
    assert result.assistant_message(keep_reasoning=True) == {"role": "assistant", "content": "new"}
