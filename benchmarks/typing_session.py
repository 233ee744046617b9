"""A typing session against the fake GLM with realistic timing, measured four ways.

The fake answers every completion like a large remote model: 300 ms to the first token,
then 50 tokens/s, a 200-token reply whose first line ends at token 8. Each measurement is
repeated (``--repeats``, default 3) and the medians are printed side by side:

1. upstream requests while typing 30 keystrokes at 60 ms intervals, then a pause:
   ``completion.debounceMs`` 150 vs 0 (goal: <= 2 with debounce);
2. time to the suggestion with early stop vs reading the whole reply, both through the
   same CompletionEngine in-process, plus the real server over LSP (goal: early stop
   <= 1.25x the fake's own time to the first line);
3. typing through a shown suggestion: upstream requests (goal 0) and latency per keystroke;
4. cancel ($/cancelRequest) -> the fake sees its connection closed: p50/p99 ms (goal p99
   <= 20 ms).

Everything but (2)'s in-process columns goes through the real glm-lsp process.

    python benchmarks/typing_session.py [--repeats 3] [--cancels 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lsprotocol import types  # noqa: E402

from glm_lsp.completion.cursor import cursor_at  # noqa: E402
from glm_lsp.completion.engine import CompletionEngine, CompletionRequest  # noqa: E402
from glm_lsp.config import GlmSettings  # noqa: E402
from glm_lsp.glm.client import GlmClient  # noqa: E402
from tests.fake_glm import FakeGlm, Reply  # noqa: E402
from tests.lsp_harness import EditorState, start_session  # noqa: E402

FIRST_TOKEN_S = 0.300
TOKEN_S = 1 / 50
FIRST_LINE_TOKENS = ["comp", "ute", "_total", "(", "val", "ues", ")", "\n"]
FIRST_LINE = "".join(FIRST_LINE_TOKENS).strip()
FAKE_FIRST_LINE_MS = (FIRST_TOKEN_S + (len(FIRST_LINE_TOKENS) - 1) * TOKEN_S) * 1000
DOCUMENT = "def summarize(values):\n    total = \n    return total\n"
CURSOR = types.Position(line=1, character=len("    total = "))
TYPED = "total = sum(v for v in values)"  # 30 keystrokes
KEYSTROKE_S = 0.060
BOUND_S = 60.0  # no measurement may hang the script

T = TypeVar("T")


def reply_tokens() -> list[str]:
    """200 tokens; the first line ends with token 8."""
    rest = [f" x{n}" if n % 8 else "\n    " for n in range(200 - len(FIRST_LINE_TOKENS))]
    return FIRST_LINE_TOKENS + rest


def realistic_reply(_: dict[str, Any] | None = None) -> Reply:
    return Reply(chunks=reply_tokens(), first_token_delay=FIRST_TOKEN_S, chunk_delay=TOKEN_S)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def bounded(work: Awaitable[T]) -> T:
    return await asyncio.wait_for(work, BOUND_S)


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def inline_params(uri: str, position: types.Position, automatic: bool) -> Any:
    kind = types.InlineCompletionTriggerKind
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=position,
        context=types.InlineCompletionContext(
            trigger_kind=kind.Automatic if automatic else kind.Invoked
        ),
    )


async def inline(client: Any, uri: str, position: types.Position, automatic: bool) -> list[str]:
    result = await client.text_document_inline_completion_async(
        inline_params(uri, position, automatic)
    )
    return [item.insert_text for item in (result.items if result else [])]


def type_char(editor: EditorState, uri: str, position: types.Position, char: str) -> None:
    editor.type_text(uri, types.Range(start=position, end=position), char)


def after(position: types.Position, columns: int = 1) -> types.Position:
    return types.Position(line=position.line, character=position.character + columns)


# -- 1. debounce ---------------------------------------------------------------------------------
async def requests_while_typing(debounce_ms: int) -> int:
    """Upstream requests for 30 keystrokes at 60 ms, then a pause long enough to answer."""
    with FakeGlm() as fake, workspace() as root:
        fake.responder = realistic_reply
        options = {"completion": {"debounceMs": debounce_ms}}
        async with start_session(fake, root, init_options=options) as (client, editor):
            uri = editor.open("typing.py", "def summarize(values):\n    \n")
            position = types.Position(line=1, character=4)
            pending = []
            for char in TYPED:
                type_char(editor, uri, position, char)
                position = after(position)
                pending.append(asyncio.ensure_future(inline(client, uri, position, True)))
                await asyncio.sleep(KEYSTROKE_S)
            await bounded(asyncio.gather(*pending))
            return len(fake.requests)


# -- 2. early stop -------------------------------------------------------------------------------
class _BenchHost:
    """The engine's view of a server: settings and one client to the fake."""

    def __init__(self, client: GlmClient) -> None:
        self.settings = GlmSettings()
        self._client = client

    def has_key(self) -> bool:
        return True

    def glm_client(self) -> GlmClient:
        return self._client

    def model_for(self, feature: str) -> str:
        return self.settings.model

    def warn_once(self, key: str, text: str) -> None:
        print(f"warning: {text}", file=sys.stderr)


