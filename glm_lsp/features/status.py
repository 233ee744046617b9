"""``glm.status {}``: usage so far by feature and the quota multiplier now."""

from __future__ import annotations

from typing import Any

from ..server import GlmLanguageServer

STATUS_COMMAND = "glm.status"


def register(server: GlmLanguageServer) -> None:
    @server.command(STATUS_COMMAND)
    async def status(ls: GlmLanguageServer, *args: Any) -> dict[str, object]:
        await ls.wait_configured()
        ls.show_info(ls.ledger.summary())
        snapshot = ls.ledger.snapshot()
        snapshot["model"] = ls.settings.model
        snapshot["hasKey"] = ls.has_key()
        return snapshot
