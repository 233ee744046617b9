"""Start-up of glm-lsp against the floor, a bare pygls server, measured side by side.

Each round spawns both servers (alternating which goes first) and measures, per server:
spawn → the ``initialize`` response (wall clock), then, after ``initialized`` and a settle
pause, the resident memory of the idle process after the editor's first ``didOpen`` of a
Python file (what an editor does first). glm-lsp gets a key and an endpoint (a closed
local port) as a user would, so what it loads at start (its warm-up included) is counted.
Goals: initialize <= 1.15x the floor, idle RSS <= 60 MB.

The ACP front door (``glm-lsp --acp``) is measured the same way (``initialize``, then idle), against
the LSP server. Goal: within 10% of it, start-up and RSS.

    python benchmarks/startup.py [--rounds 15] [--settle 1.0] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import free_port  # noqa: E402

SERVERS = {
    "glm-lsp": [sys.executable, "-m", "glm_lsp"],
    "bare pygls": [sys.executable, str(ROOT / "benchmarks" / "bare_pygls_server.py")],
    "glm-lsp --acp": [sys.executable, "-m", "glm_lsp", "--acp"],
}
ACP_GOAL = 1.10  # the ACP front door within 10% of the LSP server, start-up and idle RSS
INIT_GOAL = 1.15
DID_OPEN = {
    "jsonrpc": "2.0",
    "method": "textDocument/didOpen",
    "params": {
        "textDocument": {
            "uri": "file:///tmp/glm-lsp-startup/main.py",
            "languageId": "python",
            "version": 1,
            "text": "def add(a, b):\n    return a + b\n",
        }
    },
}
RSS_GOAL_MB = 60.0


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def _read_frame(stream: Any) -> dict[str, Any]:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("the server closed stdout")
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        elif line in (b"\r\n", b"\n"):
            return dict(json.loads(stream.read(length)))


def _read_response(stream: Any, msg_id: int) -> dict[str, Any]:
    while True:
        message = _read_frame(stream)
        if message.get("id") == msg_id and "method" not in message:
            return message


def measure_acp_once(command: list[str], env: dict[str, str], settle: float) -> tuple[float, float]:
    """The ACP front door: newline-delimited JSON-RPC, ``initialize``, then idle."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": 1, "clientCapabilities": {}},
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(json.dumps(initialize).encode() + b"\n")
        process.stdin.flush()
        while json.loads(process.stdout.readline() or b"{}").get("id") != 1:
            pass
        elapsed = time.perf_counter() - started
        time.sleep(settle)
        rss = psutil.Process(process.pid).memory_info().rss / 2**20
        process.stdin.close()  # the editor goes away: the agent ends
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return elapsed, rss