async def time_to_suggestion_in_process(fake: FakeGlm, *, stop_early: bool) -> float:
    client = GlmClient(base_url=fake.url, api_key="bench.key", max_retries=0)
    try:
        await client.warm_up()
        engine = CompletionEngine(_BenchHost(client), lambda uri: 1, stop_early=stop_early)
        offset = DOCUMENT.index("total = ") + len("total = ")
        cursor = cursor_at("typing.py", "python", DOCUMENT, offset)
        request = CompletionRequest("file:///typing.py", 1, CURSOR.line, cursor, False)
        started = time.perf_counter()
        text = await bounded(engine.complete(request))
        elapsed = (time.perf_counter() - started) * 1000
        assert text == FIRST_LINE, text
        return elapsed
    finally:
        await client.aclose()


async def time_to_suggestion_over_lsp(client: Any, editor: EditorState, name: str) -> float:
    uri = editor.open(name, DOCUMENT)
    started = time.perf_counter()
    items = await bounded(inline(client, uri, CURSOR, False))
    elapsed = (time.perf_counter() - started) * 1000
    assert items == [FIRST_LINE], items
    return elapsed


# -- 3. typing through ---------------------------------------------------------------------------
async def typing_through(
    client: Any, editor: EditorState, fake: FakeGlm, name: str
) -> tuple[float, int, list[float]]:
    """Show a suggestion, then type its first 10 characters: (time to the suggestion,
    upstream requests while typing through, latency of each keystroke's answer)."""
    lsp_ms = await time_to_suggestion_over_lsp(client, editor, name)
    uri = editor.uri(name)
    before = len(fake.requests)
    position = CURSOR
    latencies = []
    for index, char in enumerate(FIRST_LINE[:10]):
        type_char(editor, uri, position, char)
        position = after(position)
        started = time.perf_counter()
        items = await bounded(inline(client, uri, position, True))
        latencies.append((time.perf_counter() - started) * 1000)
        assert items == [FIRST_LINE[index + 1 :]], items
        await asyncio.sleep(KEYSTROKE_S)
    return lsp_ms, len(fake.requests) - before, latencies


# -- 4. cancel -----------------------------------------------------------------------------------
async def cancel_to_close_ms(client: Any, editor: EditorState, fake: FakeGlm, run: int) -> float:
    """Cancel a running completion; ms until the fake sees its connection closed."""
    uri = editor.open(f"cancel_{run}.py", DOCUMENT)
    index = len(fake.requests)
    msg_id = f"bench-cancel-{run}"
    answer = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, CURSOR, False), msg_id=msg_id
        )
    )
    assert await asyncio.to_thread(fake.wait_for_requests, index + 1, BOUND_S)
    # Sometimes while waiting for the first token, sometimes mid-stream.
    await asyncio.sleep(random.uniform(0.05, 0.6))
    cancelled_at = time.monotonic()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    assert await asyncio.to_thread(fake.wait_closed, index, BOUND_S), "stream not closed"
    closed_at = fake.requests[index].closed_at
    assert closed_at is not None
    with contextlib.suppress(Exception):  # a cancelled request answers with an error
        await bounded(answer)
    return max(0.0, closed_at - cancelled_at) * 1000


