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
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import httpx

from glm_lsp import __version__
from glm_lsp.glm.dialects import (
    Dialect,
    build_payload,
    reasoning_delta,
    resolve_dialect,
    tool_calling_help,
    tool_calling_off,
)
from glm_lsp.glm.errors import (
    GlmConnectionError,
    GlmContentFilteredError,
    GlmError,
    GlmLengthError,
    GlmRateLimitError,
    GlmResponseTooLargeError,
    GlmServerError,
    GlmStaleConnectionError,
    GlmStatusError,
    GlmStreamBrokenError,
    GlmTimeoutError,
    error_from_response,
)
from glm_lsp.glm.models import (
    ChatRequest,
    ChatResult,
    Finish,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)
from glm_lsp.glm.sse import BoundedSseDecoder, SseLineTooLongError
from glm_lsp.glm.usage import UsageLedger
from glm_lsp.log import redact, register_secret

log = logging.getLogger(__name__)

USER_AGENT = f"glm-lsp/{__version__}"
MAX_RETRY_AFTER = 30.0
MAX_BACKOFF = 8.0
MAX_BODY_BYTES = 64 * 1024  # an error body, or a body that is not an event stream
MAX_LINE_BYTES = 8 * 1024 * 1024  # one SSE line (and one event's data)
MAX_REPLY_BYTES = 16 * 1024 * 1024  # one whole reply: far above any max_tokens GLM honours
MAX_MESSAGE_CHARS = 300  # GLM's own text inside our message
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
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.max_retries = max_retries
        self.backoff_base = backoff_base
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
            # read= bounds the wait for each chunk, so a stalled stream times out too.
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
    ) -> AsyncGenerator[StreamEvent, None]:
        """Yield the reply as events. Retries only while nothing has been yielded, at most
        ``max_retries`` times (default: the client's; completions pass 0 — the next
        keystroke is their retry). A stale kept-alive connection, closed before any byte of
        a response, is retried once more at once, whatever ``max_retries`` says: the request
        never reached the model."""
        retries = self.max_retries if max_retries is None else max_retries
        payload = build_payload(request, self.dialect, stream=True)
        payload.setdefault("request_id", str(uuid.uuid4()))
        attempt = 0
        stale_retried = False
        usage: Usage | None = None
        try:
            while True:
                yielded = False
                try:
                    async for event in self._one_stream(payload, allow_truncated):
                        yielded = True
                        if isinstance(event, Usage):
                            usage = event
                        yield event
                    return
                except GlmError as exc:
                    if yielded:
                        raise
                    if isinstance(exc, GlmStaleConnectionError) and not stale_retried:
                        stale_retried = True
                        log.info("GLM closed a kept-alive connection unanswered; retrying now")
                        continue
                    if not exc.retryable or attempt >= retries:
                        raise
                    delay = self._retry_delay(exc, attempt)
                    attempt += 1
                    log.info(
                        "GLM %s; retry %d/%d in %.2fs",
                        type(exc).__name__,
                        attempt,
                        retries,
                        delay,
                    )
                    await asyncio.sleep(delay)
        finally:
            self.ledger.record(feature, usage)

    def _retry_delay(self, exc: GlmError, attempt: int) -> float:
        retry_after = (
            exc.retry_after if isinstance(exc, (GlmRateLimitError, GlmServerError)) else None
        )
        return retry_delay(attempt, retry_after, self.backoff_base)

    async def _one_stream(
        self, payload: dict[str, Any], allow_truncated: bool
    ) -> AsyncGenerator[StreamEvent, None]:
        request_id = str(payload.get("request_id"))
        answered = False  # response headers arrived: a break now is not a stale connection
        produced = False  # a break before any event is a dropped connection: retryable
        try:
            async with self._http.stream(
                "POST", "chat/completions", content=_json_body(payload), headers=_JSON
            ) as response:
                answered = True
                if response.status_code != 200:
                    body, cut = await _read_bounded(response, MAX_BODY_BYTES)
                    raise _status_error(response, body, cut, request_id)
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type:
                    # A proxy's HTML page or a wrong baseUrl: say so, not "cannot reach".
                    # Read a little, so that a short page leaves the connection reusable.
                    await _read_bounded(response, MAX_BODY_BYTES)
                    raise GlmConnectionError(
                        f"{self.base_url} answered with {content_type or 'no content type'} "
                        "instead of an event stream (a proxy, or the wrong glm.baseUrl?); "
                        "nothing was applied.",
                        request_id=request_id,
                    )
                assembler = _ToolCallAssembler()
                finished = False
                received = 0
                decoder = BoundedSseDecoder(MAX_LINE_BYTES)
                # Read on to the end of the body, past [DONE], so the connection returns to
                # the pool.
                async for raw in response.aiter_bytes():
                    received += len(raw)
                    if received > MAX_REPLY_BYTES:
                        raise GlmResponseTooLargeError(
                            f"GLM's reply grew past {MAX_REPLY_BYTES // 2**20} MB; stopped "
                            "reading it, nothing was applied.",
                            request_id=request_id,
                        )
                    for data in decoder.feed(raw):
                        if data == "[DONE]":
                            continue
                        for event in _line_events(data, assembler, request_id, allow_truncated):
                            if isinstance(event, Finish):
                                finished = True
                            produced = True
                            yield event
                if not finished:
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


