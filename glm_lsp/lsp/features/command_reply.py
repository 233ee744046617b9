"""When a GLM command's request is answered (setting ``commandReply``), and ``glm.cancel``.

Helix gives up on a request after 20 s, eglot and Emacs lsp-mode after about 10 s; GLM with
thinking often takes longer and an agent run minutes. Answering when done, those editors would
tell the user the request failed and then receive the edit anyway. So for them the command is
answered at once (``null``) and the work goes on as a background operation: progress where
the client shows it, cancellable with ``window/workDoneProgress/cancel`` or ``glm.cancel``, the
result applied exactly once through ``workspace/applyEdit`` — never a failure, then an edit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from glm_lsp.lsp.request_progress import REQUEST_WORK_DONE_TOKEN
from glm_lsp.lsp.server import GlmLanguageServer

log = logging.getLogger(__name__)
T = TypeVar("T")

CANCEL_COMMAND = "glm.cancel"
# clientInfo.name (lower case) of clients whose request timeout is shorter than GLM's answers.
SHORT_TIMEOUT_CLIENTS = frozenset({"helix", "eglot", "emacs"})

_running: set[asyncio.Task[Any]] = set()  # commands answered at once, still working


def answers_at_once(setting: str, client_name: str | None) -> bool:
    """``commandReply`` for this client: ``atOnce``, ``whenDone``, or ``auto`` by client."""
    if setting == "auto":
        return (client_name or "").lower() in SHORT_TIMEOUT_CLIENTS
    return setting == "atOnce"


async def reply(ls: GlmLanguageServer, work: Callable[[], Awaitable[T]]) -> T | None:
    """Run a command's ``work``: its result when done, or ``None`` at once while it goes on."""
    await ls.wait_configured()  # the setting may come from workspace/configuration
    if not answers_at_once(ls.settings.command_reply, ls.client_name):
        return await work()
    task = asyncio.ensure_future(_detached(work))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return None


async def _detached(work: Callable[[], Awaitable[T]]) -> T:
    # The request is answered: its workDoneToken is no longer ours to report on.
    REQUEST_WORK_DONE_TOKEN.set(None)
    return await work()


def cancel_running() -> int:
    """Cancel every command that was answered at once and still works; how many."""
    running = [task for task in _running if not task.done()]
    for task in running:
        task.cancel()
    return len(running)


def register(server: GlmLanguageServer) -> None:
    @server.command(CANCEL_COMMAND)
    async def cancel(ls: GlmLanguageServer, *args: Any) -> dict[str, int]:
        """``glm.cancel {}``: for clients without a cancel button (eglot, Helix)."""
        cancelled = cancel_running()
        log.info("glm.cancel: %d running", cancelled)
        ls.show_info(
            f"GLM: cancelled {cancelled} running request(s); nothing of theirs is applied."
            if cancelled
            else "GLM: nothing to cancel."
        )
        return {"cancelled": cancelled}
