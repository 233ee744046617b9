"""The upstream fault cases, as data: ``test_upstream_faults.py`` drives each through the
real server for a code action, a completion and an agent run, and ``gen_fault_table.py``
renders them into docs/faults.md. Every run uses ``maxRetries: 1``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fake_glm import PLAN_LIMIT_MESSAGES, Reply, error_shape, plan_limit

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
        twice(status(429)),
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
        "no first byte within firstTokenTimeout (completions: requestTimeout), 0.4 s",
        twice(Reply(text=CODE, first_token_delay=1.5)),
        2,
        "did not answer in time",
        settings={"requestTimeout": 0.4, "firstTokenTimeout": 0.4},
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
        "finish_reason `network_error` after some text (sent again: nothing was applied)",
        twice(finish("network_error")),
        2,
        "network error",
    ),
    Fault(
        "finish-context-window",
        "finish_reason `model_context_window_exceeded`",
        twice(finish("model_context_window_exceeded")),
        1,
        "too large for GLM's context window",
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


# -- GLM as the service behaves now (DESIGN.md, "Contract, third round") ----------------------
# Each runs through the real server (tests/robustness/test_service_cases.py), which checks the
# request count, the `thinking` and `reasoning_effort` of each body the fake received, the one
# message, the progress shown, and what the edit (or suggestion) carries: nothing when it fails.

NEW_CODE = "def add(a: int, b: int) -> int:\n    return a + b\n"
REFACTOR_REPLY = f"```python\n{NEW_CODE}```"
ON, OFF, NONE = "enabled", "disabled", "—"
NO_THINKING = {"actions": {"thinking": False}}
TEXT_CHUNKS = -(-len(REFACTOR_REPLY) // 8)  # the frames of text; the finish frame is next


@dataclass(frozen=True)
class ServiceCase:
    id: str
    upstream: str  # what the service does, for people
    feature: str  # refactor | completion | agent | status
    replies: tuple[Reply, ...] = ()
    bodies: tuple[tuple[str, str], ...] = ((ON, NONE),)  # per request: thinking, effort
    told: str = ""  # a part of the one message; "" = nothing shown
    progress: str | None = None  # a part of a progress report the user saw
    applies: str | None = None  # what the edit / suggestion carries; None = nothing
    settings: dict[str, Any] = field(default_factory=dict)
    fake: dict[str, Any] = field(default_factory=dict)  # FakeGlm attributes for the case
    cancel_on_progress: bool = False  # the user cancels once `progress` shows
    coding_plan: bool = False  # the base URL is the Coding Plan's
    tool_result: str | None = None  # how the agent's tool answer to the model starts

    @property
    def attempts(self) -> int:
        return len(self.bodies)


def refactor(case_id: str, upstream: str, *replies: Reply, **kw: Any) -> ServiceCase:
    return ServiceCase(case_id, upstream, "refactor", replies, **kw)


def completion(case_id: str, upstream: str, *replies: Reply, **kw: Any) -> ServiceCase:
    kw.setdefault("bodies", ((OFF, NONE),))
    return ServiceCase(case_id, upstream, "completion", replies, **kw)


def error_body(kind: str, told: str) -> ServiceCase:
    return refactor(f"body-{kind}", ERROR_SHAPE_TEXT[kind], error_shape(kind), told=told)


ERROR_SHAPE_TEXT = {
    "nested": 'HTTP 400 `{"error": {"code": "1214", "message": …}}`',
    "top-level": 'HTTP 401 with a top-level `{"code": 1001, "message": …}`',
    "spring-404": 'a Spring-style 404 `{"timestamp", "status": 404, "error": "Not Found", "path"}`',
    "html-405": "an HTML page with HTTP 405",
    "chinese": "a message in Chinese (HTTP 401, code 1002)",
}
ALWAYS = {"always_thinking": "refuse"}
USAGE_NO_COMPLETION = {"prompt_tokens": 12, "total_tokens": 30}
USAGE_ZEROS = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}

SERVICE_CASES = [
    refactor(
        "always-thinking-refused",
        "refuses `thinking: disabled` with 400 / 1210 (…please use low, high, or max)",
        Reply(text=REFACTOR_REPLY),
        bodies=((OFF, NONE), (NONE, "low")),
        told="glm-4.7",
        applies=NEW_CODE,
        settings=NO_THINKING,
        fake=ALWAYS,
    ),
    completion(
        "always-thinking-refused",
        "refuses `thinking: disabled` with 400 / 1210 (…please use low, high, or max)",
        Reply(text=" + b"),
        bodies=((OFF, NONE), (NONE, "low")),
        told="glm-4.7",
        applies="+ b",
        fake=ALWAYS,
    ),
    completion(
        "thinking-ignored",
        "ignores `thinking: disabled`: reasoning arrives anyway (counted in glm.status)",
        Reply(text=" + b"),
        told="thought although thinking was off",
        applies="+ b",
        fake={"always_thinking": "ignore"},
    ),
    refactor(
        "thinking-spent",
        "`finish_reason: length` with empty content after reasoning",
        Reply(reasoning="Let me think. " * 20, text="", finish_reason="length"),
        told="spent all 4096 tokens thinking; raise glm.actions.maxTokens",
    ),
    completion(
        "thinking-spent",
        "`finish_reason: length` with empty content after reasoning",
        Reply(reasoning="Let me think. " * 20, text="", finish_reason="length"),
        told="spent all 256 tokens thinking; raise glm.completion.maxTokens",
    ),
    refactor(
        "stream-shapes",
        "no `finish_reason` key, `role` in every delta, usage alone with `choices: []` and no "
        "`completion_tokens`, an id that is not `chatcmpl-…`",
        Reply(
            text=REFACTOR_REPLY,
            omit_finish_key=True,
            usage_alone=True,
            usage=USAGE_NO_COMPLETION,
            chunk_id="20261201184207abcdef",
        ),
        applies=NEW_CODE,
    ),
    ServiceCase(
        "whole-tool-calls",
        "tool calls whole in one chunk, keyed by `index`, id and name repeated",
        "agent",
        (
            Reply(
                tool_calls=[{"name": "read_file", "arguments": {"path": "calc.py"}}],
                whole_tool_calls=True,
            ),
            Reply(text="It adds."),
        ),
        bodies=((ON, NONE), (ON, NONE)),
        told=NO_CHANGES,
        tool_result="def add",
    ),
    refactor(
        "glued-text-frame",
        "two frames glued on one line, the first (a text frame) cut short",
        Reply(text=REFACTOR_REPLY, glued_frame=2),
        applies=NEW_CODE,
    ),
    refactor(
        "glued-finish-frame",
        "two frames glued on one line, the first (the finish frame) cut short",
        Reply(text=REFACTOR_REPLY, glued_frame=TEXT_CHUNKS),
        applies=NEW_CODE,
    ),
    refactor(
        "data-error-frame",
        '`data: {"error": …}` after some text',
        Reply(text="def ", error_chunk={"code": "1234", "message": "Network error, error id: 42"}),
        told="Network error, error id: 42",
    ),
    refactor(
        "event-error-frame",
        "`event: error` after some text",
        Reply(text="def ", error_event="upstream stream failed"),
        told="upstream stream failed",
    ),
    refactor(
        "finish-network-error-then-ok",
        "`finish_reason: network_error` after some text, then a whole reply",
        Reply(text="def ", finish_reason="network_error"),
        Reply(text=REFACTOR_REPLY),
        bodies=((ON, NONE), (ON, NONE)),
        applies=NEW_CODE,
    ),
    completion(
        "finish-network-error",
        "`finish_reason: network_error` after some text (completions never retry)",
        Reply(text=" + b", finish_reason="network_error"),
        told="network error",
    ),
    refactor(
        "finish-sensitive",
        "`finish_reason: sensitive`",
        Reply(text="def ", finish_reason="sensitive"),
        told="content filter stopped the reply",
    ),
    refactor(
        "finish-context-window-zero-usage",
        "`finish_reason: model_context_window_exceeded`, usage all zeros on its own chunk",
        Reply(
            text="",
            finish_reason="model_context_window_exceeded",
            usage=USAGE_ZEROS,
            usage_alone=True,
        ),
        told="too large for GLM's context window",
    ),
    refactor(
        "finish-unknown",
        "a finish reason GLM has not documented (`abort_by_policy_v2`)",
        Reply(text=REFACTOR_REPLY, finish_reason="abort_by_policy_v2"),
        applies=NEW_CODE,
    ),
    refactor(
        "slow-first-token",
        "the first token after 2.5 s (requestTimeout 1 s, firstTokenTimeout 30 s)",
        Reply(text=REFACTOR_REPLY, first_token_delay=2.5),
        progress="waiting for GLM's first token",
        applies=NEW_CODE,
        settings={"requestTimeout": 1, "firstTokenTimeout": 30},
    ),
    ServiceCase(
        "slow-first-token",
        "the first token after 2.5 s (requestTimeout 1 s, firstTokenTimeout 30 s)",
        "agent",
        (Reply(text="Nothing to change.", first_token_delay=2.5),),
        progress="waiting for GLM's first token",
        told=NO_CHANGES,
        settings={"requestTimeout": 1, "firstTokenTimeout": 30},
    ),
    completion(
        "slow-first-token",
        "the first token after 2.5 s (requestTimeout 1 s: completions keep the short budget)",
        Reply(text=" + b", first_token_delay=2.5),
        told="did not answer in time",
        settings={"requestTimeout": 1, "firstTokenTimeout": 30},
    ),
    refactor(
        "total-deadline",
        "a reply that trickles past actions.totalTimeout (1 s)",
        Reply(text=REFACTOR_REPLY, chunk_size=2, chunk_delay=0.1),
        told="longer than the 1 s limit",
        settings={"actions": {"totalTimeout": 1}},
    ),
    *(
        refactor(
            f"code-{code}-backoff",
            f"HTTP 429, code {code}: backs off from 30 s; the user cancels the wait",
            plan_limit(code),
            progress="next try at",
            cancel_on_progress=True,
        )
        for code in ("1302", "1305")
    ),
    completion(
        "code-1305",
        "HTTP 429, code 1305 (completions never wait)",
        plan_limit("1305"),
        told="overloaded (code 1305)",
    ),
    *(
        refactor(
            f"code-{code}",
            f"HTTP 429, code {code} (a plan code, like 1308-1313)",
            plan_limit(code),
            told=f"(code {code}): {PLAN_LIMIT_MESSAGES[code]}",
        )
        for code in ("1314", "1321")
    ),
    refactor(
        "code-1308-local-time",
        "HTTP 429, code 1308, reset at 2026-12-01 18:42:07 (UTC+8); the server runs in UTC",
        plan_limit("1308"),
        told="your local time: 2026-12-01 10:42:07 UTC",
    ),
    error_body("nested", "rejected a request parameter (code 1214) (Invalid temperature"),
    error_body("top-level", "rejected the API key (Authentication parameter not received"),
    error_body("spring-404", "the base URL's path is wrong"),
    error_body("html-405", "answered with a web page (HTTP 405): check glm.baseUrl"),
    error_body("chinese", "令牌已过期或验证不正确"),
    refactor(
        "odd-json-types",
        'a chunk that is JSON but not a chunk\'s shape (`"choices": 5`)',
        Reply(raw_events=['{"id": "x", "choices": 5}', "[DONE]"]),
        told="unexpected shape",
    ),
    refactor(
        "gzip-bomb-stream",
        "an event stream sent `Content-Encoding: gzip, gzip` (1 GB inflated)",
        Reply(hostile="gzip-bomb", hostile_bytes=2**30),
        told="Content-Encoding: gzip, gzip",
    ),
    refactor(
        "gzip-bomb-error-body",
        "an HTTP 500 body sent `Content-Encoding: gzip, gzip` (1 GB inflated)",
        Reply(hostile="gzip-bomb-error", hostile_bytes=2**30),
        told="Content-Encoding: gzip, gzip",
    ),
    ServiceCase(
        "quota",
        "Coding Plan base URL: `GET /api/monitor/usage/quota/limit` answers both limits",
        "status",
        bodies=(),
        told="5-hour 42% used",
        coding_plan=True,
    ),
    ServiceCase(
        "quota-fails",
        "Coding Plan base URL: the quota endpoint answers HTTP 500",
        "status",
        bodies=(),
        told="quota unknown",
        coding_plan=True,
        fake={"quota_status": 500},
    ),
]
