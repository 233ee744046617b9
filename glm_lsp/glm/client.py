"""Streaming GLM chat client: one httpx.AsyncClient for the server's life, retries, cancel.

Knows nothing of LSP. ``stream_chat`` is an async generator of typed events; closing it (or
cancelling the task that iterates it) closes the HTTP response at once, which is how a
cancelled editor request stops the upstream generation. Use ``contextlib.aclosing`` when
breaking out of the loop early.

Whatever the upstream sends, memory stays bounded: an error body or a body that is not an
event stream is read up to 64 KB, one SSE line up to 8 MB, one reply up to 16 MB; JSON nested
too deep is an unreadable line, not a crash.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from datetime import datetime
from typing import Any

import httpx

from glm_lsp import __version__
from glm_lsp.glm.chunks import ReplyReader, clean
from glm_lsp.glm.dialects import (
    Dialect,
    build_payload,
    resolve_dialect,
    tool_calling_help,
    tool_calling_off,
)
from glm_lsp.glm.errors import (
    BUSY_BACKOFF,
    GlmAlwaysThinkingError,
    GlmBusyError,
    GlmConnectionError,
    GlmDeadlineError,
    GlmEncodingRefusedError,
    GlmError,
    GlmRateLimitError,
    GlmResponseTooLargeError,
    GlmServerError,
    GlmStaleConnectionError,
    GlmStatusError,
    GlmStreamBrokenError,
    GlmTimeoutError,
    error_from_response,
)
from glm_lsp.glm.events import ReasoningDelta, Restart, Waiting
from glm_lsp.glm.models import ChatRequest, ChatResult, StreamEvent, Usage
from glm_lsp.glm.quota import QuotaLimit, QuotaWatcher
from glm_lsp.glm.sse import BoundedSseDecoder, SseLineTooLongError
from glm_lsp.glm.thinking import (
    always_thinking_notice,
    asked_no_thinking,
    refused_effort,
    unasked_reasoning_notice,
    without_thinking_switch,
)
from glm_lsp.glm.usage import UsageLedger, is_coding_plan
from glm_lsp.log import register_secret

log = logging.getLogger(__name__)

USER_AGENT = f"glm-lsp/{__version__}"
MAX_RETRY_AFTER = 30.0
MAX_BACKOFF = 8.0
MAX_BODY_BYTES = 64 * 1024  # an error body, or a body that is not an event stream
MAX_LINE_BYTES = 8 * 1024 * 1024  # one SSE line (and one event's data)
MAX_REPLY_BYTES = 16 * 1024 * 1024  # one whole reply: far above any max_tokens GLM honours
MAX_BUSY_BACKOFF = 120.0  # 1302/1305: 30 s, 60 s, then 120 s
FIRST_TOKEN_TIMEOUT = 300.0  # a big agent prompt can take minutes to its first token
TYPING_FEATURES = frozenset({"completion", "nextEdit"})  # wait requestTimeout at most
WAIT_TICK = 1.0  # seconds between "still waiting" reports while nothing arrives
# Pooled connections are dropped after this many idle seconds. Load balancers close idle
# connections after 60 s (AWS ALB, Nginx's 75 s), and a request sent on a connection in
# the instant the server closes it fails. 50 s stays under those with room for the round trip,
# and still keeps the connection warm across the pauses of a typing session. Servers with
# shorter timeouts (uvicorn's 5 s under vLLM) close with a FIN that the pool notices before
# reuse; the race that remains is what the one immediate stale-connection retry is for.
KEEPALIVE_EXPIRY = 50.0


class GlmClient:
    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 120.0,
        max_retries: int = 3,
        ledger: UsageLedger | None = None,
        backoff_base: float = 0.5,
        dialect: Dialect | None = None,
        first_token_timeout: float = FIRST_TOKEN_TIMEOUT,
        deadlines: dict[str, float] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        """``timeout``: seconds to connect and between chunks, and completions' wait for their
        first token; ``first_token_timeout``: every other feature's wait for its first token;
        ``deadlines``: per feature, seconds for a whole request, retries included;
        ``on_notice``: tells the user something once (an always-thinking model)."""
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.timeout = timeout
        self.first_token_timeout = first_token_timeout
        self.deadlines = dict(deadlines or {})
        self._on_notice = on_notice
        self._noticed: set[str] = set()
        # Models that refused thinking off, with the lowest reasoning_effort they take.
        self.always_thinking: dict[str, str] = {}
        self._quota = (
            QuotaWatcher(self.base_url, api_key) if is_coding_plan(self.base_url) else None
        )
        # What this server expects (thinking switch, usage, reasoning field): glm/dialects.py.
        self.dialect = dialect or resolve_dialect("auto", self.base_url)
        self.ledger = ledger or UsageLedger()
        register_secret(api_key)  # so nothing this client reports can carry it
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "text/event-stream, application/json",
                "User-Agent": USER_AGENT,
                # No compression: a compressed body could expand past every bound below.
                "Accept-Encoding": "identity",
            },
            # read= bounds the wait for each chunk, so a stalled stream times out too (a
            # stream's own waits are bounded by _one_stream; this is the backstop).
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=KEEPALIVE_EXPIRY),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def warm_up(self) -> None:
        """Open a pooled connection now so the first real request skips connect and TLS."""
        try:
            async with self._http.stream("GET", "models", timeout=5.0) as response:
                # Read a short answer to its end (the connection then goes back to the pool);
                # a long one is cut, as every body from upstream is.
                await _read_bounded(response, MAX_BODY_BYTES)
        except httpx.HTTPError as exc:
            log.debug("warm-up request failed: %s", type(exc).__name__)

    async def list_models(self) -> list[str]:
        """The ids ``GET models`` lists (OpenAI's shape, served by vLLM, SGLang and GLM)."""
        try:
            async with self._http.stream("GET", "models") as response:
                body, cut = await _read_bounded(response, MAX_BODY_BYTES)
                if response.status_code != 200:
                    raise _status_error(response, body, cut, "models")
        except httpx.TransportError as exc:
            raise GlmConnectionError(
                f"Cannot reach GLM at {self.base_url} ({type(exc).__name__})."
            ) from None
        try:
            data = json.loads(body).get("data") if not cut else None
        except (ValueError, AttributeError, RecursionError):
            data = None
        if not isinstance(data, list):
            raise GlmConnectionError(f"{self.base_url}models did not answer with a model list.")
        return [str(m["id"]) for m in data if isinstance(m, dict) and m.get("id")]

    async def quota(self) -> list[QuotaLimit] | None:
        """The Coding Plan's limits (at most one fetch a minute); ``None``: not the Coding
        Plan, or unknown."""
        if self._quota is None:
            return None
        return await self._quota.limits(self._http)

    @property
    def on_coding_plan(self) -> bool:
        return self._quota is not None

    def _notice(self, key: str, message: str) -> None:
        if key in self._noticed:
            return
        self._noticed.add(key)
        log.warning("%s", message)
        if self._on_notice is not None:
            self._on_notice(message)

    async def chat(
        self, request: ChatRequest, *, feature: str, allow_truncated: bool = False
    ) -> ChatResult:
        result = ChatResult()
        async with aclosing(
            self.stream_chat(request, feature=feature, allow_truncated=allow_truncated)
        ) as events:
            async for event in events:
                result.add(event)
        return result

    async def stream_chat(
        self,
        request: ChatRequest,
        *,
        feature: str,
        allow_truncated: bool = False,
        max_retries: int | None = None,
        restartable: bool = False,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Yield the reply as events. Retries only while nothing has been yielded, at most
        ``max_retries`` times (default: the client's; completions pass 0 — the next
        keystroke is their retry). A stale kept-alive connection, closed before any byte of
        a response, is retried once more at once, whatever ``max_retries`` says: the request
        never reached the model; so is a model's refusal to switch thinking off (sent again
        without the switch). ``restartable``: the caller discards what it got on a
        :class:`Restart` event, so a ``network_error`` mid-reply is retried too. ``Waiting``
        events say that nothing has arrived yet; they are not part of the reply."""
        retries = self.max_retries if max_retries is None else max_retries
        payload = build_payload(request, self.dialect, stream=True)
        payload.setdefault("request_id", str(uuid.uuid4()))
        model = request.model
        if model in self.always_thinking and asked_no_thinking(payload):
            payload = without_thinking_switch(payload, self.always_thinking[model])
        limit = self.deadlines.get(feature)
        deadline = time.monotonic() + limit if limit else None
        attempt = 0
        stale_retried = thinking_retried = False
        usage: Usage | None = None
        try:
            while True:
                yielded = False
                asked_off = asked_no_thinking(payload)
                try:
                    async for event in self._one_stream(
                        payload, allow_truncated, feature, deadline, limit
                    ):
                        if isinstance(event, Waiting):
                            yield event
                            continue
                        if isinstance(event, ReasoningDelta) and asked_off and not yielded:
                            self._reasoning_unasked(model, feature)
                        yielded = True
                        if isinstance(event, Usage):
                            usage = event
                        yield event
                    return
                except GlmError as exc:
                    if isinstance(exc, GlmAlwaysThinkingError) and not thinking_retried:
                        thinking_retried = True
                        self.always_thinking[model] = exc.effort
                        payload = without_thinking_switch(payload, exc.effort)
                        self._notice(f"always:{model}", always_thinking_notice(model, exc.effort))
                        continue
                    restart = (
                        isinstance(exc, GlmStreamBrokenError) and exc.restartable and restartable
                    )
                    if yielded and not restart:
                        raise
                    if isinstance(exc, GlmStaleConnectionError) and not stale_retried:
                        stale_retried = True
                        log.info("GLM closed a kept-alive connection unanswered; retrying now")
                        continue
                    if not exc.retryable or attempt >= retries:
                        raise
                    delay = self._retry_delay(exc, attempt)
                    if deadline is not None and time.monotonic() + delay > deadline:
                        raise
                    attempt += 1
                    log.info(
                        "GLM %s; retry %d/%d in %.2fs",
                        type(exc).__name__,
                        attempt,
                        retries,
                        delay,
                    )
                    if yielded:
                        yield Restart()
                    if delay >= WAIT_TICK:
                        yield Waiting(_next_try(exc, delay), delay)
                    await asyncio.sleep(delay)
        finally:
            self.ledger.record(feature, usage)

    def _reasoning_unasked(self, model: str, feature: str) -> None:
        """Reasoning arrived although thinking was off: counted, and said once per model."""
        self.ledger.count_unasked_reasoning(feature)
        self._notice(f"unasked:{model}", unasked_reasoning_notice(model))

    def _retry_delay(self, exc: GlmError, attempt: int) -> float:
        retry_after = (
            exc.retry_after if isinstance(exc, (GlmRateLimitError, GlmServerError)) else None
        )
        if isinstance(exc, GlmBusyError) and retry_after is None:
            backoff = min(BUSY_BACKOFF * (2**attempt), MAX_BUSY_BACKOFF)
            return backoff + random.uniform(0, backoff / 10)
        return retry_delay(attempt, retry_after, self.backoff_base)

    def _first_wait(self, feature: str) -> float:
        # Completions and next edits keep the short budget: a suggestion minutes late is
        # useless.
        return self.timeout if feature in TYPING_FEATURES else self.first_token_timeout

    async def _one_stream(
        self,
        payload: dict[str, Any],
        allow_truncated: bool,
        feature: str,
        deadline: float | None,
        limit: float | None,
    ) -> AsyncGenerator[StreamEvent, None]:
        request_id = str(payload.get("request_id"))
        answered = False  # response headers arrived: a break now is not a stale connection
        produced = False  # a break before any event is a dropped connection: retryable
        first_wait = self._first_wait(feature)
        clock = _Clock(time.monotonic(), first_wait, deadline, limit, request_id)
        clock.setting = (
            "glm.requestTimeout" if feature in TYPING_FEATURES else "glm.firstTokenTimeout"
        )
        backstop = httpx.Timeout(
            max(first_wait, self.timeout) + 5.0, connect=min(self.timeout, 10.0)
        )
        request = self._http.build_request(
            "POST",
            "chat/completions",
            content=_json_body(payload),
            headers=_JSON,
            timeout=backstop,
        )
        pending: asyncio.Future[Any] | None = None
        response: httpx.Response | None = None
        watchdog: _Watchdog | None = None  # bounds the wait for each chunk after the first
        try:
            # The headers may wait for the first token: report the wait, bounded.
            pending = asyncio.ensure_future(self._http.send(request, stream=True))
            while not pending.done():
                if await clock.wait(pending):
                    yield clock.waiting()
            response = pending.result()
            pending = None
            answered = True
            if response.status_code != 200:
                body, cut = await _read_bounded(response, MAX_BODY_BYTES, request_id)
                raise _status_error(response, body, cut, request_id)
            _refuse_encoding(response, request_id)
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" not in content_type:
                # A proxy's HTML page or a wrong baseUrl: say so, not "cannot reach".
                # Read a little, so that a short page leaves the connection reusable.
                await _read_bounded(response, MAX_BODY_BYTES, request_id)
                raise GlmConnectionError(
                    f"{self.base_url} answered with {content_type or 'no content type'} "
                    "instead of an event stream (a proxy, or the wrong glm.baseUrl?); "
                    "nothing was applied.",
                    request_id=request_id,
                )
            reader = ReplyReader(
                request_id,
                allow_truncated=allow_truncated,
                feature=feature,
                max_tokens=payload.get("max_tokens"),
            )
            received = 0
            decoder = BoundedSseDecoder(MAX_LINE_BYTES)
            # Raw bytes: httpx would otherwise inflate whatever Content-Encoding says.
            chunks = response.aiter_raw().__aiter__()
            while True:
                if not produced:  # the first token may take minutes: report the wait
                    pending = asyncio.ensure_future(chunks.__anext__())
                    while not pending.done():
                        if await clock.wait(pending):
                            yield clock.waiting()
                    future, pending = pending, None
                    try:
                        raw = future.result()
                    except StopAsyncIteration:
                        break
                else:
                    watchdog = watchdog or _Watchdog(self.timeout, deadline)
                    # Inline, not a method: this runs once per chunk.
                    watchdog.last = watchdog.loop.time()
                    watchdog.reading = True
                    try:
                        raw = await chunks.__anext__()
                    except StopAsyncIteration:
                        break
                    except asyncio.CancelledError:
                        if watchdog.timed_out():
                            raise clock.timed_out() from None
                        raise
                    finally:
                        watchdog.reading = False
                received += len(raw)
                if received > MAX_REPLY_BYTES:
                    raise GlmResponseTooLargeError(
                        f"GLM's reply grew past {MAX_REPLY_BYTES // 2**20} MB; stopped "
                        "reading it, nothing was applied.",
                        request_id=request_id,
                    )
                # Read on to the end of the body, past [DONE], so the connection returns
                # to the pool.
                for name, data in decoder.feed_events(raw):
                    if data == "[DONE]":
                        continue
                    for event in reader.feed(data, name):
                        produced = True
                        yield event
            if not reader.finished:
                broken = GlmStreamBrokenError if produced else GlmConnectionError
                raise broken(
                    "The GLM stream ended before the reply was complete; nothing was applied.",
                    request_id=request_id,
                )
        except SseLineTooLongError as exc:
            raise GlmResponseTooLargeError(
                f"GLM sent a stream line over {exc.limit // 2**20} MB; stopped reading it, "
                "nothing was applied.",
                request_id=request_id,
            ) from None
        except httpx.TimeoutException as exc:
            raise GlmTimeoutError(
                f"GLM did not answer in time ({type(exc).__name__}).", request_id=request_id
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if not answered and _closed_unanswered(exc):
                raise GlmStaleConnectionError(
                    "The connection to GLM closed before any answer; nothing was applied.",
                    request_id=request_id,
                ) from None
            broken = GlmStreamBrokenError if produced else GlmConnectionError
            raise broken(
                f"The connection to GLM broke ({type(exc).__name__}); nothing was applied.",
                request_id=request_id,
            ) from None
        except httpx.TransportError as exc:
            raise GlmConnectionError(
                f"Cannot reach GLM at {self.base_url} ({type(exc).__name__}).",
                request_id=request_id,
            ) from None
        finally:
            if watchdog is not None:
                watchdog.close()
            if pending is not None:
                pending.cancel()
            if pending is not None or response is not None:
                await _close_shielded(pending, response)


class _Clock:
    """The waits of one attempt: the first token within ``first_wait`` seconds, everything
    within the request's deadline."""

    def __init__(
        self,
        started: float,
        first_wait: float,
        deadline: float | None,
        limit: float | None,
        request_id: str,
    ) -> None:
        self.started = started
        self.first_wait = first_wait
        self.deadline = deadline
        self.limit = limit
        self.request_id = request_id
        self.setting = "glm.firstTokenTimeout"  # the one that bounds the first wait

    def _left(self, phase_end: float) -> float:
        end = phase_end if self.deadline is None else min(phase_end, self.deadline)
        return end - time.monotonic()

    async def wait(self, pending: asyncio.Future[Any]) -> bool:
        """Wait up to one tick for ``pending``; True when a tick passed with nothing."""
        left = self._left(self.started + self.first_wait)
        if left <= 0:
            raise self.timed_out(first=True)
        await asyncio.wait({pending}, timeout=min(WAIT_TICK, left))
        return not pending.done()

    def waiting(self) -> Waiting:
        waited = time.monotonic() - self.started
        return Waiting(
            f"waiting for GLM's first token: {waited:.0f} s (up to {self.first_wait:g} s)", waited
        )

    def timed_out(self, *, first: bool = False) -> GlmError:
        if self.deadline is not None and time.monotonic() >= self.deadline - 0.001:
            return GlmDeadlineError(
                f"GLM's reply took longer than the {self.limit:g} s limit for one request; "
                "nothing was applied (the totalTimeout setting of this feature).",
                request_id=self.request_id,
            )
        if first:
            return GlmTimeoutError(
                f"GLM did not answer in time: no first token within {self.first_wait:g} s "
                f"({self.setting}); nothing was applied.",
                request_id=self.request_id,
            )
        return GlmTimeoutError(
            "GLM did not answer in time (ReadTimeout).", request_id=self.request_id
        )


class _Watchdog:
    """Ends a read when no chunk came for ``seconds`` or the deadline passed. One timer per
    stream, re-armed only when it fires: a chunk costs a clock read, not a timer (a timeout
    per chunk made a long stream a quarter slower)."""

    def __init__(self, seconds: float, deadline: float | None) -> None:
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.seconds = seconds
        self.deadline = deadline  # time.monotonic(), the loop's clock
        self.last = self.loop.time()
        self.reading = False
        self.expired = False
        self._handle = self.loop.call_at(self._due(), self._check)

    def _due(self) -> float:
        due = self.last + self.seconds
        return due if self.deadline is None else min(due, self.deadline)

    def _check(self) -> None:
        now = self.loop.time()
        if not self.reading:  # the caller is busy with a chunk: the clock starts at the read
            self.last = max(self.last, now)
        if self.reading and now >= self._due() - 0.001 and self.task is not None:
            self.expired = True
            self.task.cancel()
            return
        self._handle = self.loop.call_at(max(self._due(), now + 0.01), self._check)

    def timed_out(self) -> bool:
        """The read was cancelled by this watchdog (and by no one else)."""
        return self.expired and not self._cancelled_from_outside()

    def _cancelled_from_outside(self) -> bool:
        uncancel = getattr(self.task, "uncancel", None)  # 3.11+: count our own cancel off
        return uncancel is not None and uncancel() > 0

    def close(self) -> None:
        self._handle.cancel()


_CLOSING: set[asyncio.Future[None]] = set()  # closings that outlive a second cancel


async def _close_shielded(
    pending: asyncio.Future[Any] | None, response: httpx.Response | None
) -> None:
    """Close the response (and one a cancelled read may still produce) even when the caller
    is cancelled again meanwhile: an unclosed response keeps its connection open and the
    upstream generating."""
    closing = asyncio.ensure_future(_close(pending, response))
    _CLOSING.add(closing)
    closing.add_done_callback(_CLOSING.discard)
    await asyncio.shield(closing)


async def _close(pending: asyncio.Future[Any] | None, response: httpx.Response | None) -> None:
    if pending is not None:
        if not pending.done():
            await asyncio.wait({pending})
        if not pending.cancelled() and pending.exception() is None:
            produced = pending.result()
            if isinstance(produced, httpx.Response):
                await produced.aclose()
    if response is not None:
        await response.aclose()


def _next_try(exc: GlmError, delay: float) -> str:
    when = datetime.now().astimezone().timestamp() + delay
    at = datetime.fromtimestamp(when).astimezone()
    code = f" (code {exc.code})" if exc.code else ""
    return f"GLM is busy{code}; next try at {at:%H:%M:%S} (in {delay:.0f} s)"


def retry_delay(attempt: int, retry_after: float | None, backoff_base: float) -> float:
    """Seconds before retry ``attempt + 1``: the server's Retry-After (at most 30 s, so a
    hostile or confused header cannot park a request for hours), else exponential backoff
    from ``backoff_base`` (capped at 8 s) plus up to half of it again as jitter."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER)
    backoff = min(backoff_base * (2**attempt), MAX_BACKOFF)
    return backoff + random.uniform(0, backoff / 2)


def _refuse_encoding(response: httpx.Response, request_id: str | None) -> None:
    """glm-lsp asks for ``identity``: a compressed body could inflate past every bound (a
    gzip bomb), so any other encoding is refused unread."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return
    raise GlmEncodingRefusedError(
        f"GLM answered HTTP {response.status_code} compressed (Content-Encoding: "
        f"{clean(encoding)}) although glm-lsp asked for none (a proxy?); refused it unread, "
        "nothing was applied.",
        status=response.status_code,
        request_id=request_id,
    )


async def _read_bounded(
    response: httpx.Response, limit: int, request_id: str | None = None
) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the body, and whether there was more (left unread: the
    connection is then closed, not reused). Raw bytes: a compressed body is refused."""
    _refuse_encoding(response, request_id)
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
    return bytes(body), False


def _closed_unanswered(exc: httpx.TransportError) -> bool:
    """The server closed the connection before any byte of a response: httpcore's words for
    a clean close, or a reset (the server's close crossing our request on the wire)."""
    if isinstance(exc, httpx.RemoteProtocolError):
        return "without sending a response" in str(exc)
    return True


def _status_error(response: httpx.Response, body: bytes, cut: bool, request_id: str) -> GlmError:
    """The error an answer other than 200 means, whatever shape its body has: GLM's
    ``{"error": {"code": "1214", ...}}``, a top-level ``{"code": 1001, "message": ...}``,
    vLLM's ``{"object": "error"}``, Spring's 404 JSON, or a gateway's web page."""
    status = response.status_code
    request_id = response.headers.get("x-request-id") or request_id
    code: str | None = None
    message: str | None = None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        code = _str_or_none(error.get("code"))
        message = clean(error.get("message"))
    elif isinstance(parsed, dict) and _is_spring_error(parsed):
        path = clean(parsed.get("path")) or "the request's path"
        answer = " ".join(str(part) for part in (status, clean(error)) if part)
        return GlmStatusError(
            f"GLM's host answered {answer} for {path}: the base URL's "
            "path is wrong; check glm.baseUrl (GLM's is https://open.bigmodel.cn/api/paas/v4/ "
            "or https://api.z.ai/api/paas/v4/, the Coding Plan's /api/coding/paas/v4/).",
            status=status,
            request_id=request_id,
        )
    elif isinstance(parsed, dict) and ("code" in parsed or parsed.get("object") == "error"):
        # A top-level code (GLM's gateways) or vLLM's own form.
        code = _str_or_none(parsed.get("code"))
        message = clean(parsed.get("message") or parsed.get("msg"))
    elif parsed is None and _is_web_page(response, body):
        return GlmStatusError(
            f"The endpoint answered with a web page (HTTP {status}): check glm.baseUrl "
            "(a proxy or gateway answered, not GLM's API).",
            status=status,
            request_id=request_id,
        )
    if tool_calling_off(message):  # vLLM started without --enable-auto-tool-choice
        return GlmStatusError(tool_calling_help(), status=status, code=code, request_id=request_id)
    effort = refused_effort(code, message)
    if effort is not None:
        return GlmAlwaysThinkingError(
            f"GLM refused thinking off: this model always thinks ({message}).",
            effort=effort,
            status=status,
            code=code,
            request_id=request_id,
        )
    if message is None and cut:
        message = f"an error body over {MAX_BODY_BYTES // 1024} KB, not read to the end"
    return error_from_response(
        status, code, message, request_id, _retry_after(response.headers.get("retry-after"))
    )


def _is_spring_error(parsed: dict[str, Any]) -> bool:
    """Spring Boot's default error body: {"timestamp", "status", "error", "path"}."""
    return isinstance(parsed.get("error"), str) and "status" in parsed and "path" in parsed


def _is_web_page(response: httpx.Response, body: bytes) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    return "html" in content_type or body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))


_JSON = {"Content-Type": "application/json"}


def _json_body(payload: dict[str, Any]) -> bytes:
    """UTF-8 JSON; an unpaired surrogate from a broken buffer becomes "?" instead of an
    encoding error that would fail every request about that document."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)
