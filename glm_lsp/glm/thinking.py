"""Models that always think (GLM-5.3, which the Coding Plan serves for glm-5.1 and glm-5.2).

On the pay-per-token API such a model refuses ``thinking: {"type": "disabled"}`` with 400 /
1210 and a message that lists the efforts it takes ("…always engages in thinking and cannot be
disabled; please use low, high, or max"). The client then sends the request again once, with
no thinking switch and ``reasoning_effort`` set to the lowest listed value, and remembers that
per model. Pure: messages in, decisions out.
"""

from __future__ import annotations

import re
from typing import Any

# Lowest first: the effort chosen is the first of these the refusal lists.
EFFORT_ORDER = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
MODEL_THAT_STOPS_THINKING = "glm-4.7"
_ALWAYS_THINKS = re.compile(r"always\s+engages?\s+in\s+thinking|cannot\s+be\s+disabled", re.I)
_WORD = re.compile(r"[a-z]+")


def refused_effort(code: str | None, message: str | None) -> str | None:
    """The lowest ``reasoning_effort`` an always-thinking refusal lists; ``None`` when the
    error is not that refusal."""
    if code != "1210" or not message or not _ALWAYS_THINKS.search(message):
        return None
    listed = set(_WORD.findall(message.lower()))
    for effort in EFFORT_ORDER:
        if effort in listed and effort != "none":
            return effort
    return "low"


def without_thinking_switch(payload: dict[str, Any], effort: str) -> dict[str, Any]:
    """The same request with no thinking switch and the given ``reasoning_effort``."""
    body = {k: v for k, v in payload.items() if k != "thinking"}
    kwargs = body.get("chat_template_kwargs")
    if isinstance(kwargs, dict) and "enable_thinking" in kwargs:
        rest = {k: v for k, v in kwargs.items() if k != "enable_thinking"}
        if rest:
            body["chat_template_kwargs"] = rest
        else:
            del body["chat_template_kwargs"]
    body["reasoning_effort"] = effort
    return body


def asked_no_thinking(payload: dict[str, Any]) -> bool:
    """The request switches thinking off (either switch GLM servers read)."""
    thinking = payload.get("thinking")
    kwargs = payload.get("chat_template_kwargs")
    return (isinstance(thinking, dict) and thinking.get("type") == "disabled") or (
        isinstance(kwargs, dict) and kwargs.get("enable_thinking") is False
    )


def always_thinking_notice(model: str, effort: str) -> str:
    """Said once per model: what happened and what to change."""
    return (
        f"GLM: {model} always thinks on this endpoint (it refused thinking off), so requests "
        f"to it now think at reasoning_effort {effort!r}. For fast completions without "
        f"thinking, set glm.completion.model to {MODEL_THAT_STOPS_THINKING}, whose thinking "
        "turns off."
    )


def unasked_reasoning_notice(model: str) -> str:
    """Said once per model when reasoning arrives although thinking was off."""
    return (
        f"GLM: {model} thought although thinking was off (this endpoint ignores the switch), "
        f"which slows every completion. Set glm.completion.model to "
        f"{MODEL_THAT_STOPS_THINKING}, whose thinking turns off."
    )
