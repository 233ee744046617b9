"""Code actions under real conditions: slow streams with progress, cancelling, the user typing
while GLM works, UTF-16 positions, and upstream faults. Nothing half-applied, ever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.test_code_actions import AREA, CALC, make_workspace, range_json, rng
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import (
    EditorState,
    after_progress_began,
    execute,
    messages_of,
    shown_progress,
    shut_down,
    start_session,
    wait_until,
)

NEW_AREA = "def area(radius: float) -> float:\n    return math.pi * radius**2\n"
SLOW = {"chunk_size": 6, "chunk_delay": 0.03}  # ~10 chunks: about 0.3 s of streaming


def refactor_reply(**extra: Any) -> Reply:
    return Reply(text=f"```python\n{NEW_AREA}```", **{**SLOW, **extra})


def start(awaitable: Any) -> asyncio.Future[Any]:
    """Run a request in the background, as an editor does while the user keeps typing."""
    return asyncio.ensure_future(awaitable)


async def streaming_started(fake: FakeGlm, chunks: int = 2) -> None:
    assert await wait_until(lambda: bool(fake.requests) and fake.requests[-1].chunks_sent >= chunks)


async def test_progress_is_reported_while_streaming(fake_glm: FakeGlm, tmp_path: Path) -> None:
    make_workspace(tmp_path)
    clients: list[Any] = []
    reply = refactor_reply(reasoning="Let me think about this. " * 4, chunk_delay=0.05)
    fake_glm.responder = after_progress_began(clients, reply)
    async with start_session(fake_glm, tmp_path) as (client, editor):
        clients.append(client)
        uri = editor.open("calc.py", CALC)
        await execute(client, "glm.refactor", {"uri": uri, "range": range_json(AREA)})
        (reports,) = client.progress_reports.values()
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
        assert reports[0].title == "GLM: Refactor" and reports[0].cancellable
        middle = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
        assert any(m == "thinking…" for m in middle)
        assert any(m and m.endswith("tokens") for m in middle)
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
        assert reports[-1].message and "tokens" in reports[-1].message
        assert NEW_AREA in editor.text(uri)


async def test_cancel_request_closes_the_stream_and_applies_nothing(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    fake_glm.enqueue(refactor_reply(chunk_delay=0.2))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        params = types.ExecuteCommandParams(
            command="glm.refactor", arguments=[{"uri": uri, "range": range_json(AREA)}]
        )
        pending = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="refactor-1"
            )
        )
        await streaming_started(fake_glm, 1)
        client.cancel_request(types.CancelParams(id="refactor-1"))
        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 10.0)
        with pytest.raises(Exception, match="cancel"):
            await pending
        await asyncio.sleep(0.2)
        assert not editor.applied_edits
        assert editor.text(uri) == CALC
        assert (await execute(client, "glm.status", {}))["requests"] == 1  # still serving


async def test_progress_cancel_closes_the_stream_and_applies_nothing(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    clients: list[Any] = []
    fake_glm.responder = after_progress_began(clients, refactor_reply(chunk_delay=0.2))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        clients.append(client)
        uri = editor.open("calc.py", CALC)
        pending = start(execute(client, "glm.refactor", {"uri": uri, "range": range_json(AREA)}))
        await streaming_started(fake_glm, 1)
        token = await shown_progress(client)
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 10.0)
        assert await pending == {"applied": False}
        assert not editor.applied_edits
        ends = [
            r for r in client.progress_reports[token] if isinstance(r, types.WorkDoneProgressEnd)
        ]
        assert ends and ends[0].message == "Cancelled"


@asynccontextmanager
async def refactor_while_the_user_types(
    fake: FakeGlm, root: Path, where: types.Range, typed: str
) -> AsyncIterator[tuple[Any, LanguageClient, EditorState, str]]:
    """Refactor AREA; while GLM streams, the user replaces ``where`` with ``typed``."""
    make_workspace(root)
    fake.enqueue(refactor_reply())
    async with start_session(fake, root) as (client, editor):
        uri = editor.open("calc.py", CALC)
        pending = start(execute(client, "glm.refactor", {"uri": uri, "range": range_json(AREA)}))
        await streaming_started(fake)
        editor.type_text(uri, where, typed)
        yield await pending, client, editor, uri


async def test_lines_inserted_above_during_generation_are_kept_and_the_edit_rebased(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    typed = "# typed while GLM worked\nimport sys\n"
    async with refactor_while_the_user_types(fake_glm, tmp_path, rng(0, 0, 0, 0), typed) as (
        result,
        _,
        editor,
        uri,
    ):
        assert result == {"applied": True}
        old_area = "def area(radius):\n    return math.pi * radius ** 2\n"
        assert editor.text(uri) == typed + CALC.replace(old_area, NEW_AREA)
        (params,) = editor.applied_edits
        (change,) = params.edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.version == 2  # rebased onto the user's version


async def test_rewritten_selection_during_generation_applies_nothing_and_warns(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    inside_selection = rng(4, 11, 4, 18)  # "math.pi"
    async with refactor_while_the_user_types(fake_glm, tmp_path, inside_selection, "3.14159") as (
        result,
        client,
        editor,
        uri,
    ):
        assert result == {"applied": False}
        assert not editor.applied_edits
        assert editor.text(uri) == CALC.replace("math.pi", "3.14159")
        warnings = messages_of(client, types.MessageType.Warning)
        assert any("changed where the result goes" in w for w in warnings)


async def test_selection_after_emoji_and_cjk_is_replaced_exactly(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    line = 'label = "😀 中文 ok"; value = compute(1)  # 🎉'
    text = f"{line}\nnext = 1\n"
    start = len(line[: line.index("compute")].encode("utf-16-le")) // 2
    end = start + len("compute(1)")
    fake_glm.enqueue(Reply(text="```python\ncompute(2)\n```"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", text)
        await execute(
            client, "glm.refactor", {"uri": uri, "range": range_json(rng(0, start, 0, end))}
        )
        assert editor.text(uri) == text.replace("compute(1)", "compute(2)")
        assert (
            "Selected code (lines 1-1):\n```python\ncompute(1)\n```" in fake_glm.requests[0].text()
        )


FAULTS = {
    "bad key": ([Reply(status=401, error_code="1002")], "GLM rejected the API key", 1),
    "no balance": ([Reply(status=429, error_code="1113")], "no balance", 1),
    "stream breaks": (
        [Reply(text=f"```python\n{NEW_AREA}```", chunk_size=4, disconnect_after=3)],
        "nothing was applied",
        1,
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
async def test_faults_show_one_error_apply_nothing_and_the_server_goes_on(
    fake_glm: FakeGlm, tmp_path: Path, fault: str
) -> None:
    replies, message, requests = FAULTS[fault]
    make_workspace(tmp_path)
    fake_glm.enqueue(*replies)
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        argument = {"uri": uri, "range": range_json(AREA)}
        assert await execute(client, "glm.refactor", argument) == {"applied": False}
        errors = messages_of(client, types.MessageType.Error)
        assert len(errors) == 1 and message in errors[0]
        assert len(fake_glm.requests) == requests  # no retry for these
        assert not editor.applied_edits and editor.text(uri) == CALC

        fake_glm.enqueue(Reply(text=f"```python\n{NEW_AREA}```"))
        assert await execute(client, "glm.refactor", argument) == {"applied": True}
        assert NEW_AREA in editor.text(uri)


async def test_rate_limit_then_ok_is_retried_and_applied(fake_glm: FakeGlm, tmp_path: Path) -> None:
    make_workspace(tmp_path)
    fake_glm.enqueue(
        Reply(status=429, error_code="1302", headers={"Retry-After": "0"}),
        Reply(text=f"```python\n{NEW_AREA}```"),
    )
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        result = await execute(client, "glm.refactor", {"uri": uri, "range": range_json(AREA)})
        assert result == {"applied": True}
        assert len(fake_glm.requests) == 2
        assert NEW_AREA in editor.text(uri)
        assert not messages_of(client, types.MessageType.Error)


async def test_editor_refusing_the_edit_is_reported(fake_glm: FakeGlm, tmp_path: Path) -> None:
    make_workspace(tmp_path)
    fake_glm.enqueue(Reply(text=f"```python\n{NEW_AREA}```"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        editor.reject_edits = True
        result = await execute(client, "glm.refactor", {"uri": uri, "range": range_json(AREA)})
        assert result == {"applied": False}
        warnings = messages_of(client, types.MessageType.Warning)
        assert any("did not apply" in w and "user declined" in w for w in warnings)


async def test_no_key_says_how_to_set_it(fake_glm: FakeGlm, tmp_path: Path) -> None:
    make_workspace(tmp_path)
    async with start_session(fake_glm, tmp_path, key=None) as (client, editor):
        uri = editor.open("calc.py", CALC)
        result = await execute(client, "glm.explain", {"uri": uri, "range": range_json(AREA)})
        assert result is None
        shown = messages_of(client)
        assert any("BIGMODEL_API_KEY" in m for m in shown)
        assert not fake_glm.requests


async def test_a_bad_argument_is_one_message(fake_glm: FakeGlm, tmp_path: Path) -> None:
    async with start_session(fake_glm, tmp_path) as (client, _):
        await execute(client, "glm.refactor", {"range": "nope"})
        assert any("one object argument" in m for m in messages_of(client))
        assert (await execute(client, "glm.status", {}))["requests"] == 0


async def test_the_editor_quitting_mid_refactor_gets_its_shutdown_answered_and_no_edit(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """An editor that closes while GLM streams sends shutdown with the command still pending;
    pygls' own shutdown answered that with an internal error (pygls#606)."""
    make_workspace(tmp_path)
    fake_glm.enqueue(refactor_reply(chunk_delay=0.5))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        pending = start(execute(client, "glm.refactor", {"uri": uri, "range": range_json(AREA)}))
        await streaming_started(fake_glm, 1)
        await shut_down(client)  # raises if shutdown is answered with an error
        assert client._server is not None and client._server.returncode == 0
        assert await pending == {"applied": False}  # the command ended as cancelled
        assert not editor.applied_edits
        assert editor.text(uri) == CALC
        assert not any("failed" in m for m in messages_of(client))  # quitting is no failure
