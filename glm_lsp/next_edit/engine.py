"""One next-edit request from the cursor to a suggestion, with GLM's latency and cost
hidden where it can be:

- automatic requests wait ``nextEdit.debounceMs`` first; a newer request for the same
  document cancels the older one's upstream call (so a burst of keys costs one call);
- the rewrite is read only until the rest is known to be unchanged, then the stream closes;
- a result for a document whose version moved meanwhile is dropped;
- every way to fail (no key, upstream error, a reply that is prose, too long, cut off) is
  "no suggestion" with a reason for the log, never an error in the editor.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..glm.errors import GlmError, GlmNoKeyError
from ..glm.events import Finish, TextDelta
from ..glm.host import GlmHost
from .history import EditHistory
from .prompt import Diagnostic, NextEditPrompt, next_edit_messages
from .rewrite import Reading, RewriteReader
from .suggestion import NextEdit, rejection, smallest_span, to_edit
from .window import Window, window_around

if TYPE_CHECKING:
    pass
log = logging.getLogger(__name__)
FEATURE = "nextEdit"
MAX_OUTPUT_TOKENS = 4096


@dataclass(frozen=True)
class NextEditRequest:
    uri: str
    version: int
    """The document's version the request is about; a newer one makes the result stale."""
    path: str
    language: str
    lines: Sequence[str]
    """The document's lines, with their endings."""
    line: int
    column: int
    """The cursor, in code points."""
    automatic: bool = True
    diagnostics: Sequence[Diagnostic] = ()
    received_at: float = 0.0
    """``time.perf_counter()`` when the request arrived (for the timing log)."""


@dataclass(frozen=True)
class Outcome:
    edit: NextEdit | None = None
    id: str = ""
    reason: str = ""
    """Why there is no edit (for the log)."""
    sent_at: float = 0.0
    """``time.perf_counter()`` when the upstream request was handed to the client."""
    last_token_at: float = 0.0
    """... and when the last token the engine read arrived."""


class NextEditStats:
    """Suggestions shown and accepted, for glm.status."""

    def __init__(self, remember: int = 256) -> None:
        self._ids = itertools.count(1)
        self._issued: OrderedDict[str, None] = OrderedDict()
        self._remember = remember
        self.shown = 0
        self.accepted = 0
        self._shown: set[str] = set()

    def issue(self) -> str:
        key = f"glm-next-edit-{next(self._ids)}"
        self._issued[key] = None
        while len(self._issued) > self._remember:
            old, _ = self._issued.popitem(last=False)
            self._shown.discard(old)
        return key

    def mark_shown(self, key: Any) -> None:
        if isinstance(key, str) and key in self._issued and key not in self._shown:
            self._shown.add(key)
            self.shown += 1

    def mark_accepted(self, key: Any) -> None:
        if not isinstance(key, str) or key not in self._issued:
            return
        self.mark_shown(key)  # a client that never says "shown" still showed it
        del self._issued[key]
        self._shown.discard(key)
        self.accepted += 1

    def as_json(self) -> dict[str, object]:
        rate = round(self.accepted / self.shown, 3) if self.shown else 0.0
        return {"shown": self.shown, "accepted": self.accepted, "acceptRate": rate}


@dataclass
class _Running:
    work: asyncio.Future[Any]
    superseded: bool = False

    def supersede(self) -> None:
        self.superseded = True
        self.work.cancel()


