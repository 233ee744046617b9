"""How the agent scales with the workspace: a scripted 20-turn run through the real server.

For synthetic workspaces of 10, 100 and 1,000 files, the fake GLM plays a model that lists,
searches, reads in parallel, edits and writes for 19 turns and then stops. Per turn it prints
the prompt size (bytes of the request the fake received: the conversation must grow linearly,
tool outputs are capped) and the server's time for the turn, measured on the fake's clock
from the end of its previous reply to the arrival of the next request (tool execution and
request building; the fake's own time is excluded). It also times the search tool directly
over the 1,000-file workspace (goal: under 100 ms), and run_check's cost: preparing the
scratch copy (disk + a staged change; the files already listed, as a run lists them for its
prompt), running a trivial check (`python -c pass`) in it and removing it, minus the same
command's own run time outside any copy (goal: under 150 ms for 1,000 files), the refresh
a later check of the same run pays instead of a new copy, and what the sandbox adds (the same
first check under bubblewrap with its limits, minus the unsandboxed one, paired run by run;
goal: at most 50 ms).

MCP rows: one MCP tool call as the agent makes it (AgentTools -> the hub -> the mcp package's
session -> the pipes), against the suite's probe server, minus the same call made by a bare
JSON-RPC client writing and reading the pipes itself (the server's own time; goal: p50 under
5 ms); and three probe servers starting in parallel against one at a time.

    python benchmarks/agent_scaling.py [--sizes 10 100 1000] [--check-only] [--mcp-only]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from glm_lsp.agent.check import CheckSettings, ScratchCopy, check_workspace, run_command  # noqa: E402
from glm_lsp.agent.check_sandbox import sandbox_problem  # noqa: E402
from glm_lsp.agent.tools import AgentTools  # noqa: E402
from glm_lsp.workspace import Workspace  # noqa: E402
from tests.fake_glm import FakeGlm, Reply  # noqa: E402
from tests.lsp_harness import execute, start_session  # noqa: E402

TURNS = 20


def make_workspace(root: Path, files: int) -> None:
    """``files`` Python modules of ~40 lines, 10 per package, plus ignored build output."""
    for n in range(files):
        path = root / f"pkg_{n // 10:03}" / f"mod_{n:04}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"    value_{i} = helper(x) + {i}\n" for i in range(36))
        path.write_text(f'"""Module {n}."""\n\n\ndef func_{n}(x):\n{body}    return value_0\n')
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    for n in range(files):
        (root / "build" / f"out_{n}.py").write_text("helper()\n")


def module(n: int, files: int) -> str:
    n %= files
    return f"pkg_{n // 10:03}/mod_{n:04}.py"


def scripted_turn(turn: int, files: int) -> Reply:
    """The model's reply on ``turn`` (0-based): a mix of every tool, then a stop."""
    if turn == TURNS - 1:
        return Reply(text="Done: renamed func_* across the workspace.")
    calls: list[tuple[str, dict[str, Any]]]
    if turn == 0:
        calls = [("list_files", {})]
    elif turn == 1:
        calls = [("search", {"query": "helper"})]
    elif turn == TURNS - 2:
        calls = [("write_file", {"path": "pkg_new/summary.py", "content": "SUMMARY = 1\n"})]
    elif turn % 2 == 0:
        calls = [("read_file", {"path": module(turn + i, files)}) for i in range(3)]
        calls.append(("search", {"query": r"def func_\d+\(", "regex": True}))
    else:
        target = module(turn - 1, files)
        name = f"func_{(turn - 1) % files}"
        edit = {"path": target, "old_text": f"def {name}(x):", "new_text": f"def {name}_v2(x):"}
        calls = [("edit_file", edit)]
    return Reply(tool_calls=[{"name": n, "arguments": a} for n, a in calls])