# -- the session ---------------------------------------------------------------------------------
async def run(repeats: int, cancels: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    results["debounced"] = [await requests_while_typing(150) for _ in range(repeats)]
    results["undebounced"] = [await requests_while_typing(0) for _ in range(repeats)]

    with FakeGlm() as fake, workspace() as root:
        fake.responder = realistic_reply
        results["early_in_process"] = [
            await time_to_suggestion_in_process(fake, stop_early=True) for _ in range(repeats)
        ]
        results["whole_in_process"] = [
            await time_to_suggestion_in_process(fake, stop_early=False) for _ in range(repeats)
        ]
        async with start_session(fake, root) as (client, editor):
            await time_to_suggestion_over_lsp(client, editor, "warm_up.py")
            lsp, through, latencies = [], [], []
            for repeat in range(repeats):
                shown_ms, requests, keystrokes = await typing_through(
                    client, editor, fake, f"through_{repeat}.py"
                )
                lsp.append(shown_ms)
                through.append(requests)
                latencies.extend(keystrokes)
            results["early_over_lsp"] = lsp
            results["through_requests"] = through
            results["through_latency"] = latencies
            results["cancel"] = [
                await cancel_to_close_ms(client, editor, fake, n) for n in range(cancels)
            ]
    return results


def table(results: dict[str, Any]) -> str:
    early = median(results["early_in_process"])
    whole = median(results["whole_in_process"])
    over_lsp = median(results["early_over_lsp"])
    keystrokes = results["through_latency"]
    cancel = results["cancel"]
    rows = [
        ("measurement", "with", "without", "goal", "ok"),
        (
            "1. upstream requests, 30 keys @60ms + pause",
            f"{median(results['debounced']):.0f} (debounce 150ms)",
            f"{median(results['undebounced']):.0f} (debounce 0)",
            "<= 2 with debounce",
            median(results["debounced"]) <= 2,
        ),
        (
            f"2. time to suggestion, ms (fake's 1st line: {FAKE_FIRST_LINE_MS:.0f})",
            f"{early:.0f} early stop ({early / FAKE_FIRST_LINE_MS:.2f}x); "
            f"{over_lsp:.0f} over LSP ({over_lsp / FAKE_FIRST_LINE_MS:.2f}x)",
            f"{whole:.0f} whole reply ({whole / FAKE_FIRST_LINE_MS:.2f}x)",
            "<= 1.25x",
            over_lsp <= 1.25 * FAKE_FIRST_LINE_MS,
        ),
        (
            "3. typing through a suggestion (10 keys)",
            f"{median(results['through_requests']):.0f} upstream requests",
            f"p50 {median(keystrokes):.1f} / p99 {percentile(keystrokes, 0.99):.1f} ms per key",
            "0 requests",
            median(results["through_requests"]) == 0,
        ),
        (
            f"4. $/cancelRequest -> upstream closed ({len(cancel)} runs)",
            f"p50 {median(cancel):.1f} ms",
            f"p99 {percentile(cancel, 0.99):.1f} ms",
            "p99 <= 20 ms",
            percentile(cancel, 0.99) <= 20,
        ),
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(5)]
    lines = []
    for number, row in enumerate(rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)]
        lines.append(" | ".join(cells).rstrip())
        if number == 0:
            lines.append("-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cancels", type=int, default=30)
    args = parser.parse_args()
    random.seed(4)
    started = time.monotonic()
    results = asyncio.run(run(max(1, args.repeats), max(1, args.cancels)))
    print(
        f"typing session vs fake GLM: {FIRST_TOKEN_S * 1000:.0f} ms to first token, "
        f"{1 / TOKEN_S:.0f} tokens/s, 200-token reply, first line at token "
        f"{len(FIRST_LINE_TOKENS)}; medians of {args.repeats} repeats"
    )
    print(table(results))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
