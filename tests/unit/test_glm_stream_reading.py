"""Reading GLM's stream (glm/sse.py, glm/chunks.py): events, frames, finishes and damaged chunks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from glm_lsp.glm.chunks import ReplyReader, _parse_frame
from glm_lsp.glm.errors import (
    GlmBusyError,
    GlmContentFilteredError,
    GlmContextWindowError,
    GlmError,
    GlmLengthError,
    GlmMalformedReplyError,
    GlmNetworkFinishError,
    GlmStreamBrokenError,
    GlmThinkingSpentError,
)
from glm_lsp.glm.events import Finish, ReasoningDelta, TextDelta, ToolCall, Usage
from glm_lsp.glm.sse import BoundedSseDecoder, SseLineTooLongError


def frame(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> str:
    choice: dict[str, Any] = {"index": 0, "delta": delta or {}}
    if finish is not None:
        choice["finish_reason"] = finish
    return json.dumps({"id": "x", "choices": [choice], **extra})


def failure(reader: ReplyReader, *frames: str, event: str = "message") -> GlmError:
    with pytest.raises(GlmError) as info:
        for data in frames:
            reader.feed(data, event)
    return info.value


# -- finish reasons ---------------------------------------------------------------------------
def test_thinking_that_spends_the_budget_names_the_budget_and_the_setting() -> None:
    reader = ReplyReader("r1", feature="agent", max_tokens=4096)
    exc = failure(reader, frame({"reasoning_content": "hmm"}), frame(finish="length"))
    assert isinstance(exc, GlmThinkingSpentError)
    assert exc.user_message == (
        "GLM spent all 4096 tokens thinking; raise glm.agent.maxTokens "
        "(it wrote no answer; nothing was applied)."
    )
    assert exc.request_id == "r1"


def test_thinking_that_spends_an_unknown_budget_says_all_its_tokens() -> None:
    exc = failure(ReplyReader("r1"), frame({"reasoning_content": "hmm"}, finish="length"))
    assert isinstance(exc, GlmThinkingSpentError)
    assert exc.user_message == (
        "GLM spent all its tokens thinking; raise the maxTokens setting "
        "(it wrote no answer; nothing was applied)."
    )


@pytest.mark.parametrize(
    "delta",
    [
        {},  # no thinking at all
        {"reasoning_content": "hmm", "content": "x = 1"},  # an answer, cut short
        {
            "reasoning_content": "hmm",
            "tool_calls": [{"index": 0, "id": "c", "function": {"name": "f"}}],
        },
    ],
)
def test_a_cut_reply_is_a_length_error_naming_the_setting(delta: dict[str, Any]) -> None:
    exc = failure(ReplyReader("r2", feature="completion"), frame(delta, finish="length"))
    assert type(exc) is GlmLengthError
    assert exc.user_message == (
        "GLM's reply was cut off (token limit); nothing was applied. "
        "Select less code or raise glm.completion.maxTokens."
    )
    assert exc.request_id == "r2"


def test_a_cut_reply_is_kept_when_the_caller_allows_it() -> None:
    reader = ReplyReader("r", allow_truncated=True)
    assert reader.feed(frame({"content": "x"}, finish="length")) == [
        TextDelta("x"),
        Finish("length"),
    ]


def test_thinking_then_a_normal_stop_is_a_plain_finish() -> None:
    reader = ReplyReader("r")
    assert reader.feed(frame({"reasoning_content": "hmm"}, finish="stop")) == [
        ReasoningDelta("hmm"),
        Finish("stop"),
    ]


def test_a_network_error_finish_is_retryable_with_its_message() -> None:
    exc = failure(ReplyReader("r3"), frame(finish="network_error"))
    assert isinstance(exc, GlmNetworkFinishError)
    assert exc.user_message == "GLM reported a network error mid-reply; nothing was applied."
    assert exc.request_id == "r3"


def test_a_context_window_finish_says_to_send_less() -> None:
    exc = failure(ReplyReader("r4"), frame(finish="model_context_window_exceeded"))
    assert isinstance(exc, GlmContextWindowError)
    assert exc.user_message == (
        "The request was too large for GLM's context window; nothing was applied. "
        "Select less code, or lower the contextChars settings (the agent: a narrower "
        "instruction)."
    )
    assert exc.request_id == "r4"


def test_a_sensitive_finish_is_the_content_filter() -> None:
    exc = failure(ReplyReader("r5"), frame(finish="sensitive"))
    assert isinstance(exc, GlmContentFilteredError)
    assert exc.user_message == "GLM's content filter stopped the reply; nothing was applied."
    assert exc.request_id == "r5"


def test_tool_calls_come_before_the_finish() -> None:
    reader = ReplyReader("r")
    call = {"index": 0, "function": {"name": "read", "arguments": {"path": "a"}}}
    assert reader.feed(frame({"tool_calls": [call]}, finish="tool_calls")) == [
        ToolCall("call_0", "read", '{"path": "a"}'),
        Finish("tool_calls"),
    ]


# -- chunks -----------------------------------------------------------------------------------
def test_usage_in_a_chunk_without_choices_is_read() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert ReplyReader("r").feed(json.dumps({"id": "x", "usage": usage})) == [Usage(3, 2, 5)]


def test_a_chunk_of_an_odd_shape_says_so_with_the_request_id() -> None:
    exc = failure(ReplyReader("r6"), '{"choices": 5}')
    assert isinstance(exc, GlmMalformedReplyError)
    assert exc.user_message == (
        "GLM sent a stream chunk of an unexpected shape; nothing was applied."
    )
    assert exc.request_id == "r6"


@pytest.mark.parametrize("data", ["[]", "[1, 2]", "5", '"text"', "null"])
def test_json_that_is_not_an_object_is_skipped(data: str) -> None:
    assert ReplyReader("r").feed(data) == []
    assert _parse_frame(data) is None


def test_a_frame_starting_with_data_is_read() -> None:
    # GLM's damage can leave a "data:" prefix inside the data itself.
    assert _parse_frame('data: {"id": 1}') == {"id": 1}


def test_after_two_cut_frames_the_intact_one_is_read() -> None:
    intact = '{"text": "data: x"}'  # "data:" in its text is no frame start
    glued = '{"cho' + "data: " + '{"choices": [' + "data: " + intact
    assert _parse_frame(glued) == {"text": "data: x"}


# -- error frames -----------------------------------------------------------------------------
def test_an_error_event_with_a_code_maps_the_code() -> None:
    data = '{"error": {"code": 1302, "message": "too many"}}'
    exc = failure(ReplyReader("r7"), data, event="error")
    assert isinstance(exc, GlmBusyError)
    assert exc.user_message == (
        "GLM is rate limiting or overloaded (code 1302) (too many); try again shortly."
    )
    assert exc.code == "1302"
    assert exc.request_id == "r7"


def test_an_error_event_of_plain_text_gives_the_text() -> None:
    exc = failure(ReplyReader("r8"), "upstream exploded", event="error")
    assert type(exc) is GlmStreamBrokenError
    assert exc.user_message == (
        "GLM reported an error mid-reply (upstream exploded); nothing was applied."
    )
    assert exc.code is None
    assert exc.request_id == "r8"


@pytest.mark.parametrize("data", ["{}", '{"error": {}}', '""'])
def test_an_error_event_without_a_message_still_says_one(data: str) -> None:
    exc = failure(ReplyReader("r"), data, event="error")
    assert exc.user_message == (
        "GLM reported an error mid-reply (an error event); nothing was applied."
    )


def test_an_error_chunk_in_the_data_is_an_error_too() -> None:
    exc = failure(ReplyReader("r9"), '{"error": "overheated"}')
    assert type(exc) is GlmStreamBrokenError
    assert exc.user_message == "GLM reported an error mid-reply (overheated); nothing was applied."
    assert exc.request_id == "r9"


# -- the SSE decoder --------------------------------------------------------------------------
def test_an_event_without_a_name_is_a_message() -> None:
    decoder = BoundedSseDecoder(100)
    assert decoder.feed_events(b"data: x\n\n") == [("message", "x")]
    assert decoder.feed_events(b"event:\ndata: y\n\n") == [("message", "y")]


def test_an_event_name_is_cut_and_never_fails_to_decode() -> None:
    decoder = BoundedSseDecoder(1000)
    name = b"e" * 63 + "é".encode()  # é's two bytes straddle the cut at 64
    assert decoder.feed_events(b"event: " + name + b"\ndata: x\n\n") == [("e" * 63 + "\ufffd", "x")]
    assert decoder.feed_events(b"event: \xff\ndata: \xfe\n\n") == [("\ufffd", "\ufffd")]


def test_too_much_data_in_one_event_names_the_limit() -> None:
    decoder = BoundedSseDecoder(100)
    with pytest.raises(SseLineTooLongError) as info:
        decoder.feed(b"data: 0123456789\n" * 20)
    assert info.value.limit == 100
    assert str(info.value) == "a server-sent event line is longer than 100 bytes"
