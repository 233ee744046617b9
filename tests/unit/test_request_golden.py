"""The zai dialect's request bodies, byte for byte, as they were before providers existed.

The golden files were written from the code before the provider table was added
(``GLM_LSP_WRITE_GOLDEN=1`` rewrites them; do that only for a deliberate change of the wire
format). Each case is a request a feature really makes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from glm_lsp.glm.client import _json_body
from glm_lsp.glm.models import ChatRequest

GOLDEN = Path(__file__).parent.parent / "golden" / "zai"

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            },
        },
    }
]

CASES: dict[str, ChatRequest] = {
    "completion": ChatRequest(
        model="glm-5.1",
        messages=[
            {"role": "system", "content": "Complete the code at <CURSOR>."},
            {"role": "user", "content": "def add(a, b):\n    return <CURSOR>\n"},
        ],
        max_tokens=256,
        thinking=False,
    ),
    "action": ChatRequest(
        model="glm-5.1",
        messages=[
            {"role": "system", "content": "You refactor code."},
            {"role": "user", "content": [{"type": "text", "text": "Refactor: x = 1 — ünïcode"}]},
        ],
        max_tokens=4096,
        thinking=True,
        temperature=0.2,
    ),
    "agent_second_turn": ChatRequest(
        model="glm-5.1",
        messages=[
            {"role": "system", "content": "You are an agent."},
            {"role": "user", "content": "Rename helper."},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "def helper(): ..."},
        ],
        tools=TOOLS,
        max_tokens=8192,
        thinking=True,
    ),
    "doctor_ping": ChatRequest(
        model="glm-5.1",
        messages=[{"role": "user", "content": "Reply with the single word: pong"}],
        max_tokens=16,
        thinking=False,
    ),
}


def zai_body(request: ChatRequest) -> bytes:
    """What GlmClient sends for ``request`` with the zai dialect (request id fixed)."""
    from glm_lsp.glm.dialects import DIALECTS, build_payload

    payload: dict[str, Any] = build_payload(request, DIALECTS["zai"], stream=True)
    payload.setdefault("request_id", "golden-request-id")
    return _json_body(payload)


@pytest.mark.parametrize("name", sorted(CASES))
def test_zai_request_body_is_unchanged(name: str) -> None:
    body = zai_body(CASES[name])
    path = GOLDEN / f"{name}.json"
    if os.environ.get("GLM_LSP_WRITE_GOLDEN"):
        path.write_bytes(body)
    assert body == path.read_bytes()