async def scripted_run(files: int) -> tuple[float, list[tuple[int, float]]]:
    """The first command's one-time start-up ms, then (prompt bytes, server ms) per turn of
    the measured run over a fresh workspace."""
    with tempfile.TemporaryDirectory() as tmp, FakeGlm() as fake:
        root = Path(tmp) / "ws"
        make_workspace(root, files)

        def respond(body: dict[str, Any]) -> Reply:
            done = sum(1 for m in body["messages"] if m["role"] == "assistant")
            return scripted_turn(done, files)

        fake.responder = respond
        async with start_session(fake, root) as (client, editor):
            # A first command pays one-time costs (configuration, first task); keep them
            # out of the per-turn numbers.
            fake.enqueue(Reply(text="Nothing to do."))
            started = time.monotonic()
            await execute(client, "glm.agent", {"instruction": "warm up"})
            first_command = (fake.requests[0].started_at - started) * 1000
            started = time.monotonic()
            result = await execute(client, "glm.agent", {"instruction": "rename func_*"})
            assert result["applied"] is True, result
            assert len(editor.applied_edits) == 1
        requests = fake.requests[1:]
        rows: list[tuple[int, float]] = []
        previous_end = started  # turn 1: from the command to the first request
        for request in requests:
            size = len(json.dumps(request.body).encode())
            rows.append((size, (request.started_at - previous_end) * 1000))
            previous_end = request.finished_at or request.started_at
        return first_command, rows


def time_search(files: int, repeats: int = 7) -> tuple[float, float, float]:
    """Median ms, over fresh overlays, of the listing a run starts with (it goes into the
    prompt), the run's first search (reads every file) and a later one (texts cached)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        make_workspace(root, files)
        timings: tuple[list[float], list[float], list[float]] = ([], [], [])
        for _ in range(repeats):
            workspace = Workspace([root])
            tools = AgentTools(workspace, max_output_bytes=32768)
            steps = (
                workspace.files_under,
                partial(tools.run, "search", json.dumps({"query": "helper"})),
                partial(tools.run, "search", json.dumps({"query": "def func_9"})),
            )
            for step, timing in zip(steps, timings, strict=True):
                started = time.perf_counter()
                step()
                timing.append((time.perf_counter() - started) * 1000)
        listing, first, later = (statistics.median(t) for t in timings)
        return listing, first, later


TRIVIAL_CHECK = (sys.executable, "-c", "pass")


async def _time_check(root: Path, repeats: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {
        "prepare": [],
        "refresh": [],
        "remove": [],
        "overhead": [],
        "bare": [],
        "sandbox": [],
    }
    settings = CheckSettings(TRIVIAL_CHECK, timeout=60, max_output_bytes=32768)
    # What the server runs by default now: bubblewrap, the memory and write limits.
    mb = 1024 * 1024
    sandboxed = replace(settings, sandboxed=True, memory_bytes=4096 * mb, write_bytes=1024 * mb)
    can_sandbox = sandbox_problem() is None
    for _ in range(repeats):
        started = time.perf_counter()
        await run_command(
            TRIVIAL_CHECK, cwd=root, env=os.environ, timeout=60, max_output_bytes=32768
        )
        bare = (time.perf_counter() - started) * 1000
        workspace = Workspace([root])
        workspace.files_under()  # a run lists the files for its prompt before any check
        workspace.write(root / module(0, 10), "STAGED = 1\n")
        started = time.perf_counter()
        copy = ScratchCopy.prepare(workspace)
        prepared = time.perf_counter()
        # A later check of the same run: GLM edited one more file since.
        workspace.write(root / module(1, 10), "STAGED = 2\n")
        copy.sync(workspace)
        synced = time.perf_counter()
        copy.remove()
        timings["prepare"].append((prepared - started) * 1000)
        timings["refresh"].append((synced - prepared) * 1000)
        timings["remove"].append((time.perf_counter() - synced) * 1000)
        # The whole path of a first check: copy, environment, run, remove.
        workspace = Workspace([root])
        workspace.files_under()
        workspace.write(root / module(0, 10), "STAGED = 1\n")
        started = time.perf_counter()
        result = await check_workspace(workspace, settings)
        total = (time.perf_counter() - started) * 1000
        assert result.passed, result.output
        timings["bare"].append(bare)
        timings["overhead"].append(total)
        if can_sandbox:  # the same first check, sandboxed, right after: a paired difference
            started = time.perf_counter()
            result = await check_workspace(workspace, sandboxed)
            assert result.passed, result.output
            timings["sandbox"].append((time.perf_counter() - started) * 1000 - total)
    # Beyond the command's own run: its fastest run is taken as what it costs (conservative:
    # a noisy bare run never makes the check path look cheaper than it is).
    floor = min(timings["bare"])
    timings["overhead"] = [total - floor for total in timings["overhead"]]
    return timings


def time_check(files: int, repeats: int = 9) -> dict[str, list[float]]:
    """Per repeat (fresh overlay each time), ms to: prepare the scratch copy, refresh it for
    a later check, remove it; a first check's whole path beyond the trivial command's own
    run; and that run alone."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        make_workspace(root, files)
        return asyncio.run(_time_check(root, repeats))


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} ms ({min(values):.1f}–{max(values):.1f})"


