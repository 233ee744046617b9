"""The ``workDoneToken`` the client sent with the request being handled, if any.

``server.py`` sets it for every ``workspace/executeCommand``; ``features/operation.py`` reports
progress on it at once instead of creating a token of its own, so progress never waits for the
client to answer ``window/workDoneProgress/create`` (Neovim answers late while a prompt is up).
"""

from __future__ import annotations

from contextvars import ContextVar

from lsprotocol import types

REQUEST_WORK_DONE_TOKEN: ContextVar[types.ProgressToken | None] = ContextVar(
    "request_work_done_token", default=None
)
