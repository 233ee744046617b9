"""Next-edit suggestions end to end: the real glm-lsp process, the fake GLM, a client that
speaks Copilot's ``textDocument/copilotInlineEdit``. Asserts the edit the editor would show
(and what applying it gives), the prompt the upstream got, and that every bad case is a
quiet ``edits: []`` with a log line, never an error."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import EditorState, apply_text_edits, execute, start_session, wait_until

SOURCE = '''\
"""A tiny calculator."""


def total(values):
    result = 0
    for value in values:
        result = result + value
    print(len(values))
    return result


def add(a, b):
    return a + b
'''
RENAMED = SOURCE.replace("def total(values)", "def total(items)")
PREDICTED = RENAMED.replace("in values", "in items").replace("len(values)", "len(items)")
SIGNATURE = 3  # the line of `def total(values):`
INVOKED = 1
FAST = {"nextEdit": {"debounceMs": 0}}


def fenced(text: str) -> str:
    return f"```python\n{text.rstrip(chr(10))}\n```"


def plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


async def next_edit(
    client: Any, uri: str, version: int | None, line: int, character: int, kind: int = INVOKED
) -> list[dict[str, Any]]:
    document: dict[str, Any] = {"uri": uri}
    if version is not None:
        document["version"] = version
    params = {
        "textDocument": document,
        "position": {"line": line, "character": character},
        "context": {"triggerKind": kind},
    }
    result = plain(
        await client.protocol.send_request_async("textDocument/copilotInlineEdit", params)
    )
    return list(result["edits"])


def rename_parameter(editor: EditorState, uri: str) -> None:
    """The user selects `values` in the signature and types `items`."""
    start = types.Position(line=SIGNATURE, character=len("def total("))
    end = types.Position(line=SIGNATURE, character=len("def total(values"))
    editor.type_text(uri, types.Range(start=start, end=end), "items")


def applied(text: str, edit: dict[str, Any]) -> str:
    span = edit["range"]
    text_edit = types.TextEdit(
        range=types.Range(start=types.Position(**span["start"]), end=types.Position(**span["end"])),
        new_text=edit["text"],
    )
    return apply_text_edits(text, [text_edit])


def logged(client: Any, text: str) -> bool:
    return any(text in message.message for message in client.log_messages)


async def test_rename_parameter_gives_one_edit_that_makes_the_rewrite(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(Reply(text=fenced(PREDICTED)))
    options = {**FAST, "completion": {"model": "glm-fast"}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        experimental = editor.init_result.capabilities.experimental  # type: ignore[union-attr]
        assert plain(experimental)["nextEditSuggestions"] is True
        uri = editor.open("calc.py", SOURCE)
        rename_parameter(editor, uri)
        version = editor.documents[uri].version

        edits = await next_edit(client, uri, version, SIGNATURE, len("def total(items"))

        assert len(edits) == 1
        (edit,) = edits
        assert edit["textDocument"] == {"uri": uri, "version": version}
        assert applied(editor.text(uri), edit) == PREDICTED
        assert edit["command"]["command"] == "glm.nextEditAccepted"
        prompt = fake_glm.requests[0].text()
        assert "-def total(values):\n+def total(items):" in prompt  # the edit, as a diff
        assert "<|cursor|>" in prompt
        body = fake_glm.requests[0].body
        assert body["model"] == "glm-fast"  # the completion model, with thinking off
        assert body["thinking"] == {"type": "disabled"}

        # Shown, then accepted: glm.status counts both.
        client.protocol.notify(
            "textDocument/didShowInlineEdit", {"item": {"command": edit["command"]}}
        )
        await execute(client, "glm.nextEditAccepted", edit["command"]["arguments"][0])
        status = plain(await execute(client, "glm.status", {}))
        assert status["nextEdit"] == {"shown": 1, "accepted": 1, "acceptRate": 1.0}
        # This client shows next edits itself: no "GLM: Predict next edit" code action.
        assert await predict_actions(client, uri, types.Position(line=0, character=0), []) == []


async def test_no_change_undo_white_space_and_stale_give_no_edit(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    respaced = RENAMED.replace("result = 0", "result  =  0")
    fake_glm.enqueue(
        Reply(text="NO_CHANGE"),
        Reply(text=fenced(SOURCE)),  # puts `values` back: undoes the user's rename
        Reply(text=fenced(respaced)),
        Reply(text=fenced(PREDICTED), first_token_delay=1.0),  # the user types meanwhile
    )
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", SOURCE)
        rename_parameter(editor, uri)
        version = editor.documents[uri].version
        column = len("def total(items")

        assert await next_edit(client, uri, version, SIGNATURE, column) == []
        assert await next_edit(client, uri, version, SIGNATURE, column) == []
        assert await next_edit(client, uri, version, SIGNATURE, column) == []
        assert len(fake_glm.requests) == 3
        assert logged(client, "undo the user's last change")
        assert logged(client, "white space")

        # An old version is refused at once; a version that moves while GLM answers too.
        assert await next_edit(client, uri, version - 1, SIGNATURE, column) == []
        assert len(fake_glm.requests) == 3
        pending = asyncio.ensure_future(next_edit(client, uri, version, SIGNATURE, column))
        assert await wait_until(lambda: len(fake_glm.requests) == 4)
        end = types.Position(line=12, character=len("    return a + b"))
        editor.type_text(uri, types.Range(start=end, end=end), "  # sum")
        assert await pending == []
        assert logged(client, "changed meanwhile"), "\n".join(
            m.message for m in client.log_messages
        )


async def test_a_newer_request_cancels_the_older_upstream_call(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(
        Reply(text=fenced(PREDICTED), first_token_delay=30), Reply(text=fenced(PREDICTED))
    )
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", SOURCE)
        rename_parameter(editor, uri)
        version = editor.documents[uri].version
        older = asyncio.ensure_future(next_edit(client, uri, version, SIGNATURE, 5))
        assert await wait_until(lambda: len(fake_glm.requests) == 1)

        newer = await next_edit(client, uri, version, SIGNATURE, 6)

        assert len(newer) == 1
        assert await older == []
        assert fake_glm.wait_closed(0, timeout=10)


async def test_disabled_sends_nothing(fake_glm: FakeGlm, tmp_path: Path) -> None:
    options = {"nextEdit": {"enabled": False, "debounceMs": 0}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        uri = editor.open("calc.py", SOURCE)
        rename_parameter(editor, uri)
        version = editor.documents[uri].version
        assert await next_edit(client, uri, version, SIGNATURE, 5) == []
        await asyncio.sleep(0.2)
        assert fake_glm.requests == []


async def test_bad_input_gives_no_edit_and_a_log_line(fake_glm: FakeGlm, tmp_path: Path) -> None:
    fake_glm.enqueue(
        Reply(text="You should rename values to items in the loop."),  # prose, no fence
        Reply(text="```python\n" + "x" * 1_000_000 + "\n```", chunk_size=65536, chunk_delay=0.05),
    )
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", SOURCE)
        rename_parameter(editor, uri)
        version = editor.documents[uri].version
        unknown = (tmp_path / "nowhere.py").as_uri()

        assert await next_edit(client, unknown, 1, 0, 0) == []
        assert logged(client, "is not open")
        assert await next_edit(client, uri, None, SIGNATURE, 5) == []
        assert logged(client, "no textDocument.version")
        assert await next_edit(client, uri, version, 400, 0) == []
        assert logged(client, "past the end")
        assert fake_glm.requests == []

        assert await next_edit(client, uri, version, SIGNATURE, 5) == []
        assert logged(client, "no fenced code block")
        assert await next_edit(client, uri, version, SIGNATURE, 5) == []
        assert logged(client, "longer than")
        assert fake_glm.wait_closed(1)  # the long reply was not read to its end
        assert not [m for m in client.messages if m.type == types.MessageType.Error]


async def test_predict_next_edit_code_action_applies_the_edit(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(Reply(text=fenced(PREDICTED)))
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", SOURCE)
        rename_parameter(editor, uri)
        here = types.Position(line=SIGNATURE, character=5)
        undefined = types.Diagnostic(
            range=types.Range(
                start=types.Position(line=5, character=20), end=types.Position(line=5, character=26)
            ),
            message="undefined name 'values'",
            severity=types.DiagnosticSeverity.Error,
        )
        (action,) = await predict_actions(client, uri, here, [undefined])
        assert isinstance(action, types.CodeAction) and action.command is not None
        await execute(client, action.command.command, action.command.arguments[0])
        assert editor.text(uri) == PREDICTED
        # The editor's diagnostics came with the code action request: the prompt has them.
        assert "line 6: error: undefined name 'values'" in fake_glm.requests[0].text()


async def predict_actions(
    client: Any, uri: str, here: types.Position, diagnostics: list[types.Diagnostic]
) -> list[Any]:
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=here, end=here),
            context=types.CodeActionContext(diagnostics=diagnostics),
        )
    )
    return [a for a in actions or [] if a.title == "GLM: Predict next edit"]


async def test_predict_next_edit_in_helix_is_answered_at_once_and_applied(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """Helix has no next-edit UI and gives up on a request after 20 s: the command answers at
    once and the edit arrives by workspace/applyEdit."""
    fake_glm.enqueue(Reply(text=fenced(PREDICTED), first_token_delay=0.5))
    helix = types.ClientInfo(name="helix")
    async with start_session(fake_glm, tmp_path, init_options=FAST, client_info=helix) as (
        client,
        editor,
    ):
        uri = editor.open("calc.py", SOURCE)
        rename_parameter(editor, uri)
        (action,) = await predict_actions(
            client, uri, types.Position(line=SIGNATURE, character=5), []
        )
        answer = await execute(client, action.command.command, action.command.arguments[0])
        assert answer is None and editor.text(uri) == RENAMED  # answered before GLM did
        assert await wait_until(lambda: editor.text(uri) == PREDICTED)
