"""Long work as one cancellable operation with work-done progress.

``run_operation`` is what command handlers call: it reports on the request's ``workDoneToken``
when the client sent one, else creates a fresh token (pygls never releases tokens), links both
ways of cancelling — ``$/cancelRequest`` of the command and
``window/workDoneProgress/cancel`` — to the running task, and turns every failure into one
message. A cancelled or failed operation returns ``None``: callers apply nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager
from typing import TYPE_CHECKING, TypeVar

from lsprotocol import types

from glm_lsp.glm.errors import GlmError
from glm_lsp.glm.events import ChatResult, ReasoningDelta, Restart, TextDelta, ToolCall, Waiting
from glm_lsp.glm.quota import describe
from glm_lsp.glm.usage import is_coding_plan, progress_note
from glm_lsp.lsp.request_progress import REQUEST_WORK_DONE_TOKEN
from glm_lsp.lsp.server import GlmLanguageServer

if TYPE_CHECKING:
    from glm_lsp.glm.models import ChatRequest

log = logging.getLogger(__name__)
T = TypeVar("T")

REPORT_INTERVAL = 0.2  # seconds between progress reports while streaming
# Clients known to show $/progress on a token they have not yet answered create for.
PROGRESS_BEFORE_CREATE_ANSWER = frozenset({"Neovim"})
MAX_EARLY_REPORTS = 50


class Operation:
    def __init__(
        self, server: GlmLanguageServer, title: str, token: types.ProgressToken | None
    ) -> None:
        self.server = server
        self.title = title
        self.token = token
        self.tokens_used = 0
        self.cached_tokens = 0  # prompt-cache hits among them (billed lower)
        self.started = time.monotonic()
        self._last_report = 0.0
        self.ended = False
        self._early: list[types.WorkDoneProgressReport] = []  # reported before the token

    def report(self, message: str, *, percentage: int | None = None, force: bool = True) -> None:
        now = time.monotonic()
        if not force and now - self._last_report < REPORT_INTERVAL:
            return
        self._last_report = now
        value = types.WorkDoneProgressReport(
            message=message, percentage=percentage, cancellable=True
        )
        if self.token is None:
            if not self.ended and len(self._early) < MAX_EARLY_REPORTS:
                self._early.append(value)  # sent once the client has granted the token
            return
        self.server.work_done_progress.report(self.token, value)

    def begin(self, token: types.ProgressToken) -> None:
        self.token = token
        self.server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(title=self.title, cancellable=True, message="starting…"),
        )
        for value in self._early:
            self.server.work_done_progress.report(token, value)
        self._early.clear()

    def end(self, message: str) -> None:
        self.ended = True
        if self.token is None:
            return
        self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.server.work_done_progress.tokens.pop(self.token, None)
        self.token = None


@asynccontextmanager
async def operation(
    server: GlmLanguageServer, title: str, *, quota: bool = False
) -> AsyncIterator[Operation]:
    """Progress + cancellation around a block; CancelledError propagates out of it.
    ``quota``: on the Coding Plan, the end of the progress also shows the plan's limits."""
    task = asyncio.current_task()
    assert task is not None
    untrack = server.track_request_task(server.protocol.msg_id, task)
    await server.wait_configured()
    try:
        await server.confirm_key_destination()  # a host from settings: ask before any request
    except BaseException:
        untrack()
        raise
    op = Operation(server, title, None)
    # The progress token is asked for alongside the work, not before it: the client's
    # answer would otherwise delay every upstream request by a round trip.
    server.spawn(_open_progress(server, op, task))
    try:
        yield op
    except asyncio.CancelledError:
        op.end("Cancelled")
        raise
    except BaseException:
        op.end("Failed")
        raise
    else:
        plan = is_coding_plan(server.settings.effective_base_url())
        note = progress_note(op.tokens_used, op.cached_tokens, coding_plan=plan)
        if quota and plan:
            note += "; " + await _quota_now(server)
        op.end(f"Done ({note})" if note else "Done")
    finally:
        untrack()


