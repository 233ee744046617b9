"""Server overhead of a code action: executeCommand → applyEdit, minus the fake's stream time.

Runs ``glm.refactor`` on a 400-line Python file through the real server and the fake GLM,
``--runs`` times after a few warm-up runs. For each run: the time from sending
workspace/executeCommand to receiving workspace/applyEdit, minus the time the fake spent on
that request (from receiving it to the end of its stream). What remains is the server: prompt
building, JSON-RPC, HTTP, SSE parsing, reply parsing, minimal edits. Goal: median < 10 ms.

    python benchmarks/actions_overhead.py [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lsprotocol import types  # noqa: E402

from tests.fake_glm import FakeGlm, Reply  # noqa: E402
from tests.lsp_harness import execute, start_session  # noqa: E402

GOAL_MS = 10.0
WARM_UP = 3


def sample_file(functions: int = 100) -> str:
    return "".join(
        f"def function_{n}(value):\n    total = value * {n}\n    return total + 1\n\n"
        for n in range(functions)
    )


def refactor_reply(run: int) -> Reply:
    code = f"def function_50(value: int) -> int:\n    return value * 50 + {run}\n"
    reply = f"Here you go:\n\n```python\n{code}```\n\nShorter and typed."
    return Reply(text=reply, reasoning="Think briefly. " * 5, chunk_size=12)


async def measure(runs: int) -> list[tuple[float, float]]:
    text = sample_file()
    lines = text.splitlines()
    first = lines.index("def function_50(value):")
    target = {"start": {"line": first, "character": 0}, "end": {"line": first + 3, "character": 0}}
    overheads: list[tuple[float, float]] = []  # (before the upstream request, after it)
    with FakeGlm() as fake, tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "big.py").write_text(text)
        async with start_session(fake, root) as (client, editor):
            uri = editor.open("big.py", text)
            applied_at: list[float] = []
            original_apply = editor.apply

            def timed_apply(params: types.ApplyWorkspaceEditParams) -> Any:
                applied_at.append(time.monotonic())
                return original_apply(params)

            editor.apply = timed_apply  # type: ignore[method-assign]
            for run in range(WARM_UP + runs):
                fake.enqueue(refactor_reply(run))
                sent = time.monotonic()
                result = await execute(client, "glm.refactor", {"uri": uri, "range": target})
                assert result == {"applied": True}, result
                request = fake.requests[-1]
                assert request.finished_at is not None
                if run >= WARM_UP:
                    before = request.started_at - sent
                    after = applied_at[-1] - request.finished_at
                    overheads.append((before * 1000, after * 1000))
    return overheads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    parts = asyncio.run(measure(args.runs))
    overheads = [before + after for before, after in parts]
    median = statistics.median(overheads)
    print(f"glm.refactor server overhead over {len(overheads)} runs (executeCommand → applyEdit,")
    print("minus the fake GLM's own stream time):")
    print(
        f"  median {median:6.2f} ms   min {min(overheads):6.2f} ms   max {max(overheads):6.2f} ms"
    )
    before = statistics.median(p[0] for p in parts)
    after = statistics.median(p[1] for p in parts)
    print(f"  of which: executeCommand → upstream request {before:5.2f} ms (prompt, progress")
    print(f"            token, HTTP); end of stream → applyEdit {after:5.2f} ms (SSE tail, parse,")
    print("            edits, JSON-RPC)")
    verdict = "OK" if median < GOAL_MS else "OVER GOAL"
    print(f"  goal   < {GOAL_MS:.0f} ms: {verdict} ({median / GOAL_MS:.2f}× the budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
