"""``glm.agent``: registration only. The run lives in :mod:`.run`, imported on first
use, so answering ``initialize`` never waits for the agent's modules to load."""

from __future__ import annotations

from typing import Any

from ...server import GlmLanguageServer

AGENT_COMMAND = "glm.agent"


def register(server: GlmLanguageServer) -> None:
    @server.command(AGENT_COMMAND)
    async def agent(ls: GlmLanguageServer, *args: Any) -> dict[str, Any] | None:
        from ..command_reply import reply
        from .run import run_agent_command

        return await reply(ls, lambda: run_agent_command(ls, args))
