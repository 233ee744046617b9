"""The upstream fault cases, as data: ``test_upstream_faults.py`` drives each through the
real server for a code action, a completion and an agent run, and ``gen_fault_table.py``
renders them into docs/faults.md. Every run uses ``maxRetries: 1``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fake_glm import PLAN_LIMIT_MESSAGES, Reply, plan_limit

MAX_RETRIES = 1
FEATURES = ("refactor", "completion", "agent")


@dataclass(frozen=True)
class Fault:
    id: str
    upstream: str  # what the upstream does, for people
    replies: tuple[Reply, ...] = ()  # one per attempt
    attempts: int = 1  # requests the upstream receives (1 = no retry)
    message: str = ""  # what the user is told (a part of the one message)
    endpoint: str = "fake"  # fake | refused | bad-host | garbage
    settings: dict[str, Any] = field(default_factory=dict)
    retry_gap: tuple[float, float] | None = None  # seconds between the attempts
    only: tuple[str, ...] = FEATURES  # the features the case applies to
    # Per feature: a different message (the agent turns a bad tool call into a turn).
    messages: dict[str, str] = field(default_factory=dict)
    completion_offered: bool = False  # the completion still offers what arrived
    tool_result: str | None = None  # how the tool's answer the model gets back starts
    completion_attempts: int | None = None  # when completions see more than one request

    def message_for(self, feature: str) -> str:
        """A part of the one message; "" means the user is told nothing at all."""
        return self.messages.get(feature, self.message)

    def attempts_for(self, feature: str) -> int:
        # Completions never retry: a suggestion that comes a backoff later is useless. The
        # one exception is a stale connection, retried at once by every feature.
        if feature != "completion":
            return self.attempts
        if self.completion_attempts is not None:
            return self.completion_attempts
        return min(self.attempts, 1)


def twice(reply: Reply) -> tuple[Reply, ...]:
    return (reply, reply)


def status(code: int, business: str | None = None, **extra: Any) -> Reply:
    extra.setdefault("error_message", "scripted failure")
    return Reply(status=code, error_code=business, **extra)


def plan(code: str) -> tuple[Reply, ...]:
    return twice(plan_limit(code))


def finish(reason: str) -> Reply:
    return Reply(text="total", finish_reason=reason)


CODE = "def add(a, b):\n    return a + b\n"
NO_CHANGES = "made no changes"

FAULTS = [
    Fault("http-400", "HTTP 400 (code 1210)", twice(status(400, "1210")), 1, "HTTP 400"),
    Fault(
        "http-401", "HTTP 401 (code 1000)", twice(status(401, "1000")), 1, "rejected the API key"
    ),
    Fault("http-403", "HTTP 403", twice(status(403)), 1, "HTTP 403"),
    Fault("http-404", "HTTP 404", twice(status(404)), 1, "HTTP 404"),
    Fault(
        "http-429-retry-after",
        "HTTP 429 with Retry-After: 0.2",
        twice(status(429, "1302", headers={"Retry-After": "0.2"})),
        2,
        "rate limiting",
        retry_gap=(0.15, 0.45),
    ),
    Fault(
        "http-429",
        "HTTP 429 without Retry-After (exponential backoff)",
        twice(status(429, "1302")),
        2,
        "rate limiting",
        retry_gap=(0.45, 2.0),
    ),
    Fault(
        "code-1113", "HTTP 429, code 1113 (no balance)", twice(status(429, "1113")), 1, "no balance"
    ),
    Fault(
        "code-1308",
        "HTTP 429, code 1308 (plan usage limit; the message has the reset time)",
        plan("1308"),
        1,
        "reset at 2026-12-01 18:42:07",
    ),
    Fault(
        "code-1309",
        "HTTP 429, code 1309 (plan expired)",
        plan("1309"),
        1,
        PLAN_LIMIT_MESSAGES["1309"],
    ),
    Fault(
        "code-1310",
        "HTTP 429, code 1310 (weekly/monthly limit; the message has the reset time)",
        plan("1310"),
        1,
        "reset at 2026-12-07 00:00:00",
    ),
    Fault(
        "code-1311",
        "HTTP 429, code 1311 (model not in the plan)",
        plan("1311"),
        1,
        PLAN_LIMIT_MESSAGES["1311"],
    ),
    Fault(
        "code-1312",
        "HTTP 429, code 1312 (model busy)",
        plan("1312"),
        2,
        "rate limiting or overloaded",
    ),
    Fault(
        "code-1313",
        "HTTP 429, code 1313 (fair-use block)",
        plan("1313"),
        1,
        PLAN_LIMIT_MESSAGES["1313"],
    ),
    Fault(
        "code-1214",
        "HTTP 400, code 1214 (invalid parameter)",
        twice(status(400, "1214", error_message="Invalid temperature parameter")),
        1,
        "rejected a request parameter (code 1214) (Invalid temperature parameter)",
    ),
    Fault(
        "code-1261",
        "HTTP 400, code 1261 (prompt too long)",
        twice(status(400, "1261")),
        1,
        "too long",
    ),
    Fault(
        "code-1301",
        "HTTP 400, code 1301 (content filter)",
        twice(status(400, "1301")),
        1,
        "content filter",
    ),
    Fault("http-500", "HTTP 500", twice(status(500)), 2, "server error (HTTP 500)"),
    Fault("http-502", "HTTP 502", twice(status(502)), 2, "server error (HTTP 502)"),
    Fault("http-503", "HTTP 503", twice(status(503)), 2, "server error (HTTP 503)"),
    Fault("http-504", "HTTP 504", twice(status(504)), 2, "server error (HTTP 504)"),
    Fault("connect-refused", "connection refused", (), 0, "Cannot reach GLM", endpoint="refused"),
    Fault(
        "bad-host",
        "a host that never resolves (nonexistent.invalid)",
        (),
        0,
        "Cannot reach GLM",
        endpoint="bad-host",
    ),
    Fault(
        "read-timeout",
        "no first byte within requestTimeout (0.4 s)",
        twice(Reply(text=CODE, first_token_delay=1.5)),
        2,
        "did not answer in time",
        settings={"requestTimeout": 0.4},
    ),
    Fault(
        "not-http",
        "bytes that are not HTTP at all (a TLS alert) on the socket",
        (),
        2,
        "connection to GLM broke",
        endpoint="garbage",
    ),
    Fault(
        "garbage-body",
        "HTTP 200 with an HTML page instead of an event stream",
        twice(Reply(status=200, body="<html><body>502 Bad Gateway</body></html>")),
        2,
        "instead of an event stream",
    ),
    Fault(
        "disconnect-before-first-token",
        "connection closed before the first token",
        twice(Reply(text=CODE, disconnect_after=0)),
        2,
        "connection to GLM broke",
    ),
    Fault(
        "stale-connection",
        "a kept-alive connection closed before any byte of a response, on every attempt",
        (Reply(hang_up_unanswered=True),) * 3,
        3,  # the immediate retry, then the backoff retry that maxRetries: 1 allows
        "closed before any answer",
        completion_attempts=2,  # the immediate retry only
    ),
    Fault(
        "disconnect-after-first-token",
        "connection closed after the first token",
        twice(Reply(text=CODE, chunk_size=4, disconnect_after=2)),
        1,
        "nothing was applied",
    ),
    Fault(
        "sse-error-chunk",
        "an SSE `error` chunk after some text",
        twice(Reply(text="def ", error_chunk={"code": "1234", "message": "upstream exploded"})),
        1,
        "upstream exploded",
    ),
    Fault(
        "finish-length",
        "finish_reason `length`",
        twice(finish("length")),
        1,
        "cut off",
        messages={"completion": ""},
        completion_offered=True,  # a suggestion cut at completion.maxTokens is still one
    ),
    Fault(
        "finish-sensitive",
        "finish_reason `sensitive`",
        twice(finish("sensitive")),
        1,
        "content filter",
    ),
    Fault(
        "finish-network-error",
        "finish_reason `network_error`",
        twice(finish("network_error")),
        1,
        "network error",
    ),
    Fault(
        "finish-context-window",
        "finish_reason `model_context_window_exceeded`",
        twice(finish("model_context_window_exceeded")),
        1,
        "cut off",
    ),
    Fault(
        "tool-call-bad-json",
        "a tool call whose arguments are not JSON",
        (
            Reply(tool_calls=[{"name": "read_file", "arguments": '{"path": "calc.py'}]),
            Reply(text="I could not read it."),
        ),
        2,
        NO_CHANGES,
        only=("agent",),
        tool_result="error: ",
    ),
    Fault(
        "tool-call-unknown-tool",
        "a call to a tool that does not exist",
        (
            Reply(tool_calls=[{"name": "run_shell", "arguments": {"command": "rm -rf /"}}]),
            Reply(text="No shell, then."),
        ),
        2,
        NO_CHANGES,
        only=("agent",),
        tool_result="error: ",
    ),
    Fault(
        "empty-reply",
        "an empty reply (no text, finish_reason stop)",
        twice(Reply(text="")),
        1,
        "returned no code",
        messages={"agent": NO_CHANGES, "completion": ""},
    ),
]
