"""The LSP side of the trust port: a question is a ``window/showMessageRequest``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types

from glm_lsp.trust.asker import AskUnsupported

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)


class LspAsker:
    def __init__(self, server: LanguageServer) -> None:
        self._server = server

    async def ask(self, question: str, actions: Sequence[str]) -> str | None:
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=question,
            actions=[types.MessageActionItem(title=title) for title in actions],
        )
        try:
            choice = await self._server.window_show_message_request_async(params)
        except Exception as exc:  # method not found, or the client failed: no way to ask
            raise AskUnsupported(f"window/showMessageRequest failed: {exc}") from exc
        return None if choice is None else choice.title