def report_check(sizes: list[int]) -> None:
    print("run_check: scratch copy + `python -c pass`, 9 runs each: median (min–max)")
    for files in sizes:
        timing = time_check(files)
        overhead = statistics.median(timing["overhead"])
        verdict = "ok" if overhead < 150 else "SLOW"
        print(
            f"{files:>5} files: first check beyond the command {_spread(timing['overhead'])}"
            f"  [{verdict}: goal < 150 ms]; of it prepare {_spread(timing['prepare'])}, "
            f"remove {_spread(timing['remove'])}; a later check's refresh "
            f"{_spread(timing['refresh'])}; the command alone "
            f"{statistics.median(timing['bare']):.1f} ms"
        )
        if timing["sandbox"]:
            added = statistics.median(timing["sandbox"])
            verdict = "ok" if added <= 50 else "SLOW"
            print(
                f"{files:>5} files: the same check sandboxed (bubblewrap + limits) minus "
                f"unsandboxed, paired per run: {_spread(timing['sandbox'])}  "
                f"[{verdict}: goal <= 50 ms]"
            )
        else:
            print(f"{files:>5} files: sandboxed check not measured: {sandbox_problem()}")


PROBE = ROOT / "tests" / "mcp_probe.py"


class _Allowed:
    """Consent given for everything: the benchmark measures calls, not questions."""

    def allowed(self, kind: str, subject: str) -> bool:
        return True

    def remember(self, kind: str, subject: str) -> None:
        pass

    async def ask(self, question: str, actions: Any) -> str | None:
        return actions[0]


def _probe_definition(name: str) -> Any:
    from glm_lsp.mcp_client.definitions import parse_servers

    found, _ = parse_servers(
        {name: {"command": sys.executable, "args": [str(PROBE)]}}, source="bench", trusted=True
    )
    return found[0]


