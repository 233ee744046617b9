"""A raw stdio connection to the real ``glm-lsp`` process: bytes in, JSON-RPC frames out.

pytest-lsp only sends well-formed messages; the bad-input tests need to write broken frames
(wrong Content-Length, invalid JSON, non-UTF-8 bytes) straight to the server's stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.fake_glm import FakeGlm
from tests.lsp_harness import server_env

STATUS = {"command": "glm.status", "arguments": [{}]}


def frame(body: bytes, *, length: int | None = None) -> bytes:
    """One LSP frame; ``length`` lies about the body's size when given."""
    size = len(body) if length is None else length
    return f"Content-Length: {size}\r\n\r\n".encode() + body


def encode(message: dict[str, Any]) -> bytes:
    return frame(json.dumps(message).encode())


class RawLsp:
    """Writes bytes, reads frames; answers the server's own requests with null."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.configuration: Any = None  # the answer to workspace/configuration's one item
        self.stdout_bytes = bytearray()  # everything the server wrote, for scans
        self.stderr_bytes = bytearray()
        self._next_id = 1000
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read_frames())
        self._stderr_reader = asyncio.create_task(self._read_stderr())

    # -- writing -----------------------------------------------------------------------------
    async def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        await self.process.stdin.drain()

    async def send(self, message: dict[str, Any]) -> None:
        await self.write(encode(message))

    async def notify(self, method: str, params: Any = None) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, "params": params})

    async def request(self, method: str, params: Any = None, timeout: float = 10.0) -> dict:
        """Send a request and wait for its response (result or error)."""
        self._next_id += 1
        msg_id = self._next_id
        await self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return await self.response(msg_id, timeout)

    async def response(self, msg_id: Any, timeout: float = 10.0) -> dict[str, Any]:
        async def arrived() -> dict[str, Any]:
            while msg_id not in self.responses:
                self._arrived.clear()
                await self._arrived.wait()
            return self.responses[msg_id]

        return await asyncio.wait_for(arrived(), timeout)

    async def status(self, timeout: float = 10.0) -> dict[str, Any]:
        """glm.status answers: the proof the server is still up and reading frames."""
        answer = await self.request("workspace/executeCommand", STATUS, timeout)
        assert "result" in answer, answer
        return dict(answer["result"])

    def shown_messages(self) -> list[str]:
        return [
            str(n["params"]["message"])
            for n in self.notifications
            if n.get("method") == "window/showMessage"
        ]

    # -- reading -----------------------------------------------------------------------------
    async def _read_frames(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = 0
            while True:
                line = await stdout.readline()
                self.stdout_bytes += line
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                elif line in (b"\r\n", b"\n"):
                    break
            data = await stdout.readexactly(length)
            self.stdout_bytes += data
            message = json.loads(data)
            await self._dispatch(message)
            self._arrived.set()

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(65536):
            self.stderr_bytes += chunk

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:  # a request from the server
            self.server_requests.append(message)
            result: Any = None
            if message["method"] == "workspace/configuration":
                result = [self.configuration for _ in message["params"]["items"]]
            elif message["method"] == "workspace/applyEdit":
                result = {"applied": False, "failureReason": "raw test client"}
            await self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        elif "method" in message:
            self.notifications.append(message)
        else:
            self.responses[message.get("id")] = message

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.request("shutdown"), 5)
            await self.notify("exit")
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()
        for task in (self._reader, self._stderr_reader):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2)


@asynccontextmanager
async def raw_server(
    fake: FakeGlm | None,
    workspace: Path,
    *,
    init_options: Any = None,
    args: list[str] | None = None,
    capabilities: dict[str, Any] | None = None,
    configuration: Any = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[RawLsp]:
    """The real server over raw stdio, initialized (plain capabilities unless given)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "glm_lsp",
        *(args or []),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=server_env(fake, **(env or {})),
        limit=64 * 1024 * 1024,
    )
    lsp = RawLsp(process)
    lsp.configuration = configuration
    try:
        params = {
            "processId": None,
            "rootUri": workspace.as_uri(),
            "workspaceFolders": [{"uri": workspace.as_uri(), "name": workspace.name}],
            "capabilities": capabilities or {},
            "initializationOptions": init_options,
        }
        answer = await lsp.request("initialize", params, timeout=20)
        assert "result" in answer, answer
        await lsp.notify("initialized", {})
        yield lsp
    finally:
        await lsp.close()
