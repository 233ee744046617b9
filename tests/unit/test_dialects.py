"""The provider table: which dialect a base URL gets, and the body each dialect builds."""

from __future__ import annotations

import pytest

from glm_lsp.glm.dialects import (
    DIALECTS,
    build_payload,
    is_glm_host,
    reasoning_delta,
    resolve_dialect,
    tool_calling_help,
    tool_calling_off,
)
from glm_lsp.glm.events import ChatResult, ReasoningDelta
from glm_lsp.glm.models import ChatRequest
from tests.fake_glm import VLLM_TOOL_CHOICE_REFUSAL

HISTORY = [
    {"role": "user", "content": "go"},
    {"role": "assistant", "content": "", "reasoning_content": " why\n", "tool_calls": []},
]


def request(**fields: object) -> ChatRequest:
    return ChatRequest(model="glm-5.1", messages=list(HISTORY), **fields)


@pytest.mark.parametrize(
    ("provider", "base_url", "expected"),
    [
        ("auto", "https://open.bigmodel.cn/api/paas/v4/", "zai"),
        ("auto", "https://api.z.ai/api/coding/paas/v4/", "zai"),
        ("auto", "http://127.0.0.1:9000/api/paas/v4/", "zai"),  # a relay of GLM's API
        ("auto", "http://gpu-box:8000/v1/", "openai"),
        ("auto", "https://openrouter.ai/api/v1/", "openai"),
        ("auto", "https://evil-z.ai.example/v1/", "openai"),
        ("vllm", "https://open.bigmodel.cn/api/paas/v4/", "vllm"),  # the setting wins
        ("sglang", "http://127.0.0.1:30000/v1", "sglang"),
        ("zai", "http://127.0.0.1:8000/v1/", "zai"),
    ],
)
def test_provider_resolution(provider: str, base_url: str, expected: str) -> None:
    assert resolve_dialect(provider, base_url).name == expected


@pytest.mark.parametrize(
    ("host", "glm"),
    [
        ("z.ai", True),
        ("api.z.ai", True),
        ("open.bigmodel.cn", True),
        ("API.Z.AI.", True),
        ("notz.ai", False),
        ("evilbigmodel.cn", False),
        ("z.ai.example", False),
    ],
)
def test_glm_hosts_are_its_domains_and_names_under_them(host: str, glm: bool) -> None:
    assert is_glm_host(host) is glm
    # The one rule decides both the dialect and (key_destination.py) where the key may go.
    expected = "zai" if glm else "openai"
    assert resolve_dialect("auto", f"https://{host}/v1/").name == expected


def test_vllm_and_sglang_switch_thinking_in_the_chat_template_and_ask_for_usage() -> None:
    for name in ("vllm", "sglang"):
        body = build_payload(request(thinking=False), DIALECTS[name], stream=True)
        assert body["chat_template_kwargs"] == {"enable_thinking": False}
        assert body["stream_options"] == {"include_usage": True}
        assert "thinking" not in body


def test_openai_sends_no_thinking_switch_and_asks_for_usage_only_when_streaming() -> None:
    streamed = build_payload(request(thinking=True), DIALECTS["openai"], stream=True)
    assert "thinking" not in streamed and "chat_template_kwargs" not in streamed
    assert streamed["stream_options"] == {"include_usage": True}
    assert "stream_options" not in build_payload(request(), DIALECTS["openai"], stream=False)


def test_preserved_thinking_asks_to_keep_earlier_reasoning() -> None:
    keep = request(thinking=True, preserve_thinking=True)
    zai = build_payload(keep, DIALECTS["zai"], stream=True)
    assert zai["thinking"] == {"type": "enabled", "clear_thinking": False}
    vllm = build_payload(keep, DIALECTS["vllm"], stream=True)
    assert vllm["chat_template_kwargs"] == {"enable_thinking": True, "clear_thinking": False}
    # Thinking off: nothing to keep, and nothing is asked.
    off = build_payload(
        request(thinking=False, preserve_thinking=True), DIALECTS["zai"], stream=True
    )
    assert off["thinking"] == {"type": "disabled"}


def test_reasoning_goes_back_in_the_field_the_server_reads() -> None:
    def assistant(name: str) -> dict[str, object]:
        body = build_payload(request(), DIALECTS[name], stream=True)  # type: ignore[index]
        return body["messages"][1]

    assert assistant("vllm")["reasoning"] == " why\n" and "reasoning_content" not in assistant(
        "vllm"
    )
    assert assistant("zai")["reasoning_content"] == " why\n"
    assert assistant("sglang")["reasoning_content"] == " why\n"
    assert assistant("openai")["reasoning_content"] == " why\n"  # as it streamed


def test_reasoning_is_read_from_either_field_and_kept_byte_for_byte() -> None:
    assert reasoning_delta({"reasoning_content": "a"}) == ReasoningDelta("a", "reasoning_content")
    assert reasoning_delta({"reasoning": " b\r\n"}) == ReasoningDelta(" b\r\n", "reasoning")
    assert reasoning_delta({"content": "c", "reasoning": None}) is None
    assert reasoning_delta({"reasoning_content": ["not", "text"]}) is None
    result = ChatResult()
    for piece in (" b", "\r\n"):
        result.add(ReasoningDelta(piece, "reasoning"))
    assert result.assistant_message(keep_reasoning=True)["reasoning"] == " b\r\n"
    assert "reasoning" not in result.assistant_message()


def test_vllms_tool_choice_refusal_is_recognised_and_explained() -> None:
    assert tool_calling_off(VLLM_TOOL_CHOICE_REFUSAL)
    assert not tool_calling_off("model 'glm-5.1' not found")
    assert not tool_calling_off(None)
    help_text = tool_calling_help()
    assert "--enable-auto-tool-choice --tool-call-parser glm47" in help_text
    assert help_text.startswith("The model server has tool calling turned off, which the agent")
    assert help_text.endswith("); nothing was applied.")
