"""Hostile upstream attacks, as data, and the harness that runs one through the real server.

``test_hostile_upstream.py`` asserts the bounds; ``benchmarks/hostile_upstream.py`` reports
the ``glm.status`` latency during each attack. While an attack runs, again and again for at
least ``duration`` seconds, one thread samples the server's RSS every 50 ms and a task asks
``glm.status`` every 50 ms; afterwards the RSS is followed until it settles.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.fake_glm import FakeGlm, Reply
from tests.robustness.raw_lsp import RawLsp, raw_server

CODE = "def add(a, b):\n    return a + b\n"
WHOLE_FILE = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}
SAMPLE_EVERY = 0.05  # seconds, for RSS and for glm.status
MB = 2**20
STATUS_MESSAGE = "GLM usage:"  # what each glm.status shows: not the attack's message


@dataclass(frozen=True)
class Attack:
    id: str
    upstream: str  # what the upstream does, for people
    replies: tuple[Reply, ...]  # one run of the attack
    message: str  # a part of the one message the user gets
    feature: str = "refactor"  # refactor | agent
    applies: str | None = None  # the code the edit carries, when the reply goes on
    tool_result: str | None = None  # how the agent's tool answer to the model starts
    # Files written into the workspace before the attack (relative path, text), and the one
    # a refactor works on (opened in the editor; its whole text is the selection).
    files: tuple[tuple[str, str], ...] = ()
    target: str = "calc.py"


ATTACKS = [
    Attack(
        "error-body-2gb",
        "HTTP 500 with a 2 GB body",
        (Reply(hostile="error-body"),),
        "over 64 KB",
    ),
    Attack(
        "html-body-2gb",
        "HTTP 200 text/html with a 2 GB body",
        (Reply(hostile="html-body"),),
        "instead of an event stream",
    ),
    Attack(
        "endless-line",
        "an event stream whose `data:` line never ends",
        (Reply(hostile="endless-line"),),
        "over 8 MB",
    ),
    Attack(
        "line-40mb",
        "one 40 MB `data:` line",
        (Reply(hostile="long-line", hostile_bytes=40 * MB),),
        "over 8 MB",
    ),
    Attack(
        "deep-json-line",
        "a stream line of JSON nested 200,000 deep, then the reply",
        (Reply(hostile="deep-line", text="def add(a, b):\n    return b + a\n"),),
        "",  # the line is skipped: the reply goes on to an edit (the test editor refuses it)
        applies="b + a",
    ),
    Attack(
        "deep-tool-arguments",
        "tool-call arguments nested 200,000 deep",
        (Reply(hostile="deep-tool-arguments"), Reply(text="I could not read it.")),
        "made no changes",
        feature="agent",
        tool_result="error: the arguments of read_file are not valid JSON",
    ),
    Attack(
        "gzip-bomb-stream",
        "an event stream with `Content-Encoding: gzip, gzip`: 24 KB that inflate to 1 GB",
        (Reply(hostile="gzip-bomb", hostile_bytes=2**30),),
        "Content-Encoding: gzip, gzip",
    ),
    Attack(
        "gzip-bomb-error-body",
        "an HTTP 500 body with `Content-Encoding: gzip, gzip`: 24 KB that inflate to 1 GB",
        (Reply(hostile="gzip-bomb-error", hostile_bytes=2**30),),
        "Content-Encoding: gzip, gzip",
    ),
]


def _tool_turn(name: str, **arguments: Any) -> Reply:
    return Reply(tool_calls=[{"name": name, "arguments": json.dumps(arguments)}])


STAGED_NAME = {"path": "a" * 30 + "ba", "content": "x"}
# 5 MB of code selected for a refactor: 104,000 lines, each with names of its own.
BIG_SELECTION = "".join(
    f"value_{i} = compute_{i}(value_{i - 1}).item_{i}\n" for i in range(104_000)
)

# Input from the model or the repository that once froze the event loop (issue 27): each
# grows exponentially (or as a high power) in a backtracking regex engine. While each runs,
# glm.status must still answer.
LOOP_ATTACKS = [
    Attack(
        "search-regex",
        "the agent's search with (a+)+$ over a line of 28 a's",
        (_tool_turn("search", query="(a+)+$", regex=True), Reply(text="Nothing found.")),
        "made no changes",
        feature="agent",
        tool_result="(no matches)",
        files=(("letters.txt", "a" * 28 + "!\n"),),
    ),
    Attack(
        "list-files-glob",
        "list_files with *a*a…b over a name the model staged",
        (
            Reply(
                tool_calls=[
                    {"name": "write_file", "arguments": json.dumps(STAGED_NAME)},
                    {"name": "list_files", "arguments": json.dumps({"pattern": "*a" * 12 + "b"})},
                ]
            ),
            Reply(text="Listed."),
        ),
        "",
        feature="agent",
        tool_result="(no files)",
    ),
    Attack(
        "js-import-spaces",
        "a 2.6 KB JS file whose first line is `import` and spaces",
        (Reply(text="import x from './x';\n"),),
        "",
        files=(("app.js", "import" + " " * 2600 + "\n"),),
        target="app.js",
    ),
    Attack(
        "python-from-dots",
        "a 20 KB Python file: `from ....`",
        (Reply(text="x = 1\n"),),
        "",
        files=(("dots.py", "from " + "." * 20_000 + "\n"),),
        target="dots.py",
    ),
    Attack(
        "selection-5mb",
        "a refactor of a 5 MB selection",
        (Reply(text="x = 2\n"),),
        "",
        files=(("big.py", BIG_SELECTION),),
        target="big.py",
    ),
]


@dataclass
class AttackRun:
    runs: int = 0
    messages: list[list[str]] = field(default_factory=list)  # showMessage texts, per run
    edits: list[str] = field(default_factory=list)  # the new text of each applyEdit
    rss_during: list[int] = field(default_factory=list)
    rss_after: int = 0
    status_latencies: list[float] = field(default_factory=list)  # seconds
    status_failures: int = 0

    @property
    def peak_rss_mb(self) -> float:
        return max(self.rss_during, default=0) / MB

    @property
    def rss_after_mb(self) -> float:
        return self.rss_after / MB

    def status_p99_ms(self) -> float:
        ordered = sorted(self.status_latencies)
        if not ordered:
            return float("inf")
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


@asynccontextmanager
async def hostile_server(
    fake: FakeGlm | None, workspace: Path, *, base_url: str | None = None
) -> AsyncIterator[RawLsp]:
    """The real server over stdio, with calc.py open, no retries (one request per run), for
    ``fake`` or for the upstream at ``base_url`` (a fake in another process)."""
    url = base_url or (fake.url if fake is not None else "")
    (workspace / "calc.py").write_text(CODE)
    settings = {"baseUrl": url, "maxRetries": 0, "agent": {"maxIterations": 3}}
    env = {"GLM_LSP_BASE_URL": url}
    async with raw_server(fake, workspace, init_options=settings, env=env) as lsp:
        uri = (workspace / "calc.py").as_uri()
        item = {"uri": uri, "languageId": "python", "version": 1, "text": CODE}
        await lsp.notify("textDocument/didOpen", {"textDocument": item})
        lsp.workspace = workspace  # type: ignore[attr-defined]
        # One refactor first, so every module a run needs is loaded before we measure.
        if fake is not None:
            fake.enqueue(Reply(text=CODE))
        await run_feature(lsp, "refactor")
        yield lsp


def whole_text(text: str) -> dict[str, Any]:
    """The LSP range that covers all of ``text``."""
    lines = text.split("\n")
    return {"start": {"line": 0, "character": 0}, "end": {"line": len(lines), "character": 0}}


async def stage_files(lsp: RawLsp, attack: Attack) -> None:
    """Write the attack's files into the workspace and open its refactor target."""
    workspace: Path = lsp.workspace  # type: ignore[attr-defined]
    for relative, text in attack.files:
        path = workspace / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if relative == attack.target:
            language = {".js": "javascript", ".py": "python"}.get(path.suffix, "plaintext")
            item = {"uri": path.as_uri(), "languageId": language, "version": 1, "text": text}
            await lsp.notify("textDocument/didOpen", {"textDocument": item})