@dataclass
class NextEditEngine:
    host: GlmHost
    history: EditHistory
    current_version: Callable[[str], int | None]
    context: Callable[[NextEditRequest, Window], Awaitable[str]] | None = None
    stop_early: bool = True  # off only to measure what early stop saves
    stats: NextEditStats = field(default_factory=NextEditStats)
    _running: dict[str, _Running] = field(default_factory=dict)

    async def suggest(self, request: NextEditRequest) -> Outcome:
        settings = self.host.settings.next_edit
        if not settings.enabled:
            return Outcome(reason="nextEdit.enabled is false")
        self.supersede(request.uri)
        if not self.host.has_key():
            self.host.warn_once("no-key", GlmNoKeyError().user_message)
            return Outcome(reason="no API key")
        running = _Running(asyncio.ensure_future(self._debounced(request)))
        self._running[request.uri] = running
        try:
            outcome = await running.work
        except asyncio.CancelledError:
            if running.superseded:
                return Outcome(reason="a newer request replaced it")
            raise
        except Exception:
            log.exception("next edit failed unexpectedly")
            return Outcome(reason="internal error (see the log)")
        finally:
            running.work.cancel()  # ends the upstream call if we were cancelled
            if self._running.get(request.uri) is running:
                del self._running[request.uri]
        if outcome.edit is not None and self._stale(request):
            return Outcome(reason="the document changed meanwhile")
        return outcome

    def supersede(self, uri: str) -> None:
        older = self._running.pop(uri, None)
        if older is not None:
            older.supersede()

    def supersede_all_but(self, uri: str) -> None:
        """The user went to another document: its pending suggestions are of no use."""
        for other in [key for key in self._running if key != uri]:
            self.supersede(other)

    def _stale(self, request: NextEditRequest) -> bool:
        return self.current_version(request.uri) != request.version

    async def _debounced(self, request: NextEditRequest) -> Outcome:
        settings = self.host.settings.next_edit
        if request.automatic and settings.debounce_ms:
            await asyncio.sleep(settings.debounce_ms / 1000)
        if self._stale(request):
            return Outcome(reason="the document changed meanwhile")
        window = window_around(request.lines, request.line, request.column, settings.window_lines)
        # The history as it is now, matching request.lines (the version has not moved).
        last = self.history.last_for(request.uri)
        prompt = NextEditPrompt(
            path=request.path,
            language=request.language,
            window=window,
            history=self.history.recent(settings.history_edits),
            definitions=await self._definitions(request, window),
            diagnostics=request.diagnostics,
        )
        sent_at = time.perf_counter()
        try:
            reading = await self._ask(prompt, window)
        except GlmError as exc:
            log.info("next edit: %s (request id %s)", exc.user_message, exc.request_id)
            key = "no-key" if isinstance(exc, GlmNoKeyError) else f"nextEdit:{type(exc).__name__}"
            self.host.warn_once(key, f"GLM next edit: {exc.user_message}")
            return Outcome(reason=exc.user_message)
        timing = replace(Outcome(), sent_at=sent_at, last_token_at=reading.last_token_at)
        if self._stale(request):
            return replace(timing, reason="the document changed meanwhile")
        if reading.rejected:
            return replace(timing, reason=reading.rejected)
        if reading.no_change or reading.lines is None:
            return replace(timing, reason="the model predicts no change")
        why = rejection(window, reading.lines, last)
        if why:
            return replace(timing, reason=why)
        span = smallest_span(window.text, "\n".join(reading.lines))
        assert span is not None  # rejection() said there is a change
        return replace(timing, edit=to_edit(window, span), id=self.stats.issue())

    async def _definitions(self, request: NextEditRequest, window: Window) -> str:
        if self.context is None:
            return ""
        try:
            return await self.context(request, window)
        except asyncio.CancelledError:
            raise
        except Exception:  # a suggestion without definitions beats none
            log.exception("gathering next-edit context failed")
            return ""

    async def _ask(self, prompt: NextEditPrompt, window: Window) -> Reading:
        settings = self.host.settings
        client = self.host.glm_client()
        from ..glm.models import ChatRequest  # lazy: pydantic is not needed to start

        chat = ChatRequest(
            model=settings.next_edit.model or self.host.model_for("completion"),
            messages=next_edit_messages(prompt),
            max_tokens=min(MAX_OUTPUT_TOKENS, len(window.text) // 2 + 256),
            thinking=False,
            temperature=settings.temperature,
        )
        events = client.stream_chat(chat, feature=FEATURE, allow_truncated=True, max_retries=0)
        reader = RewriteReader(
            window.lines, max_chars=4 * len(window.text) + 2000, stop_early=self.stop_early
        )
        return await read_rewrite(events, reader)


async def read_rewrite(events: AsyncGenerator[Any, None], reader: RewriteReader) -> Reading:
    """Feed the stream to ``reader`` until it knows enough; the stream (and with it the
    upstream connection) is closed there, not read to its end."""
    complete = True
    last_token_at = 0.0
    async with contextlib.aclosing(events) as stream:
        async for event in stream:
            if isinstance(event, TextDelta):
                last_token_at = time.perf_counter()
                if reader.feed(event.text):
                    break
            elif isinstance(event, Finish):
                complete = event.reason != "length"
    reading = reader.finish(complete=complete)
    reading.last_token_at = last_token_at
    return reading
