"""``glm.agent``: registration only. The run lives in :mod:`.run`, imported on first
use, so answering ``initialize`` never waits for the agent's modules to load."""

from __future__ import annotations

from typing import Any

from glm_lsp.lsp.server import GlmLanguageServer

AGENT_COMMAND = "glm.agent"


def register(server: GlmLanguageServer) -> None:
    @server.command(AGENT_COMMAND)
    async def agent(ls: GlmLanguageServer, *args: Any) -> dict[str, Any] | None:
        from glm_lsp.lsp.features.agent.run import run_agent_command
        from glm_lsp.lsp.features.command_reply import reply

        return await reply(ls, lambda: run_agent_command(ls, args))
