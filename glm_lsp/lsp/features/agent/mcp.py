"""The LSP front door's side of MCP: where definitions come from, how the user is asked.

Trusted: ``mcpServers`` in initializationOptions (the editor's own configuration).
Asked first: ``mcpServers`` from workspace/configuration (it carries a workspace's settings
file: ``.vscode/settings.json``, a project-local Neovim config), ``.mcp.json`` and
``.vscode/mcp.json`` in each workspace folder. The hub itself (``glm_lsp/mcp_client``) lives
as long as the server and starts its servers at the first agent run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ... import __version__
from ...config import unwrap_section
from ...server import GlmLanguageServer

if TYPE_CHECKING:
    from ...agent.loop import ProgressFn
    from ...mcp_client.definitions import ServerDefinition
    from ...mcp_client.hub import McpHub, McpRun

log = logging.getLogger(__name__)


class CannotAsk(Exception):
    """The client has no window/showMessageRequest (or it failed)."""


class LspAsker:
    """Asks through window/showMessageRequest."""

    def __init__(self, ls: GlmLanguageServer) -> None:
        self.ls = ls

    async def ask(self, question: str, actions: Sequence[str]) -> str | None:
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=question,
            actions=[types.MessageActionItem(title=title) for title in actions],
        )
        try:
            choice = await self.ls.window_show_message_request_async(params)
        except Exception as exc:
            raise CannotAsk(str(exc)) from exc
        return None if choice is None else choice.title


def definitions(ls: GlmLanguageServer, folders: Sequence[Path]) -> list[ServerDefinition]:
    """Every source, trusted first (a name defined twice keeps its trusted definition)."""
    from ...mcp_client.definitions import merge, parse_servers, read_workspace_files

    warnings: list[str] = []
    trusted, problems = parse_servers(
        unwrap_section(ls.initialization_options).get("mcpServers"),
        source="initializationOptions",
        trusted=True,
    )
    warnings += problems
    workspace_settings, problems = parse_servers(
        ls.settings.mcp_servers, source="workspace settings", trusted=False
    )
    warnings += problems
    files: list[ServerDefinition] = []
    for folder in folders:
        found, problems = read_workspace_files(folder)
        files += found
        warnings += problems
    for warning in warnings:
        ls.warn_once(f"mcp:{warning}", warning)
    return merge(trusted, workspace_settings, files)


def hub(ls: GlmLanguageServer) -> McpHub:
    if ls.mcp is None:
        from ...mcp_client.hub import McpHub

        ls.mcp = McpHub(ls.consent, ls.show_warning, client_version=__version__)
    return ls.mcp


async def mcp_tools_for_run(
    ls: GlmLanguageServer, folders: Sequence[Path], report: ProgressFn
) -> McpRun | None:
    """This run's MCP tools (None when no server is defined): the servers start now, the
    first time, in parallel; the workspace's ask first."""
    found = definitions(ls, folders)
    if not found and ls.mcp is None:
        return None
    servers = hub(ls)
    servers.set_definitions(found)
    if not servers.defined:
        return None
    asker = LspAsker(ls)
    if servers.has_new:
        report("starting MCP servers…")
    await servers.start(asker)
    run = servers.for_run(asker)
    return run if run.names() else None


def refresh_mcp(ls: GlmLanguageServer) -> None:
    """Settings changed: stop the servers whose definition changed or went."""
    from .run import workspace_folders

    if ls.mcp is not None:
        ls.mcp.set_definitions(definitions(ls, workspace_folders(ls, None)))


async def shutdown_mcp(ls: GlmLanguageServer) -> None:
    if ls.mcp is not None:
        await ls.mcp.shutdown()
        ls.mcp = None
