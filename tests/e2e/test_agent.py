"""glm.agent end to end: the real server, the fake GLM scripted as the model, an editor that
applies (or rejects) the one WorkspaceEdit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import (
    after_progress_began,
    execute,
    messages_of,
    shown_progress,
    start_session,
    vscode_like_capabilities,
)

SECRET = "s3cr3t-0f-the-user-DO-NOT-LEAK"

Turn = Reply | Callable[[list[dict[str, Any]]], Reply]


def make_workspace(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "agent_ws"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def play_model(fake: FakeGlm, *turns: Turn) -> None:
    """The fake answers turn n (counted by the assistant messages so far) with turns[n];
    the last turn repeats."""

    def respond(body: dict[str, Any]) -> Reply:
        done = sum(1 for m in body["messages"] if m["role"] == "assistant")
        turn = turns[min(done, len(turns) - 1)]
        return turn(body["messages"]) if callable(turn) else turn

    fake.responder = respond


def tools(*calls: tuple[str, dict[str, Any]]) -> Reply:
    return Reply(tool_calls=[{"name": name, "arguments": args} for name, args in calls])


def tool_results(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


def agent(instruction: str, **extra: Any) -> dict[str, Any]:
    return {"instruction": instruction, **extra}


def lines_range(first: tuple[int, int], last: tuple[int, int]) -> types.Range:
    return types.Range(
        start=types.Position(line=first[0], character=first[1]),
        end=types.Position(line=last[0], character=last[1]),
    )


async def test_two_file_rename_reads_in_parallel_and_applies_one_edit(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(
        tmp_path,
        {"a.py": "def helper():\n    return 1\n", "b.py": "from a import helper\n"},
    )
    unsaved_b = "from a import helper\n\nprint(helper())  # unsaved\n"
    session: list[Any] = []
    play_model(
        fake_glm,
        after_progress_began(
            session, tools(("read_file", {"path": "a.py"}), ("read_file", {"path": "b.py"}))
        ),
        tools(
            (
                "edit_file",
                {"path": "a.py", "old_text": "def helper():", "new_text": "def assist():"},
            ),
            (
                "write_file",
                {"path": "b.py", "content": "from a import assist\n\nprint(assist())  # unsaved\n"},
            ),
        ),
        Reply(text="Renamed helper to assist in a.py and b.py."),
    )
    async with start_session(fake_glm, root) as (client, editor):
        session.append(client)
        b_uri = editor.open("b.py", unsaved_b)
        result = await execute(client, "glm.agent", agent("rename helper to assist"))

        assert result["applied"] is True
        assert (root / "a.py").read_text() == "def assist():\n    return 1\n"
        assert editor.text(b_uri) == "from a import assist\n\nprint(assist())  # unsaved\n"
        assert len(editor.applied_edits) == 1
        params = editor.applied_edits[0]
        assert params.label == "GLM: rename helper to assist"
        versions = {
            c.text_document.uri: c.text_document.version
            for c in params.edit.document_changes or []
            if isinstance(c, types.TextDocumentEdit)
        }
        assert versions == {editor.uri("a.py"): None, b_uri: 1}

        # What the model was shown: the real file and the open buffer's unsaved text.
        second = fake_glm.requests[1].body
        assert tool_results(second) == ["def helper():\n    return 1\n", unsaved_b]
        assistant = second["messages"][-3]
        assert [c["function"]["name"] for c in assistant["tool_calls"]] == ["read_file"] * 2
        assert all(isinstance(m["content"], str) for m in second["messages"])

        info = messages_of(client, types.MessageType.Info)
        assert any("changed 2 file(s) (a.py, b.py) in 3 turns" in m for m in info)
        status = await execute(client, "glm.status", {})
        assert status["byFeature"]["agent"]["requests"] == 3
        reports = [r for rs in client.progress_reports.values() for r in rs]
        titles = [r.title for r in reports if isinstance(r, types.WorkDoneProgressBegin)]
        assert any(t.startswith("GLM agent: rename helper") for t in titles)
        progress = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
        assert any("turn 1/25" in m and "reading a.py, reading b.py" in m for m in progress)
        assert any("turn 2/25" in m and "editing a.py" in m for m in progress)


async def test_ambiguous_edit_gets_an_error_and_the_model_recovers(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(
        tmp_path, {"m.py": "def one():\n    return 1\n\n\ndef two():\n    return 1\n"}
    )

    def recover(messages: list[dict[str, Any]]) -> Reply:
        assert messages[-1]["content"].startswith("error: old_text occurs 2 times in m.py")
        edit = {
            "path": "m.py",
            "old_text": "two():\n    return 1",
            "new_text": "two():\n    return 2",
        }
        return tools(("edit_file", edit))

    play_model(
        fake_glm,
        tools(("edit_file", {"path": "m.py", "old_text": "return 1", "new_text": "return 2"})),
        recover,
        Reply(text="two() returns 2 now."),
    )
    async with start_session(fake_glm, root) as (client, _editor):
        result = await execute(client, "glm.agent", agent("make two() return 2"))
        assert result["applied"] is True
        assert (
            root / "m.py"
        ).read_text() == "def one():\n    return 1\n\n\ndef two():\n    return 2\n"


async def test_create_delete_rename_in_one_annotated_edit(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(
        tmp_path, {"old.py": "gone\n", "util.py": "def util(): ...\n", "pkg/__init__.py": ""}
    )
    play_model(
        fake_glm,
        tools(
            ("write_file", {"path": "pkg/new.py", "content": "NEW = 1\n"}),
            ("delete_file", {"path": "old.py"}),
            ("rename_file", {"path": "util.py", "new_path": "pkg/util.py"}),
        ),
        Reply(text="Reorganised."),
    )
    async with start_session(fake_glm, root) as (client, editor):
        result = await execute(client, "glm.agent", agent("reorganise into pkg/"))
        assert result["applied"] is True
        assert len(editor.applied_edits) == 1
        edit = editor.applied_edits[0].edit
        kinds = [type(c).__name__ for c in edit.document_changes or []]
        assert kinds == ["DeleteFile", "RenameFile", "CreateFile", "TextDocumentEdit"]
        operations = [
            c for c in edit.document_changes or [] if not isinstance(c, types.TextDocumentEdit)
        ]
        assert edit.change_annotations is not None
        for operation in operations:
            annotation = edit.change_annotations[operation.annotation_id]
            assert annotation.needs_confirmation is True
        assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")) == [
            "pkg/__init__.py",
            "pkg/new.py",
            "pkg/util.py",
        ]
        assert (root / "pkg/new.py").read_text() == "NEW = 1\n"
        assert (root / "pkg/util.py").read_text() == "def util(): ...\n"


async def test_attacks_are_refused_and_no_secret_reaches_upstream(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(
        tmp_path,
        {"app.py": "print('hi')\n", ".env": f"TOKEN={SECRET}\n", ".git/config": f"[x] {SECRET}\n"},
    )
    outside = tmp_path / "outside.txt"
    outside.write_text(SECRET)
    (root / "notes.txt").symlink_to(outside)
    play_model(
        fake_glm,
        tools(
            ("read_file", {"path": "../outside.txt"}),
            ("read_file", {"path": str(outside)}),
            ("read_file", {"path": "notes.txt"}),
            ("read_file", {"path": ".git/config"}),
            ("read_file", {"path": ".env"}),
            ("search", {"query": "TOKEN"}),
            ("write_file", {"path": "../evil.py", "content": "pwned"}),
        ),
        Reply(text="I could not read those."),
    )
    async with start_session(fake_glm, root) as (client, editor):
        result = await execute(client, "glm.agent", agent("show me the secrets"))
        results = tool_results(fake_glm.requests[1].body)
        assert len(results) == 7
        assert all(r.startswith("error: ") for r in results[:5]) and results[6].startswith(
            "error: "
        )
        assert results[5] == "(no matches)"
        for request in fake_glm.requests:
            assert SECRET not in json.dumps(request.body)
        assert not (tmp_path / "evil.py").exists()
        assert result["applied"] is False and editor.applied_edits == []
        assert any("made no changes" in m for m in messages_of(client, types.MessageType.Info))


async def test_endless_loop_stops_at_max_iterations_and_applies_nothing(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "a = 1\n"})
    play_model(fake_glm, tools(("write_file", {"path": "a.py", "content": "a = 2\n"})))
    options = {"agent": {"maxIterations": 3}}
    async with start_session(fake_glm, root, init_options=options) as (client, editor):
        result = await execute(client, "glm.agent", agent("loop forever"))
        assert len(fake_glm.requests) == 3
        assert result["applied"] is False and editor.applied_edits == []
        warnings = messages_of(client, types.MessageType.Warning)
        assert any("stopped after 3 turns" in w and "nothing was applied" in w for w in warnings)
        assert (root / "a.py").read_text() == "a = 1\n"


async def test_max_iterations_applies_the_partial_result_when_configured(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "a = 1\n"})
    play_model(fake_glm, tools(("write_file", {"path": "a.py", "content": "a = 2\n"})))
    options = {"agent": {"maxIterations": 2, "applyPartialResult": True}}
    async with start_session(fake_glm, root, init_options=options) as (client, editor):
        result = await execute(client, "glm.agent", agent("loop forever"))
        assert len(fake_glm.requests) == 2
        assert result["applied"] is True and result["partial"] is True
        (edit,) = editor.applied_edits
        assert edit.label == "GLM (partial): loop forever"
        assert (root / "a.py").read_text() == "a = 2\n"
        warnings = messages_of(client, types.MessageType.Warning)
        assert any("stopped unfinished after 2 turns" in w and "a.py" in w for w in warnings)


@pytest.mark.parametrize("how", ["cancelRequest", "progressCancel"])
async def test_cancel_mid_run_closes_upstream_and_applies_nothing(
    fake_glm: FakeGlm, tmp_path: Path, how: str
) -> None:
    root = make_workspace(tmp_path, {"a.py": "a = 1\n"})
    play_model(
        fake_glm,
        tools(("write_file", {"path": "a.py", "content": "a = 2\n"})),
        Reply(text="still thinking " * 50, chunk_size=4, chunk_delay=0.05),
    )
    async with start_session(fake_glm, root) as (client, editor):
        pending = asyncio.ensure_future(execute(client, "glm.agent", agent("slow")))
        assert await asyncio.to_thread(fake_glm.wait_for, lambda: len(fake_glm.requests) >= 2)
        assert await asyncio.to_thread(
            fake_glm.wait_for, lambda: fake_glm.requests[1].chunks_sent >= 2
        )
        if how == "cancelRequest":
            request_ids = [i for i, f in client.protocol._request_futures.items() if not f.done()]
            for request_id in request_ids:
                client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=request_id))
        else:
            token = await shown_progress(client)
            client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        assert await asyncio.to_thread(fake_glm.wait_closed, 1, 10.0)
        if how == "cancelRequest":
            with pytest.raises(JsonRpcRequestCancelled):
                await asyncio.wait_for(pending, 5)
        else:
            assert (await asyncio.wait_for(pending, 5))["applied"] is False
        assert editor.applied_edits == []
        assert (root / "a.py").read_text() == "a = 1\n"
        assert len(fake_glm.requests) == 2


async def test_client_rejecting_the_edit_is_reported(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = make_workspace(tmp_path, {"a.py": "a = 1\n"})
    play_model(
        fake_glm, tools(("write_file", {"path": "a.py", "content": "a = 2\n"})), Reply(text="ok")
    )
    async with start_session(fake_glm, root) as (client, editor):
        editor.reject_edits = True
        result = await execute(client, "glm.agent", agent("set a to 2"))
        assert result["applied"] is False and len(editor.applied_edits) == 1
        warnings = messages_of(client, types.MessageType.Warning)
        assert any("did not apply" in w and "user declined" in w for w in warnings)


async def test_instruction_comment_line_is_removed_from_the_result(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    text = "def area(r):\n    # glm: use math.pi\n    return 3.14 * r * r\n"
    root = make_workspace(tmp_path, {"geo.py": text})
    edit = {
        "path": "geo.py",
        "old_text": "return 3.14 * r * r",
        "new_text": "return math.pi * r * r",
    }
    imports = {"path": "geo.py", "old_text": "def area", "new_text": "import math\n\n\ndef area"}
    play_model(fake_glm, tools(("edit_file", edit), ("edit_file", imports)), Reply(text="Done."))
    async with start_session(fake_glm, root) as (client, editor):
        uri = editor.open("geo.py")
        # As the user does it: the code action offered on the comment line runs glm.agent.
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=lines_range((1, 6), (1, 6)),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        (action,) = [a for a in actions or [] if a.title == "GLM: use math.pi"]
        assert isinstance(action, types.CodeAction) and action.command is not None
        assert action.command.command == "glm.agent"
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=action.command.command, arguments=action.command.arguments
            )
        )
        assert result["applied"] is True
        assert editor.text(uri) == "import math\n\n\ndef area(r):\n    return math.pi * r * r\n"
        prompt = fake_glm.requests[0].body["messages"][-1]["content"]
        assert "comment on line 2" in prompt and "Current file: geo.py" in prompt


@pytest.mark.parametrize(
    ("typed_at", "typed", "a_after", "b_after"),
    [
        # Elsewhere: the agent's edit is rebased, the user's line kept.
        (lines_range((0, 0), (0, 0)), "import os\n", "import os\nx = 1\ny = 3\n", "b = 2\n"),
        # The very line the agent changes: the user wins, nothing at all is applied.
        (lines_range((1, 0), (1, 5)), "z = 9", "x = 1\nz = 9\n", "b = 1\n"),
    ],
    ids=["elsewhere", "same-line"],
)
async def test_user_typing_during_the_run_is_never_lost(
    fake_glm: FakeGlm,
    tmp_path: Path,
    typed_at: types.Range,
    typed: str,
    a_after: str,
    b_after: str,
) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\ny = 2\n", "b.py": "b = 1\n"})
    play_model(
        fake_glm,
        tools(
            ("edit_file", {"path": "a.py", "old_text": "y = 2", "new_text": "y = 3"}),
            ("write_file", {"path": "b.py", "content": "b = 2\n"}),
        ),
        Reply(text="ok", first_token_delay=0.4),
    )
    async with start_session(fake_glm, root) as (client, editor):
        uri = editor.open("a.py")
        pending = asyncio.ensure_future(execute(client, "glm.agent", agent("y is 3")))
        assert await asyncio.to_thread(fake_glm.wait_for, lambda: len(fake_glm.requests) >= 2)
        editor.type_text(uri, typed_at, typed)
        result = await pending
        assert editor.text(uri) == a_after
        assert (root / "b.py").read_text() == b_after  # all or nothing
        if result["applied"]:
            return
        assert editor.applied_edits == []
        warnings = messages_of(client, types.MessageType.Warning)
        assert any("a.py" in w and "nothing was applied" in w for w in warnings)


@pytest.mark.parametrize("creates", [False, True])
async def test_client_without_document_changes(
    fake_glm: FakeGlm, tmp_path: Path, creates: bool
) -> None:
    root = make_workspace(tmp_path, {"a.py": "a = 1\n"})
    call = ("write_file", {"path": "new.py" if creates else "a.py", "content": "a = 2\n"})
    play_model(fake_glm, tools(call), Reply(text="ok"))
    capabilities = vscode_like_capabilities(document_changes=False, change_annotations=False)
    async with start_session(fake_glm, root, capabilities=capabilities) as (client, editor):
        result = await execute(client, "glm.agent", agent("edit"))
        if creates:
            assert result["applied"] is False and editor.applied_edits == []
            warnings = messages_of(client, types.MessageType.Warning)
            assert any("documentChanges" in w for w in warnings)
            assert not (root / "new.py").exists()
        else:
            edit = editor.applied_edits[0].edit
            assert edit.document_changes is None and edit.changes is not None
            assert (root / "a.py").read_text() == "a = 2\n"
