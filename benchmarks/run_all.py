"""Run every benchmark in benchmarks/ and write benchmarks/RESULTS.md.

Each script runs in its own process, one after another (they time things; running them in
parallel would measure the other benchmarks). A script that is missing or fails gets a note
in the report instead of stopping the run.

Contract for a script's ``--json`` flag (used when ``--help`` lists it): print one JSON object;
with a ``rows`` list of ``{"measured", "median", "spread", "ratio", "goal"?, "ok"?}`` those
rows go straight into the summary table. Scripts without it are parsed from their printed
output where a parser below knows the format, and their output is always kept verbatim.

    python benchmarks/run_all.py [--quick] [--only startup.py ...] [--output PATH]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
Row = dict[str, Any]


@dataclass(frozen=True)
class Benchmark:
    script: str
    what: str
    args: list[str] = field(default_factory=list)
    quick: list[str] = field(default_factory=list)
    parse: Callable[[str], list[Row]] | None = None


@dataclass
class Outcome:
    benchmark: Benchmark
    command: str
    rows: list[Row]
    output: str
    seconds: float
    note: str = ""


# -- parsers for scripts that only print text ---------------------------------------------------
def parse_stream_json(data: dict[str, Any]) -> list[Row]:
    ours, theirs = data["glm_lsp_median_s"] * 1000, data["openai_median_s"] * 1000
    ours_spread, theirs_spread = data["glm_lsp_spread_s"] * 1000, data["openai_spread_s"] * 1000
    return [
        {
            "measured": f"read a {data['chunks']:,}-chunk SSE stream (glm-lsp client / openai SDK)",
            "median": f"{ours:.0f} ms / {theirs:.0f} ms",
            "spread": f"{ours_spread:.0f} ms / {theirs_spread:.0f} ms",
            "ratio": f"{data['ratio_openai_over_ours']:.2f}x faster",
            "goal": ">= 1x",
            "ok": data["ratio_openai_over_ours"] >= 1.0,
        }
    ]


def parse_actions_overhead(text: str) -> list[Row]:
    match = re.search(r"median\s+([\d.]+) ms\s+min\s+([\d.]+) ms\s+max\s+([\d.]+) ms", text)
    if not match:
        return []
    median, low, high = (float(g) for g in match.groups())
    budget = re.search(r"goal\s+<\s*([\d.]+) ms", text)
    goal = float(budget.group(1)) if budget else 10.0
    return [
        {
            "measured": "glm.refactor server overhead (executeCommand → applyEdit minus the fake)",
            "median": f"{median:.2f} ms",
            "spread": f"{high - low:.2f} ms",
            "ratio": f"{median / goal:.2f}x the budget",
            "goal": f"< {goal:g} ms",
            "ok": median < goal,
        }
    ]


def parse_typing_session(text: str) -> list[Row]:
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == 5 and re.match(r"\d\.", cells[0]):
            rows.append(
                {
                    "measured": cells[0],
                    "median": f"{cells[1]} / {cells[2]}",
                    "spread": "(medians of the repeats)",
                    "ratio": "; ".join(re.findall(r"[\d.]+x", f"{cells[1]} {cells[2]}")) or "—",
                    "goal": cells[3],
                    "ok": cells[4] == "True",
                }
            )
    return rows


def parse_agent_scaling(text: str) -> list[Row]:
    rows = []
    turn = re.compile(
        r"(\d[\d,]*) files: prompt ([\d.]+ KB) -> ([\d.]+ KB).*?per turn median ([\d.]+) ms, "
        r"max ([\d.]+) ms"
    )
    for files, first, last, median, high in turn.findall(text):
        rows.append(
            {
                "measured": f"agent, 20 turns over {files} files: server time per turn",
                "median": f"{median} ms",
                "spread": f"max {high} ms",
                "ratio": f"prompt {first} → {last}",
                "goal": "linear prompt growth",
                "ok": None,
            }
        )
    search = re.compile(
        r"(\d[\d,]*) files: listing\s+([\d.]+) ms; search: first in a run\s+([\d.]+) ms"
        r".*?later\s+([\d.]+) ms.*?\[(\w+)"
    )
    for files, listing, first_search, later, verdict in search.findall(text):
        total = float(listing) + float(first_search)
        rows.append(
            {
                "measured": f"agent over {files} files: first listing + first search of a run",
                "median": f"{total:.1f} ms ({listing} + {first_search})",
                "spread": f"later searches {later} ms",
                "ratio": f"{total / 100:.2f}x the budget",
                "goal": "< 100 ms",
                "ok": verdict == "ok",
            }
        )
    check = re.compile(
        r"(\d[\d,]*) files: first check beyond the command\s+([\d.]+) ms \(([-\d.]+)–([\d.]+)\)"
        r"\s+\[(\w+).*?refresh\s+([\d.]+) ms"
    )
    for files, median, low, high, verdict, refresh in check.findall(text):
        rows.append(
            {
                "measured": f"run_check over {files} files: scratch copy + trivial check",
                "median": f"{median} ms beyond the command",
                "spread": f"{low}–{high} ms; a later check's refresh {refresh} ms",
                "ratio": f"{float(median) / 150:.2f}x the budget",
                "goal": "< 150 ms",
                "ok": verdict == "ok",
            }
        )
    sandboxed = re.compile(
        r"(\d[\d,]*) files: the same check sandboxed \(bubblewrap \+ limits\) minus "
        r"unsandboxed, paired per run:\s+([-\d.]+) ms \(([-\d.]+)–([-\d.]+)\)\s+\[(\w+)"
    )
    for files, median, low, high, verdict in sandboxed.findall(text):
        rows.append(
            {
                "measured": f"run_check over {files} files: what the sandbox adds",
                "median": f"{median} ms (sandboxed minus unsandboxed, paired)",
                "spread": f"{low}–{high} ms",
                "ratio": f"{float(median) / 50:.2f}x the budget",
                "goal": "<= 50 ms",
                "ok": verdict == "ok",
            }
        )
    mcp_call = re.search(
        r"MCP tool call \((\d+) calls\): overhead beyond the server p50 ([-\d.]+) ms "
        r"\[(\w+).*?agent call p50 ([\d.]+) ms \(p90 ([\d.]+)\), bare JSON-RPC client p50 "
        r"([\d.]+) ms",
        text,
    )
    if mcp_call:
        _calls, overhead, verdict, ours, p90, bare = mcp_call.groups()
        rows.append(
            {
                "measured": "one MCP tool call beyond the server's own time",
                "median": f"{overhead} ms",
                "spread": f"agent call {ours} ms (p90 {p90}), bare client {bare} ms",
                "ratio": f"{float(overhead) / 5:.2f}x the budget",
                "goal": "p50 <= 5 ms",
                "ok": verdict == "ok",
            }
        )
    mcp_start = re.search(
        r"MCP start-up of 3 servers: in parallel (\d+) ms, one at a time (\d+) ms \(([\d.]+)x\)",
        text,
    )
    if mcp_start:
        parallel, serial, ratio = mcp_start.groups()
        rows.append(
            {
                "measured": "3 MCP servers starting in parallel",
                "median": f"{parallel} ms",
                "spread": f"one at a time {serial} ms",
                "ratio": f"{ratio}x faster",
                "goal": "—",
                "ok": None,
            }
        )
    return rows


BENCHMARKS = [
    Benchmark(
        "startup.py",
        "Start-up and idle memory of glm-lsp against a bare pygls server (the floor)",
        quick=["--rounds", "5", "--settle", "0.5"],
    ),
    Benchmark(
        "stream_throughput.py",
        "Streaming throughput of the GLM client against the openai SDK",
        quick=["--chunks", "5000", "--repeats", "3"],
    ),
    Benchmark(
        "actions_overhead.py",
        "Server overhead of a code action",
        quick=["--runs", "10"],
        parse=parse_actions_overhead,
    ),
    Benchmark(
        "typing_session.py",
        "Typing session: debounce, early stop, typing through, cancel",
        quick=["--repeats", "1", "--cancels", "10"],
        parse=parse_typing_session,
    ),
    Benchmark(
        "agent_scaling.py",
        "Agent scaling with workspace size",
        quick=["--sizes", "10", "100"],
        parse=parse_agent_scaling,
    ),
    Benchmark("prompt_cache.py", "Cacheable prompt share: typing session and agent run"),
    Benchmark(
        "context_recall.py",
        "Context from the workspace: recall, added bytes, gather time, cacheable share",
        quick=["--hot-rounds", "10"],
    ),
    Benchmark(
        "next_edit.py",
        "Next-edit suggestions: early stop, server overhead, cancel, calls in a burst",
        quick=["--repeats", "2", "--cancels", "10"],
    ),
    Benchmark(
        "early_stop_syntax.py",
        "Early stop: the syntax tree against indentation alone, same streamed replies",
    ),
    Benchmark(
        "hostile_upstream.py",
        "glm.status latency and server memory while a hostile upstream attacks",
        quick=["--duration", "1"],
    ),
]


# -- running -------------------------------------------------------------------------------------
def supports_json(path: Path) -> bool:
    help_text = subprocess.run(
        [sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120
    ).stdout
    return "--json" in help_text


def run_one(benchmark: Benchmark, quick: bool) -> Outcome:
    path = HERE / benchmark.script
    args = [*benchmark.args, *(benchmark.quick if quick else [])]
    shown = " ".join(["python", f"benchmarks/{benchmark.script}", *args])
    if not path.exists():
        return Outcome(benchmark, shown, [], "", 0.0, "not run: the script does not exist yet")
    use_json = supports_json(path)
    command = [sys.executable, str(path), *args, *(["--json"] if use_json else [])]
    print(f"running {shown}{' --json' if use_json else ''} …", file=sys.stderr, flush=True)
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent, timeout=1800)
    seconds = time.monotonic() - started
    output = done.stdout.strip()
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        return Outcome(
            benchmark,
            shown,
            [],
            f"{output}\n{tail}".strip(),
            seconds,
            f"failed (exit {done.returncode})",
        )
    rows: list[Row] = []
    if use_json:
        data = json.loads(output.splitlines()[-1])
        rows = data.get("rows") or (
            parse_stream_json(data) if "ratio_openai_over_ours" in data else []
        )
        output = json.dumps(data, indent=2)
    elif benchmark.parse is not None:
        rows = benchmark.parse(output)
    note = "" if rows else "no summary rows: see the output below"
    return Outcome(benchmark, shown, rows, output, seconds, note)


# -- the report ----------------------------------------------------------------------------------
def _cell(value: object) -> str:
    if value is None:
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "**no**"
    return str(value).replace("|", "\\|")


def render(outcomes: list[Outcome], quick: bool) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python benchmarks/run_all.py{' --quick' if quick else ''}` on {now}; "
        f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs. Every number comes from this one run; spread is max − min "
        "over the repeats unless the row says otherwise. Re-run the command to refresh.",
        "",
        "| What was measured | Command | Median | Spread | Ratio | Goal | Met |",
        "|---|---|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        for row in outcome.rows:
            cells = [
                row.get("measured"),
                f"`{outcome.command}`",
                row.get("median"),
                row.get("spread"),
                row.get("ratio"),
                row.get("goal"),
                row.get("ok"),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        if not outcome.rows:
            lines.append(
                f"| {_cell(outcome.benchmark.what)} | `{outcome.command}` | — | — | — | — | "
                f"{_cell(outcome.note)} |"
            )
    lines.append("")
    for outcome in outcomes:
        lines += [f"## {outcome.benchmark.what}", "", f"`{outcome.command}`"]
        if outcome.seconds:
            lines[-1] += f" ({outcome.seconds:.0f} s)"
        if outcome.note:
            lines += ["", f"_{outcome.note}_"]
        if outcome.output:
            lines += ["", "```", outcome.output, "```"]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--only", nargs="+", metavar="SCRIPT", help="run only these scripts")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    chosen = [b for b in BENCHMARKS if not args.only or b.script in args.only]
    outcomes = [run_one(benchmark, args.quick) for benchmark in chosen]
    args.output.write_text(render(outcomes, args.quick) + "\n", encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
