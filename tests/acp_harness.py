"""Driving ``glm-lsp --acp`` with the ACP SDK's own client side: ``spawn_agent_process`` and a
client that records every update, permission request and file-system call, as an editor
(Zed, JetBrains) would see them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from acp import PROTOCOL_VERSION, RequestError, spawn_agent_process, text_block
from acp.schema import (
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    PermissionOption,
    ReadTextFileResponse,
    RequestPermissionResponse,
    ToolCallUpdate,
    WriteTextFileResponse,
)

from tests.fake_glm import FakeGlm
from tests.lsp_harness import server_env

Answer = Literal["allow", "reject", "never", "cancelled"]


@dataclass
class Permission:
    title: str
    options: list[PermissionOption]
    tool_call: ToolCallUpdate


@dataclass
class RecordingClient:
    """The editor's side: answers permissions as told, serves buffers, records writes."""

    answer: Answer = "allow"
    buffers: dict[str, str] = field(default_factory=dict)  # path -> unsaved text
    refuse_writes: set[str] = field(default_factory=set)  # paths whose write fails
    updates: list[Any] = field(default_factory=list)
    permissions: list[Permission] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    asked: asyncio.Event = field(default_factory=asyncio.Event)
    answers: list[str] = field(default_factory=list)  # per question, before `answer`

    async def request_permission(
        self, session_id: str, tool_call: ToolCallUpdate, options: list[PermissionOption], **_: Any
    ) -> RequestPermissionResponse:
        self.permissions.append(Permission(tool_call.title or "", options, tool_call))
        self.asked.set()
        answer = self.answers.pop(0) if self.answers else self.answer
        if answer == "never":
            await asyncio.Event().wait()  # a client that never answers
        if answer == "cancelled":
            return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
        wanted = ("allow_once", "allow_always") if answer == "allow" else ("reject_once",)
        chosen = next(o for o in options if o.kind in wanted)
        return RequestPermissionResponse(
            outcome=AllowedOutcome(outcome="selected", option_id=chosen.option_id)
        )

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        self.updates.append(update)

    async def write_text_file(
        self, session_id: str, path: str, content: str, **_: Any
    ) -> WriteTextFileResponse | None:
        if path in self.refuse_writes:
            raise RequestError.internal_error({"details": "the file is read-only here"})
        self.writes.append((path, content))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content, encoding="utf-8")
        return WriteTextFileResponse()

    async def read_text_file(
        self,
        session_id: str,
        path: str,
        line: int | None = None,
        limit: int | None = None,
        **_: Any,
    ) -> ReadTextFileResponse:
        self.reads.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        try:
            return ReadTextFileResponse(content=Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise RequestError.resource_not_found(path) from exc

    def on_connect(self, conn: Any) -> None:
        pass

    # -- what the user saw ---------------------------------------------------------------------
    def kinds(self) -> list[str]:
        return [getattr(u, "session_update", "") for u in self.updates]

    def message_text(self) -> str:
        return "".join(
            u.content.text
            for u in self.updates
            if getattr(u, "session_update", "") == "agent_message_chunk"
        )

    def thought_text(self) -> str:
        return "".join(
            u.content.text
            for u in self.updates
            if getattr(u, "session_update", "") == "agent_thought_chunk"
        )

    def tool_calls(self, kind: str | None = None) -> list[Any]:
        return [
            u
            for u in self.updates
            if getattr(u, "session_update", "") == "tool_call" and (kind is None or u.kind == kind)
        ]

    def everything_received(self) -> str:
        """Every update, permission and message as text (for "no key in anything")."""
        parts = [u.model_dump_json() for u in self.updates]
        parts += [p.tool_call.model_dump_json() for p in self.permissions]
        return "\n".join(parts)


@dataclass
class AcpSession:
    conn: Any
    client: RecordingClient
    session_id: str
    process: Any

    async def prompt(self, text: str, timeout: float = 60) -> Any:
        return await asyncio.wait_for(
            self.conn.prompt(session_id=self.session_id, prompt=[text_block(text)]), timeout
        )


@asynccontextmanager
async def start_acp(
    fake: FakeGlm | None,
    workspace: Path,
    client: RecordingClient | None = None,
    *,
    read: bool = True,
    write: bool = True,
    extra_env: dict[str, str] | None = None,
    key: str | None = None,
    mcp_servers: list[Any] | None = None,
) -> AsyncIterator[AcpSession]:
    """The real ``glm-lsp --acp`` process, initialized, with one session in ``workspace``."""
    client = client or RecordingClient()
    env = server_env(fake, **({"key": key} if key is not None else {}), **(extra_env or {}))
    async with spawn_agent_process(client, sys.executable, "-m", "glm_lsp", "--acp", env=env) as (
        conn,
        process,
    ):
        try:
            await asyncio.wait_for(
                conn.initialize(
                    protocol_version=PROTOCOL_VERSION,
                    client_capabilities=ClientCapabilities(
                        fs=FileSystemCapabilities(read_text_file=read, write_text_file=write)
                    ),
                ),
                60,
            )
            new = await asyncio.wait_for(
                conn.new_session(cwd=str(workspace), mcp_servers=mcp_servers or []), 60
            )
            yield AcpSession(conn, client, new.session_id, process)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()
