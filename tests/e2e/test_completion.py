"""Inline completions end to end: the real glm-lsp process, the fake GLM upstream, a client
with or without inlineCompletion. Asserts the text a user would see offered, and what the
upstream received (or did not)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import (
    EditorState,
    inline,
    messages_of,
    start_session,
    vscode_like_capabilities,
    wait_until,
)

ADD = "def add(a, b):\n    return \n"
AFTER_RETURN = types.Position(line=1, character=len("    return "))
FAST = {"completion": {"debounceMs": 0}}


def at(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


async def completion_items(
    client: Any, uri: str, position: types.Position
) -> list[types.CompletionItem]:
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position,
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
        )
    )
    return list(result.items if isinstance(result, types.CompletionList) else result or [])


def type_at(editor: EditorState, uri: str, position: types.Position, text: str) -> None:
    editor.type_text(uri, types.Range(start=position, end=position), text)


async def test_inline_client_gets_the_cleaned_insertion(fake_glm: FakeGlm, tmp_path: Path) -> None:
    fake_glm.enqueue(Reply(text="```python\n    return a + b\n```"))
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        capabilities = editor.init_result.capabilities  # type: ignore[union-attr]
        assert capabilities.inline_completion_provider is not None
        assert capabilities.completion_provider is None
        uri = editor.open("calc.py", ADD)

        assert await inline(client, uri, AFTER_RETURN) == ["a + b"]

        body = fake_glm.requests[0].body
        assert body["thinking"] == {"type": "disabled"}
        assert body["max_tokens"] == 256
        assert body["model"] == "glm-5.1"
        assert "    return <|cursor|>" in fake_glm.requests[0].text()
        assert "File: calc.py" in fake_glm.requests[0].text()


async def test_client_without_inline_gets_a_completion_item(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(Reply(text="```python\n    return a + b\n```"))
    capabilities = vscode_like_capabilities(inline_completion=False)
    session = start_session(fake_glm, tmp_path, init_options=FAST, capabilities=capabilities)
    async with session as (client, editor):
        server_caps = editor.init_result.capabilities  # type: ignore[union-attr]
        assert server_caps.completion_provider is not None
        assert server_caps.inline_completion_provider is None
        uri = editor.open("calc.py", ADD)

        items = await completion_items(client, uri, AFTER_RETURN)

        assert len(items) == 1
        item = items[0]
        assert item.label == "a + b"
        assert item.detail is not None and "GLM" in item.detail
        assert item.insert_text_format == types.InsertTextFormat.PlainText
        assert item.text_edit == types.TextEdit(
            range=types.Range(start=AFTER_RETURN, end=AFTER_RETURN), new_text="a + b"
        )
        type_at(editor, uri, AFTER_RETURN, "a + b")
        assert editor.text(uri) == "def add(a, b):\n    return a + b\n"


async def test_snippet_client_gets_an_escaped_snippet_indented_like_its_line(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    # Neovim 0.11 and Helix: snippets are inserted whole, the line's indentation added.
    fake_glm.enqueue(Reply(text='```\nif x:\n    return f"${x}"\nreturn 0\n```'))
    capabilities = vscode_like_capabilities(inline_completion=False)
    assert capabilities.text_document is not None
    capabilities.text_document.completion = types.CompletionClientCapabilities(
        completion_item=types.ClientCompletionItemOptions(snippet_support=True)
    )
    session = start_session(fake_glm, tmp_path, init_options=FAST, capabilities=capabilities)
    async with session as (client, editor):
        uri = editor.open("calc.py", "def f(x):\n    \n")
        items = await completion_items(client, uri, at(1, 4))
        assert items[0].insert_text_format == types.InsertTextFormat.Snippet
        assert items[0].insert_text_mode == types.InsertTextMode.AdjustIndentation
        assert items[0].text_edit is not None
        assert items[0].text_edit.new_text == 'if x:\n    return f"\\${x\\}"\nreturn 0'


async def test_suffix_overlap_and_reindented_block(fake_glm: FakeGlm, tmp_path: Path) -> None:
    fake_glm.enqueue(
        Reply(text="'hello')"),
        Reply(text="```python\nif self.empty:\n    return 0\nreturn self.w * self.h\n```"),
    )
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        greet = editor.open("greet.py", "print()\n")
        assert await inline(client, greet, at(0, 6)) == ["'hello'"]

        shape = editor.open("shape.py", "class Shape:\n    def area(self):\n        \n")
        assert await inline(client, shape, at(2, 8)) == [
            "if self.empty:\n            return 0\n        return self.w * self.h"
        ]


async def test_typing_through_a_suggestion_makes_no_upstream_request(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(Reply(text="a + b"))
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", ADD)
        assert await inline(client, uri, AFTER_RETURN) == ["a + b"]

        typed = AFTER_RETURN
        for char, rest in (("a", " + b"), (" ", "+ b"), ("+", " b")):
            type_at(editor, uri, typed, char)
            typed = at(typed.line, typed.character + 1)
            assert await inline(client, uri, typed, automatic=True) == [rest]

        assert len(fake_glm.requests) == 1


async def test_newer_request_cancels_the_older_upstream_call(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(Reply(text="slow + answer", first_token_delay=5.0), Reply(text="a + b"))
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", ADD)
        older = asyncio.ensure_future(inline(client, uri, AFTER_RETURN))
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 1)

        newer = await inline(client, uri, AFTER_RETURN)

        assert newer == ["a + b"]
        assert await older == []
        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 10.0)


async def test_cancel_request_closes_the_upstream_call(fake_glm: FakeGlm, tmp_path: Path) -> None:
    fake_glm.enqueue(Reply(text="slow + answer", first_token_delay=5.0))
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", ADD)
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=AFTER_RETURN,
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
        answer = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="to-cancel"
            )
        )
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 1)
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="to-cancel"))
        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 10.0)
        with contextlib.suppress(Exception):  # a cancelled request answers with an error
            await answer


async def test_automatic_triggers_are_debounced(fake_glm: FakeGlm, tmp_path: Path) -> None:
    fake_glm.default_reply = Reply(text="a + b")
    options = {"completion": {"debounceMs": 150}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        uri = editor.open("calc.py", ADD)
        pending = []
        position = AFTER_RETURN
        for char in "total":
            type_at(editor, uri, position, char)
            position = at(position.line, position.character + 1)
            pending.append(asyncio.ensure_future(inline(client, uri, position, automatic=True)))
            await asyncio.sleep(0.03)
        results = await asyncio.gather(*pending)

        assert len(fake_glm.requests) == 1
        assert results[-1] == ["a + b"]
        assert "    return total<|cursor|>" in fake_glm.requests[0].text()


async def test_stale_document_version_answers_nothing(fake_glm: FakeGlm, tmp_path: Path) -> None:
    fake_glm.enqueue(Reply(text="a + b", first_token_delay=0.3))
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", ADD)
        request = asyncio.ensure_future(inline(client, uri, AFTER_RETURN))
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 1)
        type_at(editor, uri, at(0, 0), "# edited\n")
        assert await request == []


async def test_early_stop_closes_the_stream(fake_glm: FakeGlm, tmp_path: Path) -> None:
    tail = "".join(f"\nline_{n} = {n}" for n in range(100))
    fake_glm.enqueue(Reply(text="a + b" + tail, chunk_size=4, chunk_delay=0.02))
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", ADD)
        assert await inline(client, uri, AFTER_RETURN) == ["a + b"]
        # Closed after a few of the ~300 chunks (all of them would take 6 s): counted, not timed.
        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 10.0)
        assert fake_glm.requests[0].chunks_sent < 20


async def test_no_key_answers_nothing_fast_and_says_so_once(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    session = start_session(fake_glm, tmp_path, init_options=FAST, key=None)
    async with session as (client, editor):
        uri = editor.open("calc.py", ADD)
        for _ in range(3):  # answered at once: no upstream call to wait for (asserted below)
            assert await inline(client, uri, AFTER_RETURN, automatic=True) == []
        assert await wait_until(lambda: bool(messages_of(client, types.MessageType.Warning)))
        await asyncio.sleep(0.1)
        warnings = messages_of(client, types.MessageType.Warning)
        assert len(warnings) == 1
        assert "BIGMODEL_API_KEY" in warnings[0]
        assert fake_glm.requests == []


async def test_upstream_failure_answers_nothing_and_says_so_once(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.default_reply = Reply(status=500)
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", ADD)
        for _ in range(3):
            assert await inline(client, uri, AFTER_RETURN) == []
        assert len(fake_glm.requests) == 3  # no retries: the next keystroke is the retry
        await asyncio.sleep(0.1)
        assert len(messages_of(client, types.MessageType.Warning)) == 1


async def test_disabled_completion_offers_nothing(fake_glm: FakeGlm, tmp_path: Path) -> None:
    options = {"completion": {"enabled": False}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        uri = editor.open("calc.py", ADD)
        assert await inline(client, uri, AFTER_RETURN) == []
        assert fake_glm.requests == []
