"""Bad LSP input against the real server over raw stdio: every case is answered with an
error or with nothing, and the server stays up (glm.status answers right after it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.fake_glm import FakeGlm, Reply
from tests.robustness.bad_input_cases import CASES, OPEN_TEXT, OPEN_URI, BadInput
from tests.robustness.raw_lsp import RawLsp, raw_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUIET = 0.3  # seconds a case's request gets before "nothing" counts as its answer


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGlm]:
    with FakeGlm() as fake:
        fake.default_reply = Reply(text="")  # actions then apply nothing: no applyEdit
        yield fake


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lsp(fake: FakeGlm, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RawLsp]:
    workspace = tmp_path_factory.mktemp("bad_input")
    async with raw_server(fake, workspace, init_options={"maxRetries": 0}) as lsp:
        await lsp.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": OPEN_URI,
                    "languageId": "python",
                    "version": 1,
                    "text": OPEN_TEXT,
                }
            },
        )
        yield lsp


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_input_is_answered_and_the_server_stays_up(lsp: RawLsp, case: BadInput) -> None:
    await lsp.write(case.data)
    if case.request_id is not None:
        try:
            answer = await lsp.response(
                case.request_id, timeout=QUIET if case.expect == "nothing" else 10
            )
        except asyncio.TimeoutError:
            answer = None
        got = "nothing" if answer is None else ("error" if "error" in answer else "result")
        assert got == case.expect, answer
    status = await lsp.status(timeout=10)
    assert status["hasKey"] is True
    assert lsp.process.returncode is None


async def test_the_document_survives_the_bad_edits(lsp: RawLsp, fake: FakeGlm) -> None:
    """After the cases above, the server's copy of the open document is still exactly what
    an editor holds (the odd edits clamped and normalised the way LSP says)."""
    fake.requests.clear()
    answer = await lsp.request(
        "workspace/executeCommand",
        {"command": "glm.refactor", "arguments": [{"uri": OPEN_URI, "range": span(0, 0, 99, 0)}]},
    )
    assert "result" in answer
    assert fake.requests, "the refactor never reached GLM"
    # The unpaired surrogate reaches GLM as "?"; the reversed range deleted the indentation.
    expected = "?def add(a, b):\nreturn a + b\n\n\x0cclass Café:\n    pass\n# appended\n"
    assert expected in fake.requests[-1].text()


async def test_five_megabyte_file_with_a_thousand_incremental_edits(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """Typing in a 5 MB file: every keystroke lands where the editor put it, and the server
    keeps up (pygls' own documents need ~30 ms per keystroke here; 1,000 would take 30 s)."""
    line = "value = 1  # " + "padding " * 5 + "\n"
    count = 5_000_000 // len(line)
    step = count // 1000
    editor = [line] * count
    uri = (tmp_path / "big.py").as_uri()
    fake_glm.default_reply = Reply(text="")
    async with raw_server(fake_glm, tmp_path, init_options={"maxRetries": 0}) as lsp:
        opened = {"uri": uri, "languageId": "python", "version": 1, "text": "".join(editor)}
        await lsp.notify("textDocument/didOpen", {"textDocument": opened})
        started = time.monotonic()
        for index in range(1000):
            version, target = index + 2, index * step
            editor[target] = editor[target].replace("value", f"v{version}", 1)
            change = {"range": span(target, 0, target, 5), "text": f"v{version}"}
            await lsp.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
            )
        await lsp.status(timeout=30)
        elapsed = time.monotonic() - started
        first, last = 500 * step - 1, 503 * step + 1  # three edited lines and their neighbours
        argument = {"uri": uri, "range": span(first, 0, last, 0)}
        answer = await lsp.request(
            "workspace/executeCommand", {"command": "glm.refactor", "arguments": [argument]}
        )
        assert "result" in answer
    assert elapsed < 10, f"1,000 keystrokes took {elapsed:.1f} s"
    selection = "".join(editor[first:last])
    assert all(f"v{500 + k + 2} = 1" in selection for k in range(3))
    assert selection in fake_glm.requests[-1].text()


def span(line: int, character: int, end_line: int, end_character: int) -> dict[str, Any]:
    return {
        "start": {"line": line, "character": character},
        "end": {"line": end_line, "character": end_character},
    }