async def run_feature(
    lsp: RawLsp, feature: str, target: str = "calc.py", timeout: float = 60
) -> dict[str, Any]:
    workspace: Path = lsp.workspace  # type: ignore[attr-defined]
    if feature == "refactor":
        text = CODE if target == "calc.py" else (workspace / target).read_text()
        selection = WHOLE_FILE if target == "calc.py" else whole_text(text)
        argument: dict[str, Any] = {"uri": (workspace / target).as_uri(), "range": selection}
        command = "glm.refactor"
    else:
        argument = {"instruction": "Add a docstring to add in calc.py"}
        command = "glm.agent"
    params = {"command": command, "arguments": [argument]}
    return await lsp.request("workspace/executeCommand", params, timeout)


def _edit_texts(requests: list[dict[str, Any]]) -> list[str]:
    texts: list[str] = []
    for request in requests:
        if request["method"] != "workspace/applyEdit":
            continue
        for change in request["params"]["edit"].get("documentChanges") or []:
            texts.extend(edit["newText"] for edit in change.get("edits", []))
    return texts


async def run_attack(
    lsp: RawLsp,
    fake: FakeGlm | None,
    attack: Attack,
    *,
    duration: float = 1.5,
    max_runs: int = 400,
) -> AttackRun:
    """Run ``attack`` until ``duration`` has passed (at least once), measuring as it goes.
    ``fake`` is scripted before each run; None: the upstream answers by itself."""
    process = psutil.Process(lsp.process.pid)
    result = AttackRun()
    sampling = threading.Event()
    sampling.set()

    def sample_rss() -> None:
        while sampling.is_set():
            with contextlib.suppress(psutil.Error):
                result.rss_during.append(process.memory_info().rss)
            time.sleep(SAMPLE_EVERY)

    # The pinger stops on a flag, not on cancel: Python 3.11's wait_for can swallow a cancel
    # that lands as its answer arrives, and a `while True` pinger then never ends.
    stop_pinging = asyncio.Event()

    async def ask_status() -> None:
        while not stop_pinging.is_set():
            started = time.perf_counter()
            try:
                await lsp.status(timeout=30)
                result.status_latencies.append(time.perf_counter() - started)
            except (AssertionError, asyncio.TimeoutError):
                result.status_failures += 1
            await asyncio.sleep(SAMPLE_EVERY)

    await stage_files(lsp, attack)
    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    pinger = asyncio.create_task(ask_status())
    started = time.monotonic()
    try:
        while result.runs < max_runs and (
            result.runs == 0 or time.monotonic() - started < duration
        ):
            if fake is not None:
                fake.reset()
                fake.enqueue(*attack.replies)
            seen_notes, seen_requests = len(lsp.notifications), len(lsp.server_requests)
            answer = await run_feature(lsp, attack.feature, attack.target)
            assert "result" in answer, answer
            result.runs += 1
            result.messages.append(
                [
                    str(n["params"]["message"])
                    for n in lsp.notifications[seen_notes:]
                    if n.get("method") == "window/showMessage"
                    and not str(n["params"]["message"]).startswith(STATUS_MESSAGE)
                ]
            )
            result.edits.extend(_edit_texts(lsp.server_requests[seen_requests:]))
    finally:
        stop_pinging.set()
        await pinger  # within one glm.status round, bounded by its 30-s timeout
        sampling.clear()
        sampler.join()
    result.rss_after = await settled_rss(process)
    return result


def attack_responder(attack: Attack) -> Callable[[dict[str, Any]], Reply]:
    """For a fake that serves one attack on its own: the first reply, or the second (when
    there is one) to a request that carries a tool result."""

    def respond(body: dict[str, Any]) -> Reply:
        answered = any(m.get("role") == "tool" for m in body.get("messages", []))
        return attack.replies[-1] if answered else attack.replies[0]

    return respond


async def settled_rss(process: psutil.Process, *, timeout: float = 10.0) -> int:
    """The RSS once the server is idle again: the lowest of the samples over up to
    ``timeout`` seconds, returned as soon as it is under 100 MB."""
    lowest = process.memory_info().rss
    deadline = time.monotonic() + timeout
    while lowest >= 100 * MB and time.monotonic() < deadline:
        await asyncio.sleep(SAMPLE_EVERY)
        lowest = min(lowest, process.memory_info().rss)
    return lowest
