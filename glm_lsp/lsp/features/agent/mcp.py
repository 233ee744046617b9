"""The LSP front door's side of MCP: where definitions come from.

Trusted: ``mcpServers`` in the user's ``settings.json`` (their config directory) and in
initializationOptions (the editor's own configuration). Asked first: ``mcpServers`` from
workspace/configuration (it carries a workspace's settings file: ``.vscode/settings.json``,
a project-local Neovim config), ``.mcp.json`` and ``.vscode/mcp.json`` in each workspace
folder. The hub itself (``glm_lsp/mcp_client``) lives as long as the server and starts its
servers at the first agent run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from glm_lsp import __version__
from glm_lsp.config import read_user_settings, unwrap_section
from glm_lsp.lsp.server import GlmLanguageServer

if TYPE_CHECKING:
    from glm_lsp.agent.loop import ProgressFn
    from glm_lsp.mcp_client.definitions import ServerDefinition
    from glm_lsp.mcp_client.hub import McpHub, McpRun

log = logging.getLogger(__name__)


def definitions(ls: GlmLanguageServer, folders: Sequence[Path]) -> list[ServerDefinition]:
    """Every source, trusted first (a name defined twice keeps its trusted definition)."""
    from glm_lsp.mcp_client.definitions import merge, parse_servers, read_workspace_files

    warnings: list[str] = []
    user_file, _ = read_user_settings()  # its own warnings were shown with the settings
    from_file, problems = parse_servers(
        user_file.get("mcpServers"), source="settings.json", trusted=True
    )
    warnings += problems
    from_editor, problems = parse_servers(
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
    return merge(from_editor, from_file, workspace_settings, files)


def hub(ls: GlmLanguageServer) -> McpHub:
    if ls.mcp is None:
        from glm_lsp.mcp_client.hub import McpHub

        ls.mcp = McpHub(ls.consent, ls.show_warning, client_version=__version__)
    return ls.mcp


async def mcp_tools_for_run(
    ls: GlmLanguageServer, folders: Sequence[Path], report: ProgressFn
) -> McpRun | None:
    """This run's MCP tools; None when no server is defined (and none ever was)."""
    found = definitions(ls, folders)
    if not found and ls.mcp is None:
        return None
    return await hub(ls).prepare_run(found, ls.asker, report)


def refresh_mcp(ls: GlmLanguageServer, folders: Sequence[Path]) -> None:
    """Settings changed: stop the servers whose definition changed or went."""
    if ls.mcp is not None:
        ls.mcp.set_definitions(definitions(ls, folders))


async def shutdown_mcp(ls: GlmLanguageServer) -> None:
    if ls.mcp is not None:
        await ls.mcp.shutdown()
        ls.mcp = None
