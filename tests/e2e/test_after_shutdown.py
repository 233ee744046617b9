"""After ``shutdown``, every request gets an error answer (InvalidRequest), as the LSP spec
says, instead of no answer at all; ``exit`` still ends the server."""

from __future__ import annotations

from pathlib import Path

from tests.fake_glm import FakeGlm
from tests.robustness.raw_lsp import STATUS, raw_server

INVALID_REQUEST = -32600


async def test_requests_after_shutdown_get_an_error(fake_glm: FakeGlm, tmp_path: Path) -> None:
    async with raw_server(fake_glm, tmp_path) as lsp:
        await lsp.status()
        assert "result" in await lsp.request("shutdown")

        for method, params in (
            ("workspace/executeCommand", STATUS),
            (
                "textDocument/hover",
                {"textDocument": {"uri": "file:///a.py"}, "position": {"line": 0, "character": 0}},
            ),
            ("shutdown", None),
        ):
            answer = await lsp.request(method, params, timeout=10)
            assert answer.get("error", {}).get("code") == INVALID_REQUEST, (method, answer)
            assert "shutting down" in answer["error"]["message"]

        await lsp.notify("exit")
        assert await lsp.process.wait() == 0
