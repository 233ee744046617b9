"""What each kind of OpenAI-compatible server expects: one small table and pure functions.

Z.AI's GLM API, vLLM, SGLang and other OpenAI-compatible servers (OpenRouter, LiteLLM, ...)
share the chat/completions shape but differ in a few places: how thinking is switched, whether
a stream carries usage unasked, which field streams (and reads back) the reasoning, and how a
server without tool parsing refuses. Everything that differs is a column of :data:`DIALECTS`;
the request builder and the readers below consult the table, and the HTTP client never
branches on the provider.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from glm_lsp.glm.events import ReasoningDelta

if TYPE_CHECKING:
    from glm_lsp.glm.models import ChatRequest

Provider = Literal["zai", "vllm", "sglang", "openai"]
ThinkingSwitch = Literal["thinking_object", "chat_template_kwargs", "none"]

# GLM's own domains (open.bigmodel.cn, api.z.ai and the rest of them): the one list, also
# the hosts the key goes to without a question (key_destination.py).
GLM_DOMAINS = ("bigmodel.cn", "z.ai")
# A relay that mirrors GLM's API path (a company gateway to bigmodel.cn).
_GLM_API_PATH = re.compile(r"/api/(coding/)?paas/v4/")

# What the GLM parsers are called in vLLM and SGLang (GLM-4.7 and 5.x share them).
VLLM_TOOL_FLAGS = "--enable-auto-tool-choice --tool-call-parser glm47"
SGLANG_TOOL_FLAGS = "--tool-call-parser glm47"
REASONING_FLAGS = "--reasoning-parser glm45"


@dataclass(frozen=True)
class Dialect:
    name: Provider
    thinking: ThinkingSwitch
    """``thinking_object``: Z.AI's ``thinking: {"type": ...}``; ``chat_template_kwargs``:
    ``{"enable_thinking": ...}`` read by the model's chat template (vLLM, SGLang); ``none``: the
    server has no switch we know of, send nothing."""
    usage_on_request: bool
    """The server sends usage in a stream only when asked with ``stream_options``."""
    reasoning_field: str | None
    """The assistant-message field the server reads earlier reasoning from; ``None``: the
    field the reasoning streamed in (unknown servers read back what they write)."""
    tool_flags: str | None
    """Server flags that turn tool calling on, for messages and ``doctor``."""


DIALECTS: dict[Provider, Dialect] = {
    "zai": Dialect("zai", "thinking_object", False, "reasoning_content", None),
    # vLLM >= 0.16 streams and reads `reasoning` only (vllm#27755, vllm#38488).
    "vllm": Dialect("vllm", "chat_template_kwargs", True, "reasoning", VLLM_TOOL_FLAGS),
    "sglang": Dialect(
        "sglang", "chat_template_kwargs", True, "reasoning_content", SGLANG_TOOL_FLAGS
    ),
    "openai": Dialect("openai", "none", True, None, None),
}
PROVIDERS = ("auto", *DIALECTS)
REASONING_FIELDS = ("reasoning_content", "reasoning")


def resolve_dialect(provider: str, base_url: str) -> Dialect:
    """``auto``: ``zai`` for a GLM host (or GLM's API path), ``openai`` for any other."""
    if provider in DIALECTS:
        return DIALECTS[provider]
    return DIALECTS["zai"] if is_glm_endpoint(base_url) else DIALECTS["openai"]


def is_glm_host(host: str) -> bool:
    """One of GLM's domains or a name under one (``api.z.ai``), never a look-alike
    (``notz.ai``, ``z.ai.example``). Case and a trailing dot do not matter."""
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in GLM_DOMAINS)


def is_glm_endpoint(base_url: str) -> bool:
    """A GLM host, or a relay that mirrors GLM's API path."""
    parts = urlsplit(base_url)
    if is_glm_host(parts.hostname or ""):
        return True
    return bool(_GLM_API_PATH.search(parts.path if parts.path.endswith("/") else parts.path + "/"))


# -- requests ---------------------------------------------------------------------------------


def build_payload(request: ChatRequest, dialect: Dialect, *, stream: bool) -> dict[str, Any]:
    """The chat/completions body for ``dialect``. For ``zai`` the keys, their order and their
    values are exactly what glm-lsp always sent (tests/golden/zai holds them)."""
    payload: dict[str, Any] = {
        "model": request.model,
        "messages": [_wire_message(m, dialect) for m in request.messages],
        "stream": stream,
    }
    if stream and dialect.usage_on_request:
        payload["stream_options"] = {"include_usage": True}
    for name in ("temperature", "top_p", "max_tokens", "stop", "request_id"):
        value = getattr(request, name)
        if value is not None:
            payload[name] = value
    if request.tools:
        payload["tools"] = request.tools
        payload["tool_choice"] = "auto"  # the only value GLM accepts
    payload.update(_thinking_fields(request, dialect))
    return payload


def _thinking_fields(request: ChatRequest, dialect: Dialect) -> dict[str, Any]:
    if request.thinking is None or dialect.thinking == "none":
        return {}
    keep = bool(request.thinking and request.preserve_thinking)
    if dialect.thinking == "thinking_object":
        thinking: dict[str, Any] = {"type": "enabled" if request.thinking else "disabled"}
        if keep:
            thinking["clear_thinking"] = False
        return {"thinking": thinking}
    # GLM's chat template reads both: enable_thinking, and clear_thinking for earlier turns.
    kwargs: dict[str, Any] = {"enable_thinking": request.thinking}
    if keep:
        kwargs["clear_thinking"] = False
    return {"chat_template_kwargs": kwargs}


def _wire_message(message: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    message = _string_content(message)
    if dialect.reasoning_field is None or message.get("role") != "assistant":
        return message
    # Reasoning kept from an earlier turn goes back in the one field this server reads.
    for field in REASONING_FIELDS:
        if field != dialect.reasoning_field and field in message:
            renamed = {k: v for k, v in message.items() if k != field}
            renamed[dialect.reasoning_field] = message[field]
            return renamed
    return message


def _string_content(message: dict[str, Any]) -> dict[str, Any]:
    """GLM silently drops list-form content: always send a string."""
    content = message.get("content")
    if isinstance(content, list):
        text = "".join(
            part.get("text", "") if isinstance(part, dict) else str(part) for part in content
        )
        return {**message, "content": text}
    if content is None and message.get("role") in ("tool", "assistant"):
        return {**message, "content": ""}
    return message


# -- replies ----------------------------------------------------------------------------------


def reasoning_delta(delta: dict[str, Any]) -> ReasoningDelta | None:
    """A streamed delta's thinking text, from whichever field this server uses."""
    for field in REASONING_FIELDS:
        text = delta.get(field)
        if isinstance(text, str) and text:
            return ReasoningDelta(text, field)
    return None


_TOOL_CHOICE_REFUSED = re.compile(r"tool.choice.*(enable-auto-tool-choice|tool-call-parser)", re.I)


def tool_calling_off(message: str | None) -> bool:
    """vLLM's refusal of ``tool_choice: "auto"`` by a server started without tool parsing."""
    return bool(message and _TOOL_CHOICE_REFUSED.search(message))


def tool_calling_help() -> str:
    return (
        "The model server has tool calling turned off, which the agent needs: start vLLM with "
        f"{VLLM_TOOL_FLAGS} {REASONING_FLAGS} (SGLang: {SGLANG_TOOL_FLAGS} {REASONING_FLAGS}); "
        "nothing was applied."
    )