async def run_operation(
    server: GlmLanguageServer,
    title: str,
    work: Callable[[Operation], Awaitable[T]],
    *,
    feature: str,
) -> T | None:
    """Run ``work`` as an operation; cancelled or failed → ``None`` after one message."""
    try:
        # A long agent run is where a Coding Plan user runs out: its end shows the quota.
        async with operation(server, title, quota=feature == "agent") as op:
            return await work(op)
    except asyncio.CancelledError:
        log.info("%s cancelled", title)
        task = asyncio.current_task()
        if task is not None and hasattr(task, "uncancel"):
            task.uncancel()
        return None
    except Exception as exc:
        server.report_error(exc, feature=feature)
        return None


QUOTA_WAIT = 3.0  # seconds the end of a run waits for the quota; later it says "unknown"


async def _quota_now(server: GlmLanguageServer) -> str:
    """The plan's limits in words (at most one fetch a minute), or "quota unknown"."""
    try:
        limits = await asyncio.wait_for(server.glm_client().quota(), QUOTA_WAIT)
    except (GlmError, asyncio.TimeoutError):
        limits = None
    return describe(limits)


async def _open_progress(
    server: GlmLanguageServer, op: Operation, task: asyncio.Task[object]
) -> None:
    """Begin progress on the request's own token, else on a fresh one (pygls never releases a
    token) once the client has created it, unless the work is over by then."""
    token = REQUEST_WORK_DONE_TOKEN.get()
    if token is not None:  # the client's own token: no create round trip
        _begin(server, op, token, task)
        return
    if not server.supports("window", "work_done_progress"):
        return
    token = str(uuid.uuid4())
    if server.client_name in PROGRESS_BEFORE_CREATE_ANSWER:
        # Neovim handles $/progress at once but answers create only once its prompt is gone
        # (code action menu in visual mode): waiting would show nothing until the edit.
        server.protocol.send_request(
            types.WINDOW_WORK_DONE_PROGRESS_CREATE, types.WorkDoneProgressCreateParams(token=token)
        )
        _begin(server, op, token, task)
        return
    try:
        await server.work_done_progress.create_async(token)
    except Exception as exc:
        log.debug("client refused a progress token: %s", exc)
        return
    _begin(server, op, token, task)


def _begin(
    server: GlmLanguageServer, op: Operation, token: types.ProgressToken, task: asyncio.Task[object]
) -> None:
    """Begin on ``token`` and let ``window/workDoneProgress/cancel`` of it cancel ``task``."""
    if op.ended:  # finished before the token was ready: nothing to show
        server.work_done_progress.tokens.pop(token, None)
        return
    op.begin(token)
    cancelled = server.work_done_progress.tokens.get(token)
    if cancelled is not None:
        loop = asyncio.get_running_loop()
        cancelled.add_done_callback(
            lambda f: loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None
        )


async def stream_to_result(
    server: GlmLanguageServer,
    op: Operation,
    request: ChatRequest,
    *,
    feature: str,
    on_text: Callable[[str], None] | None = None,
) -> ChatResult:
    """Consume one streamed reply, reporting "thinking…" and tokens so far, and the wait
    while nothing arrives (a slow first token, a backoff before a retry)."""
    result = ChatResult()
    deltas = 0
    # restartable: nothing is applied before the reply is whole, so a `network_error`
    # mid-reply may send the request again.
    stream = server.glm_client().stream_chat(request, feature=feature, restartable=True)
    async with aclosing(stream) as events:
        async for event in events:
            result.add(event)
            if isinstance(event, Waiting):
                op.report(event.message)
            elif isinstance(event, Restart):
                deltas = 0
            elif isinstance(event, ReasoningDelta) and not result.text:
                op.report("thinking…", force=False)
            elif isinstance(event, TextDelta):
                deltas += 1
                if on_text is not None:
                    on_text(result.text)
                op.report(f"{deltas} token" if deltas == 1 else f"{deltas} tokens", force=False)
            elif isinstance(event, ToolCall):
                op.report(f"calling {event.name}", force=False)
    if result.usage is not None:
        op.tokens_used += result.usage.total_tokens
        op.cached_tokens += result.usage.cached_tokens
    return result
