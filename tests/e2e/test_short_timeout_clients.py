"""Clients that give up on a request long before GLM answers (Helix: 20 s, eglot: 10 s).

The server answers their command at once and works on under progress: the user never sees
"timed out" followed by an edit anyway; the edit is applied exactly once, and the work stays
cancellable. A client that waits (VS Code, Neovim) still gets the result as the answer.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, messages_of, shown_progress, start_session

T = TypeVar("T")
HELIX = types.ClientInfo(name="helix", version="25.07.1")
HELIX_REQUEST_TIMEOUT = 20.0  # Helix's default language-server timeout, in seconds


def make_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    return root


def edit_add(delay: float) -> Reply:
    call = {
        "name": "edit_file",
        "arguments": {
            "path": "calc.py",
            "old_text": "def add(a, b):",
            "new_text": "def add(a, b=0):",
        },
    }
    return Reply(tool_calls=[call], first_token_delay=delay)


def progress_of(client: LanguageClient, kind: type[T]) -> list[T]:
    """The client's $/progress values of one kind (begin, report, end), every token."""
    values: list[Any] = [v for vs in client.progress_reports.values() for v in vs]
    return [v for v in values if isinstance(v, kind)]


async def test_helix_30s_agent_run_applies_once_with_no_error(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path)
    # Two model turns of 15 s each: the run takes 30 s, longer than Helix waits.
    fake_glm.enqueue(edit_add(delay=15), Reply(text="Gave b a default.", first_token_delay=15))
    async with start_session(fake_glm, root, client_info=HELIX) as (client, editor):
        uri = editor.open("calc.py")
        started = time.monotonic()
        answer = await asyncio.wait_for(
            execute(client, "glm.agent", {"instruction": "default b to 0", "uri": uri}),
            HELIX_REQUEST_TIMEOUT,  # a TimeoutError here is Helix's "request timed out"
        )
        assert answer is None  # answered at once: the work goes on

        deadline = time.monotonic() + 90
        while not progress_of(client, types.WorkDoneProgressEnd) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert progress_of(client, types.WorkDoneProgressEnd), "the agent's progress never ended"
        assert time.monotonic() - started >= 30  # it really outlived the client's timeout
        await asyncio.sleep(1.0)  # a second edit would come right after the first

        assert len(editor.applied_edits) == 1
        assert editor.text(uri) == "def add(a, b=0):\n    return a + b\n"
        assert len(fake_glm.requests) == 2
        begins = progress_of(client, types.WorkDoneProgressBegin)
        assert len(begins) == 1 and begins[0].title.startswith("GLM agent: default b to 0")
        shown = messages_of(client)
        assert not any("failed" in m.lower() for m in shown), shown
        assert any("GLM agent changed 1 file(s)" in m for m in shown), shown


async def test_helix_refactor_is_cancelled_by_glm_cancel_and_applies_nothing(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path)
    fake_glm.enqueue(
        Reply(text="```python\ndef add(a, b):\n    return b + a\n```", first_token_delay=30)
    )
    async with start_session(fake_glm, root, client_info=HELIX) as (client, editor):
        uri = editor.open("calc.py")
        whole = types.Range(start=types.Position(0, 0), end=types.Position(1, 16))
        assert await execute(client, "glm.refactor", {"uri": uri, "range": whole}) is None
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 1, 10.0)

        result = await execute(client, "glm.cancel", {})

        assert result == {"cancelled": 1}
        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 5.0)
        await asyncio.sleep(1.0)
        assert editor.applied_edits == []
        assert editor.text(uri) == "def add(a, b):\n    return a + b\n"
        assert any("cancelled 1 running request" in m for m in messages_of(client))


async def test_a_client_that_waits_still_gets_the_result_as_the_answer(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path)
    fake_glm.enqueue(Reply(text="```python\ndef add(a, b):\n    return b + a\n```"))
    neovim = types.ClientInfo(name="Neovim", version="0.11.4")
    async with start_session(fake_glm, root, client_info=neovim) as (client, editor):
        uri = editor.open("calc.py")
        whole = types.Range(start=types.Position(0, 0), end=types.Position(1, 16))
        answer = await execute(client, "glm.refactor", {"uri": uri, "range": whole})
        assert answer == {"applied": True}
        assert editor.text(uri) == "def add(a, b):\n    return b + a\n"
        assert len(editor.applied_edits) == 1


async def test_command_reply_at_once_is_a_setting_for_any_client(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """eglot 1.9 sends no clientInfo: editors/emacs sets commandReply = "atOnce"."""
    root = make_workspace(tmp_path)
    fake_glm.enqueue(Reply(text="```python\ndef add(a, b):\n    return b + a\n```"))
    settings = {"glm": {"commandReply": "atOnce"}}
    async with start_session(fake_glm, root, init_options=settings) as (client, editor):
        uri = editor.open("calc.py")
        whole = types.Range(start=types.Position(0, 0), end=types.Position(1, 16))
        assert await execute(client, "glm.refactor", {"uri": uri, "range": whole}) is None
        deadline = time.monotonic() + 10
        while not editor.applied_edits and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert editor.text(uri) == "def add(a, b):\n    return b + a\n"
        assert len(editor.applied_edits) == 1


async def test_helix_refactor_is_cancelled_from_its_progress_and_applies_nothing(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path)
    fake_glm.enqueue(
        Reply(text="```python\ndef add(a, b):\n    return b + a\n```", first_token_delay=30)
    )
    async with start_session(fake_glm, root, client_info=HELIX) as (client, editor):
        uri = editor.open("calc.py")
        whole = types.Range(start=types.Position(0, 0), end=types.Position(1, 16))
        assert await execute(client, "glm.refactor", {"uri": uri, "range": whole}) is None
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 1, 10.0)
        token = await shown_progress(client)

        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))

        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 5.0)
        await asyncio.sleep(1.0)
        assert editor.applied_edits == []
        assert editor.text(uri) == "def add(a, b):\n    return a + b\n"
        assert progress_of(client, types.WorkDoneProgressEnd)[-1].message == "Cancelled"