def measure_once(command: list[str], env: dict[str, str], settle: float) -> tuple[float, float]:
    """(seconds from spawn to the initialize response, idle RSS in MB)."""
    if "--acp" in command:
        return measure_acp_once(command, env, settle)
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"processId": os.getpid(), "rootUri": None, "capabilities": {}},
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(_frame(initialize))
        process.stdin.flush()
        _read_response(process.stdout, 1)
        elapsed = time.perf_counter() - started
        process.stdin.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        # What an editor does first: open a file. glm-lsp loads what completions need then.
        process.stdin.write(_frame(DID_OPEN))
        process.stdin.flush()
        time.sleep(settle)
        rss = psutil.Process(process.pid).memory_info().rss / 2**20
        process.stdin.write(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        process.stdin.flush()
        _read_response(process.stdout, 2)
        process.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
        process.stdin.flush()
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return elapsed, rss


def run(rounds: int, settle: float) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("BIGMODEL_API_KEY", "ZAI_API_KEY")}
    env["BIGMODEL_API_KEY"] = "bench0123.startupNOTaREALkey"
    env["GLM_LSP_BASE_URL"] = f"http://127.0.0.1:{free_port()}/api/paas/v4/"  # nothing listens
    times: dict[str, list[float]] = {name: [] for name in SERVERS}
    rss: dict[str, list[float]] = {name: [] for name in SERVERS}
    for command in SERVERS.values():  # one unmeasured start each: warm the file cache
        measure_once(command, env, 0.0)
    for index in range(rounds):
        order = list(SERVERS) if index % 2 == 0 else list(reversed(SERVERS))
        for name in order:
            elapsed, memory = measure_once(SERVERS[name], env, settle)
            times[name].append(elapsed)
            rss[name].append(memory)
    result: dict[str, Any] = {"rounds": rounds, "settle_s": settle}
    for name in SERVERS:
        key = name.replace(" ", "_").replace("-", "_")
        result[f"{key}_init_median_ms"] = statistics.median(times[name]) * 1000
        result[f"{key}_init_spread_ms"] = (max(times[name]) - min(times[name])) * 1000
        result[f"{key}_rss_median_mb"] = statistics.median(rss[name])
        result[f"{key}_rss_spread_mb"] = max(rss[name]) - min(rss[name])
    result["init_ratio"] = result["glm_lsp_init_median_ms"] / result["bare_pygls_init_median_ms"]
    result["rss_ratio"] = result["glm_lsp_rss_median_mb"] / result["bare_pygls_rss_median_mb"]
    result["acp_init_ratio"] = (
        result["glm_lsp___acp_init_median_ms"] / result["glm_lsp_init_median_ms"]
    )
    result["acp_rss_ratio"] = (
        result["glm_lsp___acp_rss_median_mb"] / result["glm_lsp_rss_median_mb"]
    )
    result["acp_goal_met"] = max(result["acp_init_ratio"], result["acp_rss_ratio"]) <= ACP_GOAL
    result["init_goal_met"] = result["init_ratio"] <= INIT_GOAL
    result["rss_goal_met"] = result["glm_lsp_rss_median_mb"] <= RSS_GOAL_MB
    result["rows"] = [
        {
            "measured": "spawn → initialize response (glm-lsp / bare pygls)",
            "median": f"{result['glm_lsp_init_median_ms']:.0f} ms / "
            f"{result['bare_pygls_init_median_ms']:.0f} ms",
            "spread": f"{result['glm_lsp_init_spread_ms']:.0f} ms / "
            f"{result['bare_pygls_init_spread_ms']:.0f} ms",
            "ratio": f"{result['init_ratio']:.2f}x",
            "goal": f"<= {INIT_GOAL}x",
            "ok": result["init_goal_met"],
        },
        {
            "measured": "idle RSS after initialized (glm-lsp / bare pygls)",
            "median": f"{result['glm_lsp_rss_median_mb']:.1f} MB / "
            f"{result['bare_pygls_rss_median_mb']:.1f} MB",
            "spread": f"{result['glm_lsp_rss_spread_mb']:.1f} MB / "
            f"{result['bare_pygls_rss_spread_mb']:.1f} MB",
            "ratio": f"{result['rss_ratio']:.2f}x",
            "goal": f"<= {RSS_GOAL_MB:.0f} MB",
            "ok": result["rss_goal_met"],
        },
        {
            "measured": "ACP front door: spawn → initialize, idle RSS (--acp / LSP)",
            "median": f"{result['glm_lsp___acp_init_median_ms']:.0f} ms, "
            f"{result['glm_lsp___acp_rss_median_mb']:.1f} MB",
            "spread": f"{result['glm_lsp___acp_init_spread_ms']:.0f} ms",
            "ratio": f"{result['acp_init_ratio']:.2f}x, {result['acp_rss_ratio']:.2f}x",
            "goal": f"<= {ACP_GOAL}x each",
            "ok": result["acp_goal_met"],
        },
    ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds idle before RSS")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = run(args.rounds, args.settle)
    if args.json:
        print(json.dumps(result))
        return
    print(f"start-up, median of {result['rounds']} rounds (spread = max - min)")
    for name in SERVERS:
        key = name.replace(" ", "_").replace("-", "_")
        init, init_spread = result[f"{key}_init_median_ms"], result[f"{key}_init_spread_ms"]
        rss, rss_spread = result[f"{key}_rss_median_mb"], result[f"{key}_rss_spread_mb"]
        print(
            f"  {name:<13} initialize {init:7.1f} ms (spread {init_spread:.1f})   "
            f"idle RSS {rss:5.1f} MB (spread {rss_spread:.1f})"
        )
    print(
        f"  ratio glm-lsp/bare: initialize {result['init_ratio']:.2f}x (goal <= {INIT_GOAL}x), "
        f"RSS {result['rss_ratio']:.2f}x; glm-lsp idle RSS goal <= {RSS_GOAL_MB:.0f} MB: "
        f"{'met' if result['rss_goal_met'] else 'NOT met'}"
    )
    print(
        f"  ratio --acp/LSP: initialize {result['acp_init_ratio']:.2f}x, RSS "
        f"{result['acp_rss_ratio']:.2f}x (goal <= {ACP_GOAL}x each): "
        f"{'met' if result['acp_goal_met'] else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
