"""Streaming GLM chat client: one httpx.AsyncClient for the server's life, retries, cancel.

Knows nothing of LSP. ``stream_chat`` is an async generator of typed events; closing it (or
cancelling the task that iterates it) closes the HTTP response at once, which is how a
cancelled editor request stops the upstream generation. Use ``contextlib.aclosing`` when
breaking out of the loop early.
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
from httpx_sse import EventSource

from .dialects import Dialect, reasoning_delta, resolve_dialect, tool_calling_help, tool_calling_off
from .errors import (
    GlmConnectionError,
    GlmContentFilteredError,
    GlmError,
    GlmLengthError,
    GlmRateLimitError,
    GlmStatusError,
    GlmStreamBrokenError,
    GlmTimeoutError,
    error_from_response,
)
from .models import (
    ChatRequest,
    ChatResult,
    Finish,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)
from .usage import UsageLedger

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 30.0
MAX_BACKOFF = 8.0


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
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "text/event-stream, application/json",
            },
            # read= bounds the wait for each chunk, so a stalled stream times out too.
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=120),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def warm_up(self) -> None:
        """Open a pooled connection now so the first real request skips connect and TLS."""
        try:
            response = await self._http.get("models", timeout=5.0)
            await response.aclose()
        except httpx.HTTPError as exc:
            log.debug("warm-up request failed: %s", type(exc).__name__)

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
        keystroke is their retry)."""
        retries = self.max_retries if max_retries is None else max_retries
        payload = request.to_payload(stream=True, dialect=self.dialect)
        payload.setdefault("request_id", str(uuid.uuid4()))
        attempt = 0
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
        if isinstance(exc, GlmRateLimitError) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER)
        backoff = min(self.backoff_base * (2**attempt), MAX_BACKOFF)
        return backoff + random.uniform(0, backoff / 2)

    async def _one_stream(
        self, payload: dict[str, Any], allow_truncated: bool
    ) -> AsyncGenerator[StreamEvent, None]:
        request_id = str(payload.get("request_id"))
        produced = False  # a break before any event is a dropped connection: retryable
        try:
            async with self._http.stream(
                "POST", "chat/completions", content=_json_body(payload), headers=_JSON
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise _status_error(response, request_id)
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type:
                    # A proxy's HTML page or a wrong baseUrl: say so, not "cannot reach".
                    await response.aread()
                    raise GlmConnectionError(
                        f"{self.base_url} answered with {content_type or 'no content type'} "
                        "instead of an event stream (a proxy, or the wrong glm.baseUrl?); "
                        "nothing was applied.",
                        request_id=request_id,
                    )
                assembler = _ToolCallAssembler()
                finished = False
                async for sse in EventSource(response).aiter_sse():
                    data = sse.data
                    if not data or data == "[DONE]":
                        # Read on to the end of the body so the connection returns to the pool.
                        continue
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        log.debug("ignoring a non-JSON stream line (%d bytes)", len(data))
                        continue
                    for event in _chunk_events(chunk, assembler, request_id, allow_truncated):
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
        except httpx.TimeoutException as exc:
            raise GlmTimeoutError(
                f"GLM did not answer in time ({type(exc).__name__}).", request_id=request_id
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
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


def _chunk_events(
    chunk: dict[str, Any],
    assembler: _ToolCallAssembler,
    request_id: str,
    allow_truncated: bool,
) -> list[StreamEvent]:
    if "error" in chunk:
        error = chunk.get("error") or {}
        raise error_from_response(
            200, _str_or_none(error.get("code")), error.get("message"), request_id, None
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
        u = chunk["usage"]
        events.append(
            Usage(
                prompt_tokens=int(u.get("prompt_tokens") or 0),
                completion_tokens=int(u.get("completion_tokens") or 0),
                total_tokens=int(u.get("total_tokens") or 0),
            )
        )
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


def _status_error(response: httpx.Response, request_id: str) -> GlmError:
    code: str | None = None
    message: str | None = None
    try:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = _str_or_none(error.get("code"))
            message = _str_or_none(error.get("message"))
    except ValueError:
        pass
    if tool_calling_off(message):  # vLLM started without --enable-auto-tool-choice
        return GlmStatusError(
            tool_calling_help(), status=response.status_code, code=code, request_id=request_id
        )
    return error_from_response(
        response.status_code,
        code,
        message[:300] if message else None,
        response.headers.get("x-request-id") or request_id,
        _retry_after(response.headers.get("retry-after")),
    )


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
