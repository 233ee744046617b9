"""A scripted, OpenAI-compatible GLM server on 127.0.0.1 — real sockets, real SSE.

Tests script it per request with :class:`Reply` (text, reasoning, tool calls split across
chunks, usage, error statuses with GLM bodies and headers, delays, mid-stream disconnects,
garbage lines) and read back what it received from ``fake.requests``: headers, JSON body, and
whether and when the client closed the stream early.

By hand: ``python tests/fake_glm.py --script replies.json [--port 8765]`` serves the replies
in order (the last one repeats) so a person can try glm-lsp without a key; it prints the
environment to use (``--help`` describes the script)::

    export GLM_LSP_BASE_URL=http://127.0.0.1:8765/api/paas/v4/
    export BIGMODEL_API_KEY=fake-glm-key.not-a-real-secret
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import errno
import gzip
import json
import select
import socket
import struct
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BASE_PATH = "/api/paas/v4/"
VLLM_BASE_PATH = "/v1/"  # where vLLM and SGLang serve the OpenAI API
# vLLM's answer when started without --enable-auto-tool-choice (vllm/entrypoints/openai).
VLLM_TOOL_CHOICE_REFUSAL = (
    '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
)


@dataclass
class Reply:
    """One scripted answer to one chat/completions request."""

    text: str = ""
    reasoning: str = ""
    chunks: list[str] | None = None  # explicit content chunks (else text split by chunk_size)
    chunk_size: int = 8
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # {"name", "arguments", "id"?}
    finish_reason: str | None = None  # default: "tool_calls" with tool calls, else "stop"
    usage: dict[str, Any] | None = None  # sent as is (else counted, with GLM's details)
    cached_tokens: int = 0  # usage.prompt_tokens_details.cached_tokens of the counted usage
    status: int = 200
    error_code: str | None = None  # GLM business code for the error body
    error_message: str = "scripted error"
    body: str | None = None  # raw response body (overrides the error body)
    headers: dict[str, str] = field(default_factory=dict)
    first_token_delay: float = 0.0
    chunk_delay: float = 0.0
    disconnect_after: int | None = None  # close the socket after N data chunks
    garbage: bool = False  # interleave comment lines, blank events and a non-JSON line
    error_chunk: dict[str, Any] | None = None  # an SSE {"error": ...} chunk instead of finishing
    raw_events: list[str] | None = None  # explicit SSE data payloads (no [DONE] added)
    close_without_done: bool = False  # end the response with no finish and no [DONE]
    # Close the connection after reading the request, before any byte of a response (what a
    # server does to a kept-alive connection it has just timed out).
    hang_up_unanswered: bool = False
    # -- the service as it behaves now (DESIGN.md "GLM as the service behaves now") --------
    content_type: str | None = None  # of a raw `body` (default text/plain): text/html for a page
    chunk_id: str = "chatcmpl-fake"  # the chunks' id (GLM's are not always chatcmpl-...)
    omit_finish_key: bool = False  # chunks before the last carry no finish_reason key at all
    usage_alone: bool = False  # usage in a chunk of its own with `choices: []` after the finish
    whole_tool_calls: bool = False  # each tool call whole in one chunk (id, name, arguments)
    glued_frame: int | None = None  # frame N arrives cut short, glued on one line to its copy
    error_event: str | None = None  # an `event: error` frame with this message instead of a finish
    # Send the 200 event-stream headers, then reset the connection (SO_LINGER 0, close: a TCP
    # RST, what a crashing server or a proxy's timeout sends): answered, then broken.
    reset_after_headers: bool = False
    reset_unanswered: bool = False  # a TCP reset after reading the request, before any answer
    hostile: str | None = None  # one of HOSTILE: a body streamed lazily, never held in memory
    hostile_bytes: int = 2 * 2**30  # its size (error-body, html-body, long-line)
    hostile_depth: int = 200_000  # JSON nesting (deep-line, deep-tool-arguments)


# What a hostile upstream can send, each streamed lazily (a 2 GB body costs the fake 64 KB).
HOSTILE = (
    "error-body",  # HTTP 500, JSON content type, hostile_bytes long
    "html-body",  # HTTP 200 text/html, hostile_bytes long
    "endless-line",  # an event stream whose `data:` line never ends (cut at hostile_bytes)
    "long-line",  # one `data:` line of hostile_bytes, then a normal end
    "deep-line",  # a line of JSON nested hostile_depth deep, then the reply
    "deep-tool-arguments",  # a tool call whose arguments nest hostile_depth deep
    "gzip-bomb",  # an event stream sent `Content-Encoding: gzip, gzip`: inflates to hostile_bytes
    "gzip-bomb-error",  # the same as an HTTP 500 JSON error body
)

# GLM's plan and quota refusals (HTTP 429), in the words of its messages, with a reset time.
PLAN_LIMIT_MESSAGES = {
    "1308": "Usage limit reached for 5 hour. Your limit will reset at 2026-12-01 18:42:07",
    "1309": "Your GLM Coding Plan package has expired, please renew to continue",
    "1310": "Weekly/Monthly Limit Exhausted. Your limit will reset at 2026-12-07 00:00:00",
    "1311": "The current plan does not include access to model glm-5.1",
    "1312": "The model is currently busy, please try again later",
    "1313": "Your account has been restricted under the Fair Use Policy",
    # Rate limits that clear by themselves: glm-lsp backs off from 30 s.
    "1302": "High concurrency usage of this API, please reduce concurrency or contact customer "
    "service to increase limits",
    "1305": "The service may be temporarily overloaded, please try again later",
    # Newer plan and quota codes: glm-lsp treats them as 1308-1313 (not retried).
    **{
        str(code): f"Plan restriction {code} (a scripted message: GLM words each code its own way)"
        for code in range(1314, 1322)
    },
}

# The always-thinking model's refusal of thinking: {"type": "disabled"} (HTTP 400, code 1210).
ALWAYS_THINKING_REFUSAL = (
    "The model glm-5.3 always engages in thinking and cannot be disabled; please use low, high, "
    "or max for reasoning_effort"
)
ALWAYS_THINKING_REASONING = "The user wants code. Let me think it through first."

# Error bodies as the service and the gateways in front of it send them.
ERROR_SHAPES: dict[str, tuple[int, str, str]] = {
    # GLM's usual shape: the code a string inside "error".
    "nested": (
        400,
        "application/json",
        '{"error": {"code": "1214", "message": "Invalid temperature parameter"}}',
    ),
    # A numeric code at the top level.
    "top-level": (
        401,
        "application/json",
        '{"code": 1001, "message": "Authentication parameter not received in Header", '
        '"success": false}',
    ),
    # Spring Boot's default 404 when the path is wrong (no /api/paas/v4/).
    "spring-404": (
        404,
        "application/json",
        '{"timestamp": "2026-12-01T10:42:07.000+00:00", "status": 404, '
        '"error": "Not Found", "path": "/v4/chat/completions"}',
    ),
    # A gateway's web page.
    "html-405": (
        405,
        "text/html",
        "<html><head><title>405 Not Allowed</title></head><body><center>"
        "<h1>405 Not Allowed</h1></center><hr><center>nginx</center></body></html>",
    ),
    # A message in Chinese ("the API key is wrong or expired").
    "chinese": (
        401,
        "application/json",
        '{"error": {"code": "1002", "message": "令牌已过期或验证不正确"}}',
    ),
}


def error_shape(kind: str) -> Reply:
    """A reply whose error body has one of the :data:`ERROR_SHAPES`."""
    status, content_type, body = ERROR_SHAPES[kind]
    return Reply(status=status, body=body, content_type=content_type)


# The Coding Plan's quota, as GET /api/monitor/usage/quota/limit answers it: the 5-hour
# window (unit 3, number 5), the week (unit 6, number 1), and the monthly tool allowance.
QUOTA_5H_RESET_MS = 1_796_121_727_000  # 2026-12-01 18:42:07 UTC+8
QUOTA_WEEK_RESET_MS = 1_796_572_800_000  # 2026-12-07 00:00:00 UTC+8


def quota_answer(five_hour: float = 42.0, weekly: float = 17.0) -> dict[str, Any]:
    limits = [
        {
            "type": "TOKENS_LIMIT",
            "unit": 3,
            "number": 5,
            "percentage": five_hour,
            "nextResetTime": QUOTA_5H_RESET_MS,
        },
        {
            "type": "TOKENS_LIMIT",
            "unit": 6,
            "number": 1,
            "percentage": weekly,
            "nextResetTime": QUOTA_WEEK_RESET_MS,
        },
        {
            "type": "TIME_LIMIT",
            "unit": 5,
            "number": 1,
            "usage": 1000,
            "currentValue": 3,
            "remaining": 997,
            "percentage": 0,
            "nextResetTime": QUOTA_WEEK_RESET_MS,
        },
    ]
    return {
        "code": 200,
        "msg": "Operation successful",
        "success": True,
        "data": {"limits": limits, "level": "pro"},
    }


def plan_limit(code: str, **extra: Any) -> Reply:
    """GLM's 429 for a plan/quota code (1308-1313), its message as GLM words it."""
    return Reply(status=429, error_code=code, error_message=PLAN_LIMIT_MESSAGES[code], **extra)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    started_at: float
    raw: bytes = b""  # the body exactly as sent (golden tests compare bytes)
    finished_at: float | None = None
    closed_early: bool = False
    closed_at: float | None = None
    chunks_sent: int = 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def text(self) -> str:
        """Every message's content joined: what the model was shown."""
        return "\n".join(str(m.get("content") or "") for m in self.messages)