def retry_delay(attempt: int, retry_after: float | None, backoff_base: float) -> float:
    """Seconds before retry ``attempt + 1``: the server's Retry-After (at most 30 s, so a
    hostile or confused header cannot park a request for hours), else exponential backoff
    from ``backoff_base`` (capped at 8 s) plus up to half of it again as jitter."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER)
    backoff = min(backoff_base * (2**attempt), MAX_BACKOFF)
    return backoff + random.uniform(0, backoff / 2)


async def _read_bounded(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the body, and whether there was more (left unread: the
    connection is then closed, not reused)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
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


class _ToolCallAssembler:
    """Tool calls arrive in pieces keyed by ``index``; join them until the turn finishes."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, str]] = {}

    def add(self, delta: dict[str, Any]) -> None:
        index = int(delta.get("index", len(self._parts)))
        part = self._parts.setdefault(index, {"id": "", "name": "", "arguments": ""})
        if delta.get("id"):
            part["id"] = str(delta["id"])
        function = delta.get("function") or {}
        if function.get("name"):
            part["name"] += str(function["name"])
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # some servers send an object, not a string
            part["arguments"] += json.dumps(arguments)
        elif arguments:
            part["arguments"] += str(arguments)

    def drain(self) -> list[ToolCall]:
        calls = [
            ToolCall(id=p["id"] or f"call_{i}", name=p["name"], arguments=p["arguments"])
            for i, p in sorted(self._parts.items())
        ]
        self._parts.clear()
        return calls


def _line_events(
    data: str, assembler: _ToolCallAssembler, request_id: str, allow_truncated: bool
) -> list[StreamEvent]:
    """The events of one SSE data line; an unreadable line (not JSON, or JSON nested deeper
    than the parser's recursion limit) is skipped."""
    try:
        chunk = json.loads(data)
        if not isinstance(chunk, dict):
            raise ValueError("not an object")
        return _chunk_events(chunk, assembler, request_id, allow_truncated)
    except (ValueError, RecursionError) as exc:
        log.debug(
            "ignoring an unreadable stream line (%d bytes): %s", len(data), type(exc).__name__
        )
        return []


def _chunk_events(
    chunk: dict[str, Any],
    assembler: _ToolCallAssembler,
    request_id: str,
    allow_truncated: bool,
) -> list[StreamEvent]:
    if "error" in chunk:
        error = chunk.get("error") or {}
        if not isinstance(error, dict):
            error = {"message": error}
        raise error_from_response(
            200, _str_or_none(error.get("code")), _clean(error.get("message")), request_id, None
        )
    events: list[StreamEvent] = []
    finish: str | None = None
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        reasoning = reasoning_delta(delta)  # reasoning_content, or vLLM's reasoning
        if reasoning is not None:
            events.append(reasoning)
        if delta.get("content"):
            events.append(TextDelta(delta["content"]))
        for call in delta.get("tool_calls") or []:
            assembler.add(call)
        finish = choice.get("finish_reason") or finish
    if chunk.get("usage"):
        events.append(_usage(chunk["usage"]))
    if finish:
        if finish == "sensitive":
            raise GlmContentFilteredError(
                "GLM's content filter stopped the reply; nothing was applied.",
                request_id=request_id,
            )
        if finish == "network_error":
            raise GlmStreamBrokenError(
                "GLM reported a network error mid-reply; nothing was applied.",
                request_id=request_id,
            )
        if finish == "model_context_window_exceeded" or (
            finish == "length" and not allow_truncated
        ):
            raise GlmLengthError(
                "GLM's reply was cut off (token limit or context window); nothing was applied. "
                "Select less code or raise the maxTokens setting.",
                request_id=request_id,
            )
        events.extend(assembler.drain())
        events.append(Finish(finish))
    return events


def _usage(u: object) -> Usage:
    """GLM's usage object; a count that is not a number reads as 0 (usage is for the ledger:
    it must never cost the user the reply it came with)."""
    usage = u if isinstance(u, dict) else {}
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    return Usage(
        prompt_tokens=_count(usage, "prompt_tokens"),
        completion_tokens=_count(usage, "completion_tokens"),
        total_tokens=_count(usage, "total_tokens"),
        cached_tokens=_count(prompt_details, "cached_tokens"),
        reasoning_tokens=_count(completion_details, "reasoning_tokens"),
    )


def _count(container: object, key: str) -> int:
    value = container.get(key) if isinstance(container, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        return 0
    return int(value) if value < 2**53 else 0


def _status_error(response: httpx.Response, body: bytes, cut: bool, request_id: str) -> GlmError:
    code: str | None = None
    message: str | None = None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        code = _str_or_none(error.get("code"))
        message = _clean(error.get("message"))
    elif isinstance(parsed, dict) and parsed.get("object") == "error":  # vLLM's own form
        code = _str_or_none(parsed.get("code"))
        message = _clean(parsed.get("message"))
    if tool_calling_off(message):  # vLLM started without --enable-auto-tool-choice
        return GlmStatusError(
            tool_calling_help(), status=response.status_code, code=code, request_id=request_id
        )
    if message is None and cut:
        message = f"an error body over {MAX_BODY_BYTES // 1024} KB, not read to the end"
    return error_from_response(
        response.status_code,
        code,
        message,
        response.headers.get("x-request-id") or request_id,
        _retry_after(response.headers.get("retry-after")),
    )


def _clean(message: object) -> str | None:
    """GLM's own words for a message: redacted first, then cut (a cut first could split the
    key into pieces that no longer match it)."""
    if message is None:
        return None
    text = redact(str(message))
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


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
