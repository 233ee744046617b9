"""The editor refuses an edit because the document moved on while the edit was in flight (the
user typed): the server rebases onto the new version and sends it once more."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, messages_of, start_session

TEXT = "import math\n\n\ndef area(radius):\n    return math.pi * radius ** 2\n"
NEW_AREA = "def area(radius: float) -> float:\n    return math.pi * radius**2\n"
AREA = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}


async def test_an_edit_refused_because_the_user_typed_is_rebased_and_sent_again(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(Reply(text=f"```python\n{NEW_AREA}```"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", TEXT)

        def user_types_first(params: types.ApplyWorkspaceEditParams) -> None:
            if len(editor.applied_edits) == 1:  # while the first edit is on its way
                top = types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
                editor.type_text(uri, top, "# typed meanwhile\n")

        editor.before_apply = user_types_first
        result = await execute(client, "glm.refactor", {"uri": uri, "range": AREA})
        assert result == {"applied": True}
        assert editor.text(uri) == "# typed meanwhile\n" + TEXT.replace(
            "def area(radius):\n    return math.pi * radius ** 2\n", NEW_AREA
        )
    first, second = editor.applied_edits
    versions = [
        change.text_document.version
        for params in (first, second)
        for change in params.edit.document_changes or []
        if isinstance(change, types.TextDocumentEdit)
    ]
    assert versions == [1, 2]  # refused at 1, then rebased onto the version the user made
    assert not messages_of(client, types.MessageType.Warning)
    assert len(fake_glm.requests) == 1  # rebased, not asked again


async def test_a_second_refusal_is_reported_and_nothing_is_lost(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(Reply(text=f"```python\n{NEW_AREA}```"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", TEXT)
        typed: list[str] = []

        def user_keeps_typing(params: types.ApplyWorkspaceEditParams) -> None:
            top = types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
            typed.append(f"# {len(typed)}\n")
            editor.type_text(uri, top, typed[-1])

        editor.before_apply = user_keeps_typing
        result = await execute(client, "glm.refactor", {"uri": uri, "range": AREA})
        assert result == {"applied": False}
        assert editor.text(uri) == "".join(reversed(typed)) + TEXT  # all typing kept
    assert len(editor.applied_edits) == 2  # one retry, not a loop
    (warning,) = messages_of(client, types.MessageType.Warning)
    assert "did not apply" in warning