class _ClientGone(Exception):
    pass


class FakeGlm:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, dialect: str = "zai") -> None:
        # "zai": GLM's API. "vllm": vLLM's OpenAI server: /v1/, delta.reasoning, usage only
        # when stream_options asks, top-level {"object": "error"} bodies.
        self.dialect = dialect
        self.models = ["glm-5.1"]  # what GET .../models lists
        self.models_reply: Reply | None = None  # else this answers GET .../models (status, body)
        self.auto_tool_choice = True  # False: refuse tool_choice "auto" as vLLM does unflagged
        # An always-thinking model (GLM-5.3 behind glm-5.1 on the Coding Plan): "refuse" answers
        # thinking {"type": "disabled"} with 400 / 1210 (the pay-per-token API); "ignore" thinks
        # anyway (the Coding Plan). Only for the models in always_thinking_models (None: all).
        self.always_thinking: str | None = None
        self.always_thinking_models: set[str] | None = None
        # GET /api/monitor/usage/quota/limit: this answer, or quota_status with an error body.
        self.quota: dict[str, Any] = quota_answer()
        self.quota_status = 200
        self._replies: deque[Reply] = deque()
        self.default_reply = Reply(text="OK")
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        # Answers some requests before the queue does (None: not this one); the command line
        # answers `glm-lsp doctor`'s probes so that they use up no scripted reply.
        self.answer_first: Callable[[dict[str, Any]], Reply | None] | None = None
        self.requests: list[RecordedRequest] = []
        self.other_requests: list[str] = []
        self.other_headers: list[dict[str, str]] = []  # headers of each of other_requests
        self.open_connections = 0
        self.max_open_connections = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._server = _Server((host, port), _make_handler(self))
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        base = VLLM_BASE_PATH if self.dialect == "vllm" else BASE_PATH
        return f"http://127.0.0.1:{self.port}{base}"

    def start(self) -> FakeGlm:
        # stop() waits for serve_forever's next poll: 0.05 s, not the default 0.5 s per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGlm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------
    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self.requests.clear()
            self.other_requests.clear()
            self.other_headers.clear()
            self.responder = None
            self.models_reply = None

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        first = self.answer_first(body) if self.answer_first is not None else None
        if first is not None:
            return first
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        if self.responder is not None:
            return self.responder(body)
        return self.default_reply

    # -- observing ---------------------------------------------------------------------------
    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.05))
        return True

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        return self.wait_for(lambda: len(self.requests) >= count, timeout)

    def wait_closed(self, index: int = -1, timeout: float = 5.0) -> bool:
        """Wait until request ``index`` ended early because the client closed it."""
        return self.wait_for(
            lambda: bool(self.requests) and self.requests[index].closed_early, timeout
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: with 60 concurrent connects on a busy
    # machine the kernel drops the overflow and the client sees resets a real API never sends.
    request_queue_size = 256

    def get_request(self) -> tuple[socket.socket, Any]:
        # As real SSE servers do: no Nagle hold on the last small chunk, which otherwise waits
        # for the client's delayed ACK (~40 ms) at the end of every reply.
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response is a scripted case, not a failure.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _make_handler(fake: FakeGlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, chunked streaming

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def setup(self) -> None:
            super().setup()
            with fake._lock:
                fake.open_connections += 1
                fake.max_open_connections = max(fake.max_open_connections, fake.open_connections)

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                with fake._lock:
                    fake.open_connections -= 1
                fake._notify()

        def do_GET(self) -> None:
            fake.other_headers.append({k.lower(): v for k, v in self.headers.items()})
            fake.other_requests.append(self.path)
            fake._notify()
            if self.path.split("?")[0] == QUOTA_PATH:
                if fake.quota_status != 200:
                    self._send_json(fake.quota_status, {"code": 500, "msg": "system busy"})
                else:
                    self._send_json(200, fake.quota)
            elif self.path.rstrip("/").endswith("/models") and fake.models_reply:
                scripted = fake.models_reply
                if scripted.body is not None:
                    self._send_raw(scripted.status, scripted.body, scripted.headers)
                else:
                    error = _error_body(
                        fake.dialect, scripted.status, scripted.error_code, scripted.error_message
                    )
                    self._send_json(scripted.status, error, scripted.headers)
            elif self.path.rstrip("/").endswith("/models"):
                models = [{"id": m, "object": "model", "owned_by": "fake"} for m in fake.models]
                self._send_json(200, {"object": "list", "data": models})
            else:
                self._send_json(404, {"error": {"code": "404", "message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send_json(400, {"error": {"code": "1210", "message": "bad JSON"}})
                return
            if not self.path.endswith("/chat/completions"):
                self._send_json(404, {"error": {"code": "404", "message": "not found"}})
                return
            record = RecordedRequest(
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                started_at=time.monotonic(),
                raw=raw,
            )
            fake._record(record)
            reply = self._refusal(body) or fake._next_reply(body)
            if _thinks_always(fake, body) and not reply.reasoning and reply.status == 200:
                # It thinks whatever the request said (refused or ignored the switch).
                reply = dataclasses.replace(reply, reasoning=ALWAYS_THINKING_REASONING)
            try:
                self._answer(body, reply, record)
            except (_ClientGone, BrokenPipeError, ConnectionResetError):
                record.closed_early = True
                record.closed_at = record.closed_at or time.monotonic()
                self.close_connection = True
            finally:
                record.finished_at = time.monotonic()
                fake._notify()

        # -- answers -------------------------------------------------------------------------
        def _refusal(self, body: dict[str, Any]) -> Reply | None:
            """vLLM without tool parsing refuses tool_choice "auto" before any generation; an
            always-thinking model on the pay-per-token API refuses to switch thinking off."""
            refuses = _thinks_always(fake, body) and fake.always_thinking == "refuse"
            if refuses and _thinking_disabled(body):
                return Reply(status=400, error_code="1210", error_message=ALWAYS_THINKING_REFUSAL)
            if fake.auto_tool_choice or body.get("tool_choice") != "auto":
                return None
            return Reply(status=400, error_message=VLLM_TOOL_CHOICE_REFUSAL)

        def _answer(self, body: dict[str, Any], reply: Reply, record: RecordedRequest) -> None:
            if reply.hang_up_unanswered:
                self._hang_up()
                return
            if reply.reset_unanswered:
                self._reset()
                return
            if reply.hostile is not None:
                self._send_hostile(body, reply, record)
                return
            if reply.status != 200 or reply.body is not None:
                self._wait(reply.first_token_delay, record)
                if reply.body is not None:
                    content_type = reply.content_type or "text/plain"
                    self._send_raw(reply.status, reply.body, reply.headers, content_type)
                else:
                    # "{key}" in the message: echo the key, as some servers quote a bad one.
                    key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    message = reply.error_message.replace("{key}", key)
                    error = _error_body(fake.dialect, reply.status, reply.error_code, message)
                    self._send_json(reply.status, error, reply.headers)
                return
            if not body.get("stream"):
                self._wait(reply.first_token_delay, record)
                self._send_json(200, _completion_object(body, reply), reply.headers)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.reset_after_headers:
                self._reset()
                return
            self._wait(reply.first_token_delay, record)
            events = _stream_events(body, reply, fake.dialect)
            for index, payload in enumerate(events):
                if reply.disconnect_after is not None and index >= reply.disconnect_after:
                    self._hang_up()
                    return
                if index and reply.chunk_delay:
                    self._wait(reply.chunk_delay, record)
                if reply.garbage and index == 1:
                    self._write(b": keep-alive comment\n\ndata: {not json\n\n\n")
                if reply.glued_frame == index:
                    # The frame cut short, then the whole frame on the same line (GLM's damage).
                    cut = payload[: len(payload) // 2]
                    self._write(f"data: {cut}data: {payload}\n\n".encode())
                else:
                    self._write(f"data: {payload}\n\n".encode())
                record.chunks_sent += 1
            if reply.error_event is not None:
                error = json.dumps({"code": "500", "message": reply.error_event})
                self._write(f"event: error\ndata: {error}\n\n".encode())
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _send_hostile(
            self, body: dict[str, Any], reply: Reply, record: RecordedRequest
        ) -> None:
            kind, size, depth = reply.hostile, reply.hostile_bytes, reply.hostile_depth
            if kind in ("gzip-bomb", "gzip-bomb-error"):
                bomb = gzip_bomb(size)
                status, content_type = (
                    (200, "text/event-stream") if kind == "gzip-bomb" else (500, "application/json")
                )
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Encoding", "gzip, gzip")
                self.send_header("Content-Length", str(len(bomb)))
                self.end_headers()
                self.wfile.write(bomb)
                self.wfile.flush()
                return
            if kind in ("error-body", "html-body"):
                status, content_type = (
                    (500, "application/json") if kind == "error-body" else (200, "text/html")
                )
                head = b'{"error": {"code": "500", "message": "' if status == 500 else b"<html>"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                self.wfile.write(head)
                _write_filler(self.wfile, size - len(head))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()  # no length, no chunking: the body ends when the socket closes
            out = self.wfile
            if kind in ("endless-line", "long-line"):
                out.write(b'data: {"choices": [{"index": 0, "delta": {"content": "')
                # "Endless" stops at hostile_bytes all the same (2 GB by default, far past any
                # bound of ours): failure traffic stays bounded even if the client never hangs up.
                _write_filler(out, size)
                if kind == "endless-line":
                    out.flush()
                    self.close_connection = True
                    return
                out.write(b'"}}]}\n\n')
            elif kind == "deep-line":
                out.write(b"data: " + b"[" * depth + b"]" * depth + b"\n\n")
            elif kind == "deep-tool-arguments":
                arguments = '{"path": ' + "[" * depth + "]" * depth + "}"
                call = {"name": "read_file", "arguments": arguments, "id": "call_deep"}
                reply = Reply(tool_calls=[call])
            else:
                raise ValueError(f"unknown hostile reply {kind!r}")
            if kind != "deep-tool-arguments":
                reply = Reply(text=reply.text or "x = 1\n")
            for payload in _stream_events(body, reply):
                out.write(f"data: {payload}\n\n".encode())
                record.chunks_sent += 1
            out.flush()
            self.close_connection = True

        def _wait(self, seconds: float, record: RecordedRequest) -> None:
            """Sleep, but notice at once when the client closes the connection."""
            if seconds <= 0:
                return
            readable, _, _ = select.select([self.connection], [], [], seconds)
            if readable:
                try:
                    data = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    data = b""
                if not data:
                    record.closed_at = time.monotonic()
                    raise _ClientGone

        def _write(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _reset(self) -> None:
            self.wfile.flush()
            linger = struct.pack("ii", 1, 0)  # on, 0 s: close() sends an RST, not a FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            self.connection.close()
            self.close_connection = True

        def _hang_up(self) -> None:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

        def _send_json(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            self._send_raw(status, json.dumps(payload), headers or {}, "application/json")

        def _send_raw(
            self,
            status: int,
            text: str,
            headers: dict[str, str],
            content_type: str = "text/plain",
        ) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

    return Handler


QUOTA_PATH = "/api/monitor/usage/quota/limit"


def _thinks_always(fake: FakeGlm, body: dict[str, Any]) -> bool:
    models = fake.always_thinking_models
    return fake.always_thinking is not None and (models is None or body.get("model") in models)


def _thinking_disabled(body: dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    kwargs = body.get("chat_template_kwargs")
    return (isinstance(thinking, dict) and thinking.get("type") == "disabled") or (
        isinstance(kwargs, dict) and kwargs.get("enable_thinking") is False
    )


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(size: int) -> bytes:
    """``size`` bytes of `data: ` filler, gzipped twice (a 1 GB bomb is a few KB on the wire);
    made once per size, 1 MB at a time."""
    if size not in _BOMBS:
        inner = zlib.compressobj(1, zlib.DEFLATED, 31)
        block = b"data: " + b"A" * (2**20 - 6)
        parts = [inner.compress(block) for _ in range(max(1, size // len(block)))]
        once = b"".join(parts) + inner.flush()
        _BOMBS[size] = gzip.compress(once, 9)
    return _BOMBS[size]


_FILLER = b"A" * 65536


def _write_filler(out: Any, size: int) -> None:
    """``size`` bytes of filler, 64 KB at a time; stops with BrokenPipeError or
    ConnectionResetError when the client hangs up."""
    left = size
    while left > 0:
        piece = _FILLER if left >= len(_FILLER) else _FILLER[:left]
        out.write(piece)
        left -= len(piece)
    out.flush()


def _split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(1, size))]


def _error_body(dialect: str, status: int, code: str | None, message: str) -> dict[str, Any]:
    if dialect == "vllm":  # vLLM's ErrorResponse: top level, its code is the HTTP status
        kind = "BadRequestError" if status < 500 else "InternalServerError"
        return {"object": "error", "message": message, "type": kind, "param": None, "code": status}
    return {"error": {"code": code or str(status), "message": message}}


def _stream_events(body: dict[str, Any], reply: Reply, dialect: str = "zai") -> list[str]:
    """The SSE data payloads of a streamed reply, ``[DONE]`` last."""
    if reply.raw_events is not None:
        return list(reply.raw_events)
    model = str(body.get("model", "glm-5.1"))
    base = {"id": reply.chunk_id, "object": "chat.completion.chunk", "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        choice: dict[str, Any] = {"index": 0, "delta": delta}
        if finish is not None or not reply.omit_finish_key:
            choice["finish_reason"] = finish
        return json.dumps({**base, "choices": [choice], **extra})

    events: list[str] = []
    for piece in _split(reply.reasoning, reply.chunk_size) if reply.reasoning else []:
        field = "reasoning" if dialect == "vllm" else "reasoning_content"
        events.append(chunk({"role": "assistant", field: piece}))
    content = reply.chunks if reply.chunks is not None else _split(reply.text, reply.chunk_size)
    for piece in content:
        events.append(chunk({"role": "assistant", "content": piece}))
    for index, call in enumerate(reply.tool_calls):
        arguments = call.get("arguments", {})
        text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        call_id = call.get("id", f"call_{len(events)}_{index}")
        head = {"index": index, "id": call_id, "type": "function"}
        if reply.whole_tool_calls:
            whole = {**head, "function": {"name": call["name"], "arguments": text}}
            events.append(chunk({"role": "assistant", "tool_calls": [whole]}))
            # GLM repeats the id and the name in the call's closing chunk.
            again = {**head, "function": {"name": call["name"], "arguments": ""}}
            events.append(chunk({"role": "assistant", "tool_calls": [again]}))
            continue
        events.append(
            chunk({"tool_calls": [{**head, "function": {"name": call["name"], "arguments": ""}}]})
        )
        half = max(1, len(text) // 2)
        for piece in (text[:half], text[half:]):
            if piece:
                events.append(
                    chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                )
    if reply.error_chunk is not None:
        events.append(json.dumps({"error": reply.error_chunk}))
        return events
    if reply.close_without_done or reply.error_event is not None:
        return events
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    usage = _usage(body, reply, len(content))
    if reply.usage_alone:
        events.append(chunk({"role": "assistant"}, finish))
        events.append(json.dumps({**base, "choices": [], "usage": usage}))
    elif dialect != "vllm":
        events.append(chunk({}, finish, usage=usage))
    else:  # usage only when asked, in a last chunk of its own with no choices
        events.append(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(json.dumps({**base, "choices": [], "usage": usage}))
    events.append("[DONE]")
    return events


def _usage(body: dict[str, Any], reply: Reply, completion_chunks: int) -> dict[str, Any]:
    if reply.usage is not None:
        return reply.usage
    prompt = max(1, len(json.dumps(body.get("messages", []))) // 4)
    reasoning = len(_split(reply.reasoning, reply.chunk_size)) if reply.reasoning else 0
    completion = completion_chunks + len(reply.tool_calls) * 8 + reasoning
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        # As GLM reports them: prompt-cache hits and the thinking share of the reply.
        "prompt_tokens_details": {"cached_tokens": min(reply.cached_tokens, prompt)},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def _completion_object(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.get("id", f"call_{i}"),
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": call["arguments"]
                    if isinstance(call.get("arguments"), str)
                    else json.dumps(call.get("arguments", {})),
                },
            }
            for i, call in enumerate(reply.tool_calls)
        ]
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": body.get("model", "glm-5.1"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _usage(body, reply, len(_split(reply.text, reply.chunk_size))),
    }


class ScriptError(ValueError):
    """The --script file cannot be used; the message is the one line shown."""


def _replies_from_file(path: str) -> list[Reply]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise ScriptError(f"cannot read the script {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ScriptError(f"the script {path} is not valid JSON: {exc}") from None
    items = data if isinstance(data, list) else [data]
    known = {f.name for f in dataclasses.fields(Reply)}
    replies = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            replies.append(Reply(text=str(item)))
            continue
        unknown = sorted(set(item) - known)
        if unknown:
            near = difflib.get_close_matches(unknown[0], sorted(known), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ScriptError(f"reply {number} of {path}: unknown field {unknown[0]!r}{hint}")
        replies.append(Reply(**item))
    return replies


# A key of the shape `glm-lsp doctor` accepts (<id>.<secret>) that no one would take for a real one.
FAKE_KEY = "fake-glm-key.not-a-real-secret"

SCRIPT_HELP = """\
The script is a JSON list of replies, served in order, one per chat/completions request; the
last one repeats for every later request. `glm-lsp doctor`'s probes are answered apart and use
up none of them. A reply is a string (the text) or an object with the
fields of Reply: text, reasoning, tool_calls ([{"name", "arguments"}]), status, error_code,
error_message, headers, first_token_delay, chunk_delay, chunk_size, disconnect_after, usage.

GLM as the service behaves now (each a Reply field unless said otherwise):
  finish_reason       any string: "length" (with "reasoning" and empty "text": thinking used
                      up max_tokens), "network_error", "sensitive",
                      "model_context_window_exceeded", or one GLM has not documented
  first_token_delay   seconds before the first token (GLM can take minutes on a big prompt)
  omit_finish_key     chunks before the last carry no finish_reason key
  usage_alone         usage in its own chunk with "choices": [] after the finish chunk;
                      "usage" sets it as is (e.g. without completion_tokens, or all zeros)
  chunk_id            the chunks' id (GLM's are not always chatcmpl-...)
  whole_tool_calls    each tool call whole in one chunk, keyed by index; a closing chunk
                      repeats its id and name
  glued_frame         N: frame N arrives cut short, glued on one line to its intact copy
  error_chunk         {"code", "message"}: a `data: {"error": ...}` frame after the text
  error_event         "message": an `event: error` frame after the text, no finish
  status, error_code  e.g. 429 with "1302" or "1305" (back off), "1308" (with its reset time
                      in UTC+8), "1314".."1321" (plan codes)
  body, content_type  a raw error body: GLM's {"error": {"code": "1214", ...}}, a top-level
                      {"code": 1001, "message": ...}, Spring's 404 JSON, an HTML page with 405
                      (content_type "text/html"), a message in Chinese
  hostile             "gzip-bomb" / "gzip-bomb-error": Content-Encoding "gzip, gzip" that
                      inflates to hostile_bytes (a stream, or an HTTP 500 body)
  reset_after_headers true: the 200 headers, then a TCP reset (answered, then broken)
  reset_unanswered    true: a TCP reset before any byte of an answer (a stale connection)
Server-wide options: --always-thinking refuse|ignore (the model always thinks: refuse
thinking disabled with 400 / 1210 listing low, high, max, or ignore it and think anyway);
--quota-fails (GET /api/monitor/usage/quota/limit answers 500; otherwise it answers
{code, msg, success, data: {limits: [{type: "TOKENS_LIMIT", unit, number, percentage,
nextResetTime}, ...]}} for the 5-hour window and the week).
Example replies.json — a refactor, then an agent turn that edits a file, then its summary:

  [
    "```python\\ndef total(values):\\n    return sum(values)\\n```",
    {"tool_calls": [{"name": "edit_file", "arguments":
        {"path": "calc.py", "old_text": "a + b", "new_text": "b + a"}}]},
    {"text": "Swapped the operands.", "reasoning": "The user wants...", "first_token_delay": 2}
  ]

On stdout it prints the environment that points glm-lsp at it, one `export VAR=value` a
line: paste them into the shell that runs `glm-lsp doctor` or starts your editor.
"""


def doctor_probe_reply(body: dict[str, Any]) -> Reply | None:
    """The answer to one of `glm-lsp doctor`'s probes, else None: a user's first refactor
    after doctor then gets the script's first reply, as the README says."""
    from glm_lsp.doctor import COMPLETION_PROBE_PROMPT, PING_PROMPT

    messages = body.get("messages") or []
    last = messages[-1].get("content") if messages and isinstance(messages[-1], dict) else None
    if last == PING_PROMPT:
        return Reply(text="pong")
    if last == COMPLETION_PROBE_PROMPT:
        return Reply(text="a + b")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Serve scripted GLM replies on 127.0.0.1, so glm-lsp runs without a key.",
        epilog=SCRIPT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--script", help="JSON list of replies (see below); the last one repeats")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    parser.add_argument(
        "--always-thinking",
        choices=("refuse", "ignore"),
        help="the model always thinks: refuse thinking disabled (400 / 1210), or ignore it",
    )
    parser.add_argument(
        "--quota-fails", action="store_true", help="the plan's quota endpoint answers HTTP 500"
    )
    args = parser.parse_args(argv)
    try:
        replies = _replies_from_file(args.script) if args.script else [Reply(text="OK")]
    except ScriptError as exc:
        parser.exit(2, f"fake_glm: {exc}\n")
    try:
        fake = FakeGlm(port=args.port)
    except OSError as exc:
        why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        parser.exit(2, f"fake_glm: port {args.port} {why}; choose another with --port (0: any)\n")
    fake.answer_first = doctor_probe_reply
    fake.always_thinking = args.always_thinking
    if args.quota_fails:
        fake.quota_status = 500
    fake.default_reply = replies[-1]
    fake.enqueue(*replies[:-1])
    fake.start()
    # stdout: exactly the environment to use (glm-lsp doctor passes with it); stderr: prose.
    print(f"export GLM_LSP_BASE_URL={fake.url}", flush=True)
    print(f"export BIGMODEL_API_KEY={FAKE_KEY}", flush=True)
    print(f"fake GLM at {fake.url} (Ctrl-C to stop). With the environment above:", file=sys.stderr)
    print("  glm-lsp doctor     # then start your editor from this shell", file=sys.stderr)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
