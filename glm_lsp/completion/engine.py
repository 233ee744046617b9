"""One inline completion from request to cleaned text, hiding GLM's latency and cost.

- typing through a suggestion is answered from the typeahead cache, with no upstream call;
- automatic triggers wait ``completion.debounceMs`` first, explicit ones do not;
- a newer request for the same document cancels the older one's upstream call;
- the stream is read only until the suggestion is complete, then closed;
- a result for a document that changed meanwhile is dropped;
- no key or an upstream failure: nothing, fast, and one message per session.

No LSP types here: the feature module turns positions into a :class:`Cursor` and the
text back into items.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glm_lsp.completion.cache import Anchor, TypeaheadCache
from glm_lsp.completion.cursor import Cursor
from glm_lsp.completion.early_stop import completion_end
from glm_lsp.completion.postprocess import clean_completion
from glm_lsp.completion.prompt import completion_messages
from glm_lsp.glm.errors import GlmError, GlmNoKeyError
from glm_lsp.glm.events import TextDelta
from glm_lsp.glm.host import GlmHost
from glm_lsp.syntax.languages import load, unloaded_for

if TYPE_CHECKING:
    from glm_lsp.config import CompletionSettings
log = logging.getLogger(__name__)
FEATURE = "completion"
INTERNAL_ERROR = "GLM completions hit an internal error; details are in the glm-lsp log."


@dataclass(frozen=True)
class CompletionRequest:
    uri: str
    version: int | None
    """The document's version when the request arrived; a newer one makes the result stale."""
    line: int
    cursor: Cursor
    automatic: bool
    """Typed (debounced) rather than asked for explicitly."""


@dataclass
class _Running:
    work: asyncio.Future[Any]
    superseded: bool = False

    def supersede(self) -> None:
        self.superseded = True
        self.work.cancel()


class CompletionEngine:
    def __init__(
        self,
        host: GlmHost,
        current_version: Callable[[str], int | None],
        *,
        stop_early: bool = True,
        context: Callable[[CompletionRequest], Awaitable[str]] | None = None,
    ) -> None:
        self._host = host
        # Definitions from other files for the prompt; asked only once a request is sent.
        self._context = context
        self._stop_early = stop_early  # off only to measure what early stop saves
        self._current_version = current_version
        self._cache = TypeaheadCache()
        self._running: dict[str, _Running] = {}

    async def complete(self, request: CompletionRequest) -> str | None:
        """The text to insert at the cursor, or None."""
        settings = self._host.settings.completion
        if not settings.enabled:
            return None
        self._supersede(request.uri)
        anchor = Anchor(request.line, request.cursor.line_prefix, request.cursor.line_suffix)
        cached = self._cache.lookup(request.uri, anchor)
        if cached is not None:
            return cached
        if not self._host.has_key():
            self._host.warn_once("no-key", GlmNoKeyError().user_message)
            return None
        with self._latest(request.uri, self._debounced_ask(request, settings)) as running:
            try:
                text = await running.work
            except asyncio.CancelledError:
                if running.superseded:
                    return None
                raise
            except Exception:
                # A bug must not cost a message per keystroke: log each, tell once.
                log.exception("completion failed unexpectedly")
                self._host.warn_once("completion:internal", INTERNAL_ERROR)
                return None
        if text is None or self._is_stale(request):
            return None
        self._cache.remember(request.uri, anchor, text)
        return text

    # -- one request at a time per document --------------------------------------------------
    def _supersede(self, uri: str) -> None:
        older = self._running.pop(uri, None)
        if older is not None:
            older.supersede()

    @contextlib.contextmanager
    def _latest(self, uri: str, work: Any) -> Iterator[_Running]:
        running = _Running(asyncio.ensure_future(work))
        self._running[uri] = running
        try:
            yield running
        finally:
            running.work.cancel()  # no-op when done; ends the upstream call if we were cancelled
            if self._running.get(uri) is running:
                del self._running[uri]

    def _is_stale(self, request: CompletionRequest) -> bool:
        if request.version is None:
            return False
        return self._current_version(request.uri) != request.version

    # -- the upstream call ---------------------------------------------------------------------
    async def _debounced_ask(
        self, request: CompletionRequest, settings: CompletionSettings
    ) -> str | None:
        if request.automatic and settings.debounce_ms:
            await asyncio.sleep(settings.debounce_ms / 1000)
        if self._is_stale(request):
            return None
        try:
            client = self._host.glm_client()
            from glm_lsp.glm.models import ChatRequest  # lazy: pydantic is not needed to start

            chat = ChatRequest(
                model=self._host.model_for(FEATURE),
                messages=completion_messages(request.cursor, await self._context_for(request)),
                max_tokens=settings.max_tokens,
                thinking=settings.thinking,
                temperature=self._host.settings.temperature,
            )
            events = client.stream_chat(chat, feature=FEATURE, allow_truncated=True, max_retries=0)
            reply = await read_reply(events, request.cursor, stop_early=self._stop_early)
        except GlmError as exc:
            self._report(exc)
            return None
        return clean_completion(reply, request.cursor)

    async def _context_for(self, request: CompletionRequest) -> str:
        if self._context is None:
            return ""
        try:
            return await self._context(request)
        except asyncio.CancelledError:
            raise
        except Exception:  # a completion without context beats no completion
            log.exception("gathering completion context failed")
            return ""

    def _report(self, exc: GlmError) -> None:
        log.info("completion failed: %s (request id %s)", exc.user_message, exc.request_id)
        key = "no-key" if isinstance(exc, GlmNoKeyError) else f"completion:{type(exc).__name__}"
        self._host.warn_once(key, f"GLM completions: {exc.user_message}")


async def read_reply(
    events: AsyncGenerator[Any, None], cursor: Cursor, *, stop_early: bool = True
) -> str:
    """The reply's text up to where the suggestion is complete; the stream is closed there
    (which closes the upstream connection), not read to its end."""
    reply = ""
    warming = _warm_grammars(cursor.path) if stop_early else []
    async with contextlib.aclosing(events) as stream:
        async for event in stream:
            if not isinstance(event, TextDelta):
                continue
            reply += event.text
            end = completion_end(reply, cursor) if stop_early else None
            if end is not None and warming:
                # The indentation would end the suggestion here, but the file's grammar, which
                # reads brackets (a C body written flush left), is still loading: ask again
                # once it is there. Only on the file's first completion.
                await asyncio.wait(warming, timeout=GRAMMAR_WAIT_SECONDS)
                warming = []
                end = completion_end(reply, cursor)
            if end is not None:
                return reply[:end]
    return reply


# How long a stop waits for a grammar still loading: compiling its query takes up to half a
# second once, more on a loaded machine; the reply goes on streaming meanwhile.
GRAMMAR_WAIT_SECONDS = 3.0
_WARMING: set[asyncio.Future[Any]] = set()


def _warm_grammars(path: str) -> list[asyncio.Future[Any]]:
    """Load the file's grammar in a thread while the model thinks (when the context gatherer
    has not: a file outside the workspace, context off); the loads started."""
    started: list[asyncio.Future[Any]] = []
    for grammar in unloaded_for(path):
        future = asyncio.ensure_future(asyncio.to_thread(load, grammar))
        _WARMING.add(future)
        future.add_done_callback(_WARMING.discard)
        started.append(future)
    return started
