"""With ``provider: "zai"`` (and ``auto`` on a GLM endpoint) the requests the real server
sends are today's, byte for byte: every field but the prompt and tool texts, in the same
order, with the same JSON formatting, and the same message shapes.

The golden files were recorded from the server before providers existed
(``GLM_LSP_WRITE_GOLDEN=1`` rewrites them; only for a deliberate wire-format change). The
prompts' wording is another module's business, so the messages are compared by shape (role
and keys), which is where a reasoning field sent back would show.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.fake_glm import FakeGlm, RecordedRequest, Reply
from tests.lsp_harness import execute, start_session

GOLDEN = Path(__file__).parent.parent / "golden" / "zai_e2e"
CALC = "import math\n\n\ndef area(radius):\n    return math.pi * radius ** 2\n"
ADD = "def add(a, b):\n    return \n"


def envelope(request: RecordedRequest) -> str:
    """The body as sent, with the prompt texts and the random request id taken out."""
    compact = json.dumps(request.body, ensure_ascii=False, separators=(",", ":"))
    assert compact.encode() == request.raw, "the body is not compact UTF-8 JSON"
    body = dict(request.body)
    body["messages"] = [[m["role"], *m] for m in body["messages"]]
    if "tools" in body:  # the tools' wording belongs to the agent, not to the dialect
        body["tools"] = [tool["function"]["name"] for tool in body["tools"]]
    if "request_id" in body:
        body["request_id"] = "<uuid>"
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def check_golden(name: str, requests: list[RecordedRequest]) -> None:
    text = "\n".join(envelope(r) for r in requests) + "\n"
    path = GOLDEN / f"{name}.jsonl"
    if os.environ.get("GLM_LSP_WRITE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def span(l1: int, c1: int, l2: int, c2: int) -> dict[str, Any]:
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


@pytest.mark.parametrize("provider", ["zai", "auto"])
async def test_completion_request_is_unchanged(
    fake_glm: FakeGlm, tmp_path: Path, provider: str
) -> None:
    fake_glm.enqueue(Reply(text="a + b"))
    options = {"provider": provider, "completion": {"debounceMs": 0}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        uri = editor.open("calc.py", ADD)
        result = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=1, character=len("    return ")),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
        assert result is not None
    check_golden("completion", fake_glm.requests)


@pytest.mark.parametrize("provider", ["zai", "auto"])
async def test_refactor_request_is_unchanged(
    fake_glm: FakeGlm, tmp_path: Path, provider: str
) -> None:
    (tmp_path / "calc.py").write_text(CALC, encoding="utf-8")
    fake_glm.enqueue(Reply(reasoning="hmm", text="```python\ndef area(r):\n    return r\n```"))
    async with start_session(fake_glm, tmp_path, init_options={"provider": provider}) as (
        client,
        editor,
    ):
        uri = editor.open("calc.py", CALC)
        result = await execute(client, "glm.refactor", {"uri": uri, "range": span(3, 0, 5, 0)})
        assert result == {"applied": True}
    check_golden("refactor", fake_glm.requests)


async def test_agent_requests_without_preserved_thinking_are_unchanged(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    turns = [
        Reply(
            reasoning="I should read a.py.",
            tool_calls=[{"name": "read_file", "arguments": {"path": "a.py"}, "id": "call_a"}],
        ),
        Reply(text="Nothing to change."),
    ]
    fake_glm.enqueue(*turns)
    options = {"provider": "zai", "agent": {"preserveThinking": False}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, _):
        result = await execute(client, "glm.agent", {"instruction": "look at a.py"})
        assert result is not None
    assert len(fake_glm.requests) == 2
    check_golden("agent", fake_glm.requests)
