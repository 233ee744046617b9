"""One live MCP server: its process, the stdio pipes as the ``mcp`` package's streams, and
a :class:`mcp.ClientSession` over them.

The session lives in a task of its own (anyio's scopes must be left in the task that entered
them); calls from the agent's tasks go through it. A line on stdout that is not a JSON-RPC
message is skipped and reported once through ``on_junk``; the server keeps running. When the
server's stdout ends (it exited or was killed) every pending call fails with the mcp
package's "Connection closed" and ``alive`` turns False.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import mcp_types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import ClientSession
from mcp.shared.message import SessionMessage

from .definitions import ServerDefinition
from .process import ServerProcess, spawn

log = logging.getLogger(__name__)

MAX_TOOLS_PER_SERVER = 256
MAX_TOOL_PAGES = 16


class StartFailed(Exception):
    """The server did not come up; the message says why, for the user."""


class McpConnection:
    def __init__(
        self,
        definition: ServerDefinition,
        program: str,
        env: Mapping[str, str],
        *,
        on_junk: Callable[[str], None],
        client_version: str,
    ) -> None:
        self.definition = definition
        self.program = program
        self.env = dict(env)
        self.on_junk = on_junk
        self.client_version = client_version
        self.process: ServerProcess | None = None
        self.session: ClientSession | None = None
        self.tools: list[mcp_types.Tool] = []
        self._ended = asyncio.Event()
        self._owner: asyncio.Future[None] | None = None

    @property
    def alive(self) -> bool:
        return self.session is not None and not self._ended.is_set()

    def exit_note(self) -> str:
        """Why it ended, in a few words: its exit status and its last stderr line."""
        if self.process is None:
            return "it did not start"
        parts = [self.process.server_exit or "its output ended"]
        last = self.process.last_error_line()
        if last:
            parts.append(f"last said {last!r}")
        return ", ".join(parts)

    async def ended(self) -> None:
        """Wait (briefly) until the process is gone and its stderr read to the end."""
        if self.process is not None:
            await self.process.ended(2.0)

    async def start(self) -> list[mcp_types.Tool]:
        """Spawn, initialize and list the tools within the definition's startup timeout."""
        started: asyncio.Future[list[mcp_types.Tool]] = asyncio.get_running_loop().create_future()
        self._owner = asyncio.ensure_future(self._own(started))
        try:
            return await asyncio.wait_for(asyncio.shield(started), self.definition.startup_timeout)
        except asyncio.TimeoutError:
            await self.close()
            raise StartFailed(
                f"it did not answer within {self.definition.startup_timeout:g} s (startupTimeout)"
            ) from None
        except StartFailed:
            await self.close()
            raise
        except BaseException:
            await self.close()
            raise

    async def call(
        self, tool: str, arguments: dict[str, Any], timeout: float
    ) -> mcp_types.CallToolResult:
        if self.session is None or self._ended.is_set():
            raise ConnectionError("the server is not running")
        result = await self.session.call_tool(tool, arguments, read_timeout_seconds=timeout)
        assert isinstance(result, mcp_types.CallToolResult)
        return result

    async def close(self) -> None:
        """Kill the process group and let the session task end."""
        if self.process is not None:
            self.process.kill()
        self._ended.set()
        owner = self._owner
        if owner is not None and not owner.done():
            try:
                await asyncio.wait_for(asyncio.shield(owner), 5.0)
            except (asyncio.TimeoutError, Exception):
                owner.cancel()
        if self.process is not None:
            await self.process.stop()

    async def _own(self, started: asyncio.Future[list[mcp_types.Tool]]) -> None:
        """The session's whole life: up, tools listed, then wait for the end."""
        try:
            if self.definition.url:
                await self._own_http(started)
            else:
                await self._own_stdio(started)
        except BaseException as exc:
            if not started.done():
                started.set_exception(self._start_problem(exc))
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._ended.set()
            self.session = None
            if not started.done():
                started.set_exception(StartFailed(self.exit_note()))

    async def _own_stdio(self, started: asyncio.Future[list[mcp_types.Tool]]) -> None:
        self.process = await spawn(
            self.definition.name,
            self.program,
            self.definition.args,
            self.env,
            self.definition.cwd,
        )
        to_session, session_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        session_writes, from_session = anyio.create_memory_object_stream[SessionMessage](0)
        pumps = [
            asyncio.ensure_future(self._read_stdout(self.process, to_session)),
            asyncio.ensure_future(self._write_stdin(self.process, from_session)),
        ]
        try:
            await self._run_session(session_reads, session_writes, started)
        finally:
            # A server that ended by itself: let the watchdog say how, then clear the group.
            await self.process.ended(1.0)
            self.process.kill()
            for pump in pumps:
                pump.cancel()
            for pump in pumps:
                with contextlib.suppress(BaseException):
                    await pump

    async def _own_http(self, started: asyncio.Future[list[mcp_types.Tool]]) -> None:
        import httpx2  # the mcp package's HTTP client; only streamable-HTTP servers need it
        from mcp.client.streamable_http import streamable_http_client

        assert self.definition.url is not None
        async with (
            httpx2.AsyncClient(headers=dict(self.definition.headers)) as http,
            streamable_http_client(self.definition.url, http_client=http) as (reads, writes),
        ):
            await self._run_session(reads, writes, started)

    async def _run_session(
        self, reads: Any, writes: Any, started: asyncio.Future[list[mcp_types.Tool]]
    ) -> None:
        info = mcp_types.Implementation(name="glm-lsp", version=self.client_version)
        async with ClientSession(reads, writes, client_info=info) as session:
            await session.initialize()
            self.tools = await _list_tools(session)
            self.session = session
            if not started.done():
                started.set_result(self.tools)
            await self._ended.wait()

    async def _read_stdout(
        self, process: ServerProcess, out: MemoryObjectSendStream[SessionMessage | Exception]
    ) -> None:
        stdout = process.stdout
        try:
            async with out:
                while True:
                    try:
                        line = await stdout.readuntil(b"\n")
                    except asyncio.IncompleteReadError as exc:
                        line = exc.partial  # the last line had no newline; b"" at the end
                        if not line:
                            return
                    except asyncio.LimitOverrunError as exc:
                        await stdout.readexactly(exc.consumed)
                        self.on_junk("a line of more than 16 MB")
                        continue
                    if not line.strip():
                        continue
                    try:
                        message = mcp_types.jsonrpc_message_adapter.validate_json(
                            line, by_name=False
                        )
                    except ValueError:
                        self.on_junk(line.decode("utf-8", errors="replace").strip()[:120])
                        continue
                    await out.send(SessionMessage(message))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, ConnectionError):
            pass
        finally:
            self._ended.set()

    async def _write_stdin(
        self, process: ServerProcess, incoming: MemoryObjectReceiveStream[SessionMessage]
    ) -> None:
        try:
            async with incoming:
                async for message in incoming:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    process.stdin.write(data.encode("utf-8") + b"\n")
                    await process.stdin.drain()
        except (ConnectionError, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._ended.set()  # the server stopped reading: it is gone or going

    def _start_problem(self, exc: BaseException) -> BaseException:
        if isinstance(exc, asyncio.CancelledError):
            return StartFailed("its start was cancelled")
        if isinstance(exc, OSError):
            return StartFailed(f"it could not be started ({exc.strerror or exc})")
        note = self.exit_note()
        text = str(exc).strip() or type(exc).__name__
        return StartFailed(f"{text} ({note})" if self.process is not None else text)


async def _list_tools(session: ClientSession) -> list[mcp_types.Tool]:
    """Every page of tools/list, bounded in pages and tools."""
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    for _ in range(MAX_TOOL_PAGES):
        params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor or len(tools) >= MAX_TOOLS_PER_SERVER:
            break
    return tools[:MAX_TOOLS_PER_SERVER]