async def _bare_calls(count: int) -> list[float]:
    """tools/call round trips of a client that only writes and reads JSON lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROBE),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    async def request(message_id: int, method: str, params: dict[str, Any]) -> None:
        message = {"jsonrpc": "2.0", "id": message_id, "method": method, "params": params}
        stdin.write(json.dumps(message).encode() + b"\n")
        await stdin.drain()
        while json.loads(await stdout.readline()).get("id") != message_id:
            pass

    hello = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "b"}}
    await request(0, "initialize", hello)
    stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
    times = []
    for n in range(1, count + 1):
        start = time.perf_counter()
        await request(n, "tools/call", {"name": "echo", "arguments": {"text": "hello"}})
        times.append((time.perf_counter() - start) * 1000)
    stdin.close()
    process.kill()
    await process.wait()
    return times


async def _agent_calls(count: int, folder: Path) -> list[float]:
    """The same call as the agent makes it: AgentTools.execute -> McpRun -> McpHub."""
    from glm_lsp.mcp_client.hub import McpHub

    allowed = _Allowed()
    hub = McpHub(allowed, print)
    hub.set_definitions([_probe_definition("probe")])
    await hub.start(allowed)
    tools = AgentTools(Workspace([folder]), max_output_bytes=32768, extra=hub.for_run(allowed))
    times = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            output = await tools.execute("probe__echo", '{"text": "hello"}')
            times.append((time.perf_counter() - start) * 1000)
            assert output == "probe heard: hello", output
    finally:
        await hub.shutdown()
    return times


async def _start_times(servers: int) -> tuple[float, float]:
    """ms for ``servers`` probes to be ready: all at once, then one after another."""
    from glm_lsp.mcp_client.hub import McpHub

    allowed = _Allowed()
    hub = McpHub(allowed, print)
    hub.set_definitions([_probe_definition(f"p{n}") for n in range(servers)])
    start = time.perf_counter()
    await hub.start(allowed)
    parallel = (time.perf_counter() - start) * 1000
    assert len(hub.tools()) == servers * 7
    await hub.shutdown()
    start = time.perf_counter()
    for n in range(servers):
        single = McpHub(allowed, print)
        single.set_definitions([_probe_definition(f"p{n}")])
        await single.start(allowed)
        await single.shutdown()  # not counted as start-up, but small: a kill
    one_by_one = (time.perf_counter() - start) * 1000
    return parallel, one_by_one


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report_mcp(calls: int = 300, rounds: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours: list[float] = []
        bare: list[float] = []
        for _ in range(rounds):  # alternated, so a busy moment hits both sides
            ours += asyncio.run(_agent_calls(calls // rounds, Path(tmp)))
            bare += asyncio.run(_bare_calls(calls // rounds))
    overhead = statistics.median(ours) - statistics.median(bare)
    verdict = "ok" if overhead <= 5 else "SLOW"
    print(
        f"MCP tool call ({calls} calls): overhead beyond the server p50 {overhead:.2f} ms "
        f"[{verdict}: goal p50 <= 5 ms]; agent call p50 {statistics.median(ours):.2f} ms "
        f"(p90 {_percentile(ours, 0.9):.2f}), bare JSON-RPC client p50 "
        f"{statistics.median(bare):.2f} ms (p90 {_percentile(bare, 0.9):.2f})"
    )
    starts = [asyncio.run(_start_times(3)) for _ in range(3)]
    parallel = statistics.median(p for p, _ in starts)
    serial = statistics.median(s for _, s in starts)
    print(
        f"MCP start-up of 3 servers: in parallel {parallel:.0f} ms, one at a time {serial:.0f} ms "
        f"({serial / parallel:.2f}x)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument(
        "--check-only", action="store_true", help="only the run_check row (no scripted runs)"
    )
    parser.add_argument("--mcp-only", action="store_true", help="only the MCP rows")
    args = parser.parse_args(argv)
    if args.check_only:
        report_check(args.sizes)
        return 0
    if args.mcp_only:
        report_mcp()
        return 0
    measured = {files: asyncio.run(scripted_run(files)) for files in args.sizes}
    runs = {files: rows for files, (_, rows) in measured.items()}

    header = " | ".join(f"{f:>5} files: KB   ms" for f in args.sizes)
    print(f"Agent scaling, {TURNS}-turn scripted run (server ms excludes the fake GLM)")
    print(f"turn | {header}")
    for turn in range(TURNS):
        cells = []
        for files in args.sizes:
            rows = runs[files]
            if turn < len(rows):
                size, ms = rows[turn]
                cells.append(f"{'':>12}{size / 1024:6.1f} {ms:5.1f}")
            else:
                cells.append(f"{'':>12}{'-':>6} {'-':>5}")
        print(f"{turn + 1:4} | " + " | ".join(cells))
    for files in args.sizes:
        sizes = [size for size, _ in runs[files]]
        growth = [b - a for a, b in itertools.pairwise(sizes)]
        ms = [m for _, m in runs[files]]
        print(
            f"{files:>5} files: prompt {sizes[0] / 1024:.1f} KB -> {sizes[-1] / 1024:.1f} KB "
            f"(largest step {max(growth) / 1024:.1f} KB), server time per turn median "
            f"{statistics.median(ms):.1f} ms, max {max(ms):.1f} ms, total {sum(ms):.0f} ms "
            f"(first command of the session: {measured[files][0]:.0f} ms to its request)"
        )
    for files in args.sizes:
        listing, first, later = time_search(files)
        verdict = "ok" if listing + first < 100 else "SLOW"
        print(
            f"{files:>5} files: listing {listing:5.1f} ms; search: first in a run {first:5.1f} ms "
            f"(reads every file), later {later:4.1f} ms  [{verdict}: goal < 100 ms]"
        )
    report_check(args.sizes)
    report_mcp()
    return 0


if __name__ == "__main__":
    sys.exit(main())
