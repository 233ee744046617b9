"""Our GLM client vs the openai SDK reading the same 20,000-chunk stream from the fake GLM.

The fake runs in its own process (so it does not share the GIL with the clients); each client
reads the whole stream REPEATS times, alternating, and the medians are compared.

    python benchmarks/stream_throughput.py [--chunks 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import free_port, wait_for_port  # noqa: E402
from glm_lsp.glm.client import GlmClient  # noqa: E402
from glm_lsp.glm.models import ChatRequest, TextDelta  # noqa: E402

KEY = "bench.key"
MESSAGES = [{"role": "user", "content": "stream please"}]


async def read_with_glm_lsp(url: str) -> tuple[float, int]:
    client = GlmClient(base_url=url, api_key=KEY, max_retries=0)
    started = time.perf_counter()
    count = 0
    async for event in client.stream_chat(
        ChatRequest(model="glm-5.1", messages=MESSAGES), feature="bench"
    ):
        if isinstance(event, TextDelta):
            count += 1
    elapsed = time.perf_counter() - started
    await client.aclose()
    return elapsed, count


async def read_with_openai(url: str) -> tuple[float, int]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0)
    started = time.perf_counter()
    count = 0
    stream = await client.chat.completions.create(
        model="glm-5.1",
        messages=MESSAGES,  # type: ignore[arg-type]
        stream=True,
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            count += 1
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed, count


def run(chunks: int, repeats: int) -> dict[str, object]:
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as script:
        json.dump([{"chunks": [f"t{i % 10} " for i in range(chunks)]}], script)
    fake = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "fake_glm.py"),
            "--script",
            script.name,
            "--port",
            str(port),
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        url = f"http://127.0.0.1:{port}/api/paas/v4/"
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(repeats):
            elapsed, count = asyncio.run(read_with_glm_lsp(url))
            assert count == chunks, f"glm-lsp read {count} chunks"
            ours.append(elapsed)
            elapsed, count = asyncio.run(read_with_openai(url))
            assert count == chunks, f"openai read {count} chunks"
            theirs.append(elapsed)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
        Path(script.name).unlink(missing_ok=True)
    ours_median = statistics.median(ours)
    theirs_median = statistics.median(theirs)
    return {
        "chunks": chunks,
        "repeats": repeats,
        "glm_lsp_median_s": ours_median,
        "openai_median_s": theirs_median,
        "glm_lsp_spread_s": max(ours) - min(ours),
        "openai_spread_s": max(theirs) - min(theirs),
        "ratio_openai_over_ours": theirs_median / ours_median,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    result = run(args.chunks, args.repeats)
    if args.json:
        print(json.dumps(result))
        return
    print(f"stream of {result['chunks']} chunks, median of {result['repeats']} runs each")
    print(
        f"  glm-lsp client : {result['glm_lsp_median_s']:.3f} s "
        f"(spread {result['glm_lsp_spread_s']:.3f} s)"
    )
    print(
        f"  openai SDK     : {result['openai_median_s']:.3f} s "
        f"(spread {result['openai_spread_s']:.3f} s)"
    )
    print(
        f"  ratio openai/glm-lsp: {result['ratio_openai_over_ours']:.2f}x "
        "(>1 means glm-lsp is faster)"
    )


if __name__ == "__main__":
    main()
