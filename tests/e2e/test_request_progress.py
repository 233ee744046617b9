"""Progress on the token the client sent with the command (``workDoneToken``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import start_session, wait_until

CODE = "```python\ndef add(a, b):\n    return b + a\n```"
WHOLE = types.Range(start=types.Position(0, 0), end=types.Position(1, 16))


def refactor(client: LanguageClient, uri: str, token: str) -> Any:
    params = types.ExecuteCommandParams(
        command="glm.refactor",
        arguments=[{"uri": uri, "range": WHOLE}],
        work_done_token=token,
    )
    client.progress_reports.setdefault(token, [])  # the client made the token itself
    return client.workspace_execute_command_async(params)


def kinds(reports: list[Any]) -> list[str]:
    return [type(r).__name__.removeprefix("WorkDoneProgress") for r in reports]


async def test_progress_goes_to_the_requests_own_token(fake_glm: FakeGlm, tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    fake_glm.enqueue(Reply(text=CODE, first_token_delay=0.3, chunk_delay=0.05, chunk_size=4))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py")
        assert await refactor(client, uri, "client-token-1") == {"applied": True}
        assert list(client.progress_reports) == ["client-token-1"]  # no create round trip
        reports = client.progress_reports["client-token-1"]
        assert kinds(reports)[0] == "Begin" and kinds(reports)[-1] == "End"
        assert "Report" in kinds(reports)
        assert editor.text(uri) == "def add(a, b):\n    return b + a\n"


async def test_a_command_answered_at_once_does_not_report_on_the_answered_token(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """After the answer the request's token is spent: the server creates its own."""
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    fake_glm.enqueue(Reply(text=CODE, first_token_delay=0.3))
    settings = {"glm": {"commandReply": "atOnce"}}
    async with start_session(fake_glm, tmp_path, init_options=settings) as (client, editor):
        uri = editor.open("calc.py")
        assert await refactor(client, uri, "client-token-2") is None
        assert await wait_until(lambda: bool(editor.applied_edits))
        await asyncio.sleep(0.5)
        assert client.progress_reports["client-token-2"] == []
        (own,) = [t for t in client.progress_reports if t != "client-token-2"]
        assert kinds(client.progress_reports[own])[-1] == "End"
