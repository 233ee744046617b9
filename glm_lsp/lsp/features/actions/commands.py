"""``glm.explain``, ``glm.refactor``, ``glm.fix``, ``glm.generateTests``: registration only.
The work lives in :mod:`.run`, imported on first use, so answering ``initialize`` never
waits for it to load. Each command takes ONE object argument ``{uri, range, ...}``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from glm_lsp.lsp.features.actions.names import EXPLAIN, FIX, GENERATE_TESTS, REFACTOR
from glm_lsp.lsp.server import GlmLanguageServer


def register(server: GlmLanguageServer) -> None:
    for name in (EXPLAIN, REFACTOR, FIX, GENERATE_TESTS):
        server.command(name)(_lazy_handler(name))


def _lazy_handler(command: str) -> Callable[..., Awaitable[dict[str, Any] | None]]:
    async def handler(ls: GlmLanguageServer, *args: Any) -> dict[str, Any] | None:
        from glm_lsp.lsp.features.actions.run import run_action
        from glm_lsp.lsp.features.command_reply import reply

        return await reply(ls, lambda: run_action(ls, command, args))

    return handler
