"""The port through which trust code asks the user a question.

Each front door implements it: the LSP server with ``window/showMessageRequest``, the ACP agent
with ``session/request_permission``. Trust code never imports a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class AskUnsupported(Exception):
    """The client cannot ask the user (no such request, or it failed)."""


class Asker(Protocol):
    async def ask(self, question: str, actions: Sequence[str]) -> str | None:
        """The title of the action the user chose; None when they dismissed the question.
        Raises ``AskUnsupported`` when nobody can be asked."""
        ...
