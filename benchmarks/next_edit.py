"""Next-edit suggestions against the fake GLM, side by side in one run.

The fake streams a 21-line rewrite of the window like a remote model: 200 ms to the first
token, then 100 tokens/s, about 4 characters a token. Measured (medians of ``--repeats``):

1. time to the suggestion with early stop vs reading the whole rewrite, through the same
   NextEditEngine in-process, for a change in the window's first half (goal: <= 0.5x) and,
   for information, in its second half;
2. the server's own time, through the real glm-lsp process with the edit history full and
   workspace context on: request -> the fake receives the upstream request, and the fake's
   last token -> the editor has the result (goal: p50 <= 5 ms each; both include the
   JSON-RPC and HTTP hops on this machine);
3. cancel ($/cancelRequest) -> the fake sees its connection closed: p50/p99 (goal p99 <= 20 ms);
4. upstream calls while typing 30 keys at 60 ms, a request after every key (the eagerest
   client), default ``nextEdit.debounceMs`` (goal <= 2);
5. how early stop's number of matching lines was chosen: over this repository's Python
   files, the unchanged lines between two consecutive uses of a name less than a window
   apart (the parts of a rename's next edit).

    python benchmarks/next_edit.py [--repeats 5] [--cancels 30] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import keyword
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tokenize
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lsprotocol import types  # noqa: E402

from glm_lsp.config import GlmSettings  # noqa: E402
from glm_lsp.glm.client import GlmClient  # noqa: E402
from glm_lsp.next_edit.engine import NextEditEngine, NextEditRequest  # noqa: E402
from glm_lsp.next_edit.history import EditHistory  # noqa: E402
from glm_lsp.next_edit.rewrite import MATCHING_LINES_TO_STOP  # noqa: E402
from tests.fake_glm import FakeGlm, Reply  # noqa: E402
from tests.lsp_harness import EditorState, start_session  # noqa: E402

FIRST_TOKEN_S = 0.200
TOKEN_S = 1 / 100
BOUND_S = 60.0
METHOD = "textDocument/copilotInlineEdit"
WINDOW = [f"    row_{n} = scale(values[{n}], factor)  # step {n}" for n in range(21)]
DOCUMENT_LINES = ["from helpers import scale", "", "", "def table(values, factor):", *WINDOW]
DOCUMENT = "\n".join(DOCUMENT_LINES) + "\n"
HELPERS = 'def scale(value, factor):\n    """value times factor."""\n    return value * factor\n'
CURSOR_LINE = 4 + 10  # the middle of the window


def tokens(text: str) -> list[str]:
    return [text[i : i + 4] for i in range(0, len(text), 4)]


def rewrite_reply(changed_row: int) -> Reply:
    lines = list(WINDOW)
    lines[changed_row] = lines[changed_row].replace("factor", "ratio")
    text = "```python\n" + "\n".join(lines) + "\n```"
    return Reply(chunks=tokens(text), first_token_delay=FIRST_TOKEN_S, chunk_delay=TOKEN_S)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# -- 1. early stop -------------------------------------------------------------------------------
class _BenchHost:
    def __init__(self, client: GlmClient) -> None:
        self.settings = GlmSettings.model_validate({"nextEdit": {"debounceMs": 0}})
        self._client = client

    def has_key(self) -> bool:
        return True

    def glm_client(self) -> GlmClient:
        return self._client

    def model_for(self, feature: str) -> str:
        return self.settings.model

    def warn_once(self, key: str, text: str) -> None:
        print(f"warning: {text}", file=sys.stderr)


async def time_to_suggestion(fake: FakeGlm, changed_row: int, *, stop_early: bool) -> float:
    fake.responder = lambda _: rewrite_reply(changed_row)
    client = GlmClient(base_url=fake.url, api_key="bench.key", max_retries=0)
    try:
        await client.warm_up()
        lines = [line + "\n" for line in DOCUMENT_LINES]
        engine = NextEditEngine(
            _BenchHost(client), EditHistory(), lambda uri: 1, stop_early=stop_early
        )
        request = NextEditRequest(
            "file:///table.py", 1, "table.py", "python", lines, CURSOR_LINE, 0, automatic=False
        )
        started = time.perf_counter()
        outcome = await asyncio.wait_for(engine.suggest(request), BOUND_S)
        elapsed = (time.perf_counter() - started) * 1000
        assert outcome.edit is not None and outcome.edit.start_line == 4 + changed_row, outcome
        return elapsed
    finally:
        await client.aclose()


# -- 2.-4. through the real server ---------------------------------------------------------------
def params(uri: str, version: int, line: int, kind: int) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri, "version": version},
        "position": {"line": line, "character": 4},
        "context": {"triggerKind": kind},
    }


def fill_history(editor: EditorState, other: str) -> None:
    """40 edits in another file: more than the history keeps (32)."""
    for n in range(40):
        at = types.Position(line=2 * n, character=0)
        editor.type_text(other, types.Range(start=at, end=at), "x = 1")


_TIMING = re.compile(r"next edit timing: request->send ([\d.]+) ms, last token->result ([\d.]+) ms")


async def server_overhead(repeats: int) -> dict[str, list[float]]:
    """The server's own time, from its debug log (handler entry -> the request handed to the
    HTTP client; the last token read -> the result ready), and the same seen from outside
    (the editor sends -> the fake receives; the whole request, 21 lines at 1 ms a token
    which adds the JSON-RPC pipe and the HTTP hop of this machine)."""
    seen: dict[str, list[float]] = {"outside_send": [], "outside_total": []}
    with FakeGlm() as fake, tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "helpers.py").write_text(HELPERS, encoding="utf-8")
        (root / "table.py").write_text(DOCUMENT, encoding="utf-8")
        log_file = root.parent / f"{root.name}-glm-lsp.log"
        last_row = len(WINDOW) - 1  # the change at the end: the whole stream is read
        fake.responder = lambda _: Reply(chunks=rewrite_reply(last_row).chunks, chunk_delay=0.001)
        options = {"nextEdit": {"debounceMs": 0}}
        arguments = ["--log-file", str(log_file), "-vv"]
        async with start_session(fake, root, init_options=options, server_args=arguments) as (
            client,
            editor,
        ):
            uri = editor.open("table.py")
            other = editor.open("notes.py", "\n" * 100)
            fill_history(editor, other)
            for run in range(repeats + 1):  # the first one warms up (imports, connection)
                version = editor.documents[uri].version
                index = len(fake.requests)
                started = time.monotonic()
                result = await asyncio.wait_for(
                    client.protocol.send_request_async(
                        METHOD, params(uri, version, CURSOR_LINE, 1)
                    ),
                    BOUND_S,
                )
                answered = time.monotonic()
                record = fake.requests[index]
                assert len(result.edits) == 1, result
                if run == 0:
                    assert "def scale(value, factor)" in record.text(), "no workspace context"
                    assert record.text().count("@@ -") == 6, "history not in the prompt"
                    continue
                seen["outside_send"].append((record.started_at - started) * 1000)
                seen["outside_total"].append((answered - started) * 1000)
        timings = _TIMING.findall(log_file.read_text(encoding="utf-8"))[1:]
        log_file.unlink()
    seen["send"] = [float(send) for send, _ in timings]
    seen["result"] = [float(result) for _, result in timings]
    return seen


async def cancel_to_close(cancels: int) -> list[float]:
    closes = []
    with FakeGlm() as fake, tempfile.TemporaryDirectory() as folder:
        fake.responder = lambda _: Reply(
            chunks=tokens("```\n" + "\n".join(WINDOW) + "\n```"),
            first_token_delay=0.3,
            chunk_delay=0.02,
        )
        async with start_session(
            fake, Path(folder), init_options={"nextEdit": {"debounceMs": 0}}
        ) as (
            client,
            editor,
        ):
            uri = editor.open("table.py", DOCUMENT)
            version = editor.documents[uri].version
            for run in range(cancels):
                index = len(fake.requests)
                msg_id = f"bench-cancel-{run}"
                answer = asyncio.ensure_future(
                    client.protocol.send_request_async(
                        METHOD, params(uri, version, CURSOR_LINE, 1), msg_id=msg_id
                    )
                )
                assert await asyncio.to_thread(fake.wait_for_requests, index + 1, BOUND_S)
                await asyncio.sleep(random.uniform(0.05, 0.6))  # before or during the stream
                cancelled_at = time.monotonic()
                client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
                assert await asyncio.to_thread(fake.wait_closed, index, BOUND_S)
                closed_at = fake.requests[index].closed_at
                assert closed_at is not None
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(answer, BOUND_S)
                closes.append(max(0.0, closed_at - cancelled_at) * 1000)
    return closes


async def calls_in_a_burst() -> int:
    with FakeGlm() as fake, tempfile.TemporaryDirectory() as folder:
        fake.responder = lambda _: rewrite_reply(5)
        async with start_session(fake, Path(folder)) as (client, editor):  # default debounce
            uri = editor.open("table.py", DOCUMENT)
            position = types.Position(line=CURSOR_LINE, character=len(DOCUMENT_LINES[CURSOR_LINE]))
            pending = []
            for char in "  # scaled by the table factor":  # 30 keys
                editor.type_text(uri, types.Range(start=position, end=position), char)
                position = types.Position(line=position.line, character=position.character + 1)
                version = editor.documents[uri].version
                pending.append(
                    asyncio.ensure_future(
                        client.protocol.send_request_async(
                            METHOD, params(uri, version, position.line, 2)
                        )
                    )
                )
                await asyncio.sleep(0.060)
            await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), BOUND_S)
            return len(fake.requests)


# -- 5. the number of matching lines -------------------------------------------------------------
def gaps_between_uses(window: int = 21) -> Counter[int]:
    """Unchanged lines between two consecutive lines that use the same name (3+ characters,
    not a keyword) less than a window apart, over this repository's Python files: how far
    apart the parts of a rename's next edit are."""
    files = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    gaps: Counter[int] = Counter()
    for name in files:
        try:
            source = (ROOT / name).read_text(encoding="utf-8")
            words = list(tokenize.generate_tokens(io.StringIO(source).readline))
        except (OSError, SyntaxError, tokenize.TokenError, UnicodeDecodeError):
            continue
        uses: dict[str, set[int]] = {}
        for word in words:
            named = word.type == tokenize.NAME and len(word.string) >= 3
            if named and not keyword.iskeyword(word.string):
                uses.setdefault(word.string, set()).add(word.start[0])
        for lines in uses.values():
            ordered = sorted(lines)
            for first, second in itertools.pairwise(ordered):
                if second - first < window:
                    gaps[second - first - 1] += 1
    return gaps


# -- report --------------------------------------------------------------------------------------
async def run(repeats: int, cancels: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with FakeGlm() as fake:
        for name, row in (("first_half", 4), ("second_half", 16)):
            early, whole = [], []
            for _ in range(repeats):  # side by side, alternating
                early.append(await time_to_suggestion(fake, row, stop_early=True))
                whole.append(await time_to_suggestion(fake, row, stop_early=False))
            results[name] = {"early": early, "whole": whole}
    results["overhead"] = await server_overhead(repeats * 4)
    results["cancel_ms"] = await cancel_to_close(cancels)
    results["burst_calls"] = await calls_in_a_burst()
    results["gaps"] = dict(sorted(gaps_between_uses().items()))
    return results


def rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, label in (("first_half", "first half"), ("second_half", "second half")):
        early, whole = results[name]["early"], results[name]["whole"]
        ratio = median([e / w for e, w in zip(early, whole, strict=True)])
        row = {
            "measured": f"next edit, change in the window's {label}: early stop / whole rewrite",
            "median": f"{median(early):.0f} / {median(whole):.0f} ms",
            "spread": f"{min(early):.0f}-{max(early):.0f} ms early",
            "ratio": f"{ratio:.2f}x",
        }
        if name == "first_half":
            row.update(goal="<= 0.5x", ok=ratio <= 0.5)
        out.append(row)
    overhead = results["overhead"]
    send, result = overhead["send"], overhead["result"]
    out.append(
        {
            "measured": "next edit, server's own time: request -> upstream send / last token -> "
            "result (history full, context on)",
            "median": f"{median(send):.2f} / {median(result):.2f} ms",
            "spread": f"p90 {percentile(send, 0.9):.2f} / {percentile(result, 0.9):.2f} ms",
            "ratio": "",
            "goal": "p50 <= 5 ms each",
            "ok": median(send) <= 5 and median(result) <= 5,
        }
    )
    outside_send, outside_total = overhead["outside_send"], overhead["outside_total"]
    out.append(
        {
            "measured": "next edit, seen from the editor: request -> the fake has it / whole "
            "request (21-line rewrite at 1 ms a token)",
            "median": f"{median(outside_send):.1f} / {median(outside_total):.0f} ms",
            "spread": f"p90 {percentile(outside_send, 0.9):.1f} / "
            f"{percentile(outside_total, 0.9):.0f} ms",
            "ratio": "",
        }
    )
    cancel = results["cancel_ms"]
    out.append(
        {
            "measured": "next edit, cancel -> upstream closed",
            "median": f"{median(cancel):.1f} ms",
            "spread": f"p99 {percentile(cancel, 0.99):.1f} ms",
            "ratio": "",
            "goal": "p99 <= 20 ms",
            "ok": percentile(cancel, 0.99) <= 20,
        }
    )
    out.append(
        {
            "measured": "next edit, upstream calls in a 30-key burst (a request per key)",
            "median": str(results["burst_calls"]),
            "spread": "",
            "ratio": "",
            "goal": "<= 2",
            "ok": results["burst_calls"] <= 2,
        }
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cancels", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print one JSON object (run_all)")
    args = parser.parse_args()
    results = asyncio.run(run(args.repeats, args.cancels))
    table = rows(results)
    gaps = results["gaps"]
    total = sum(gaps.values()) or 1
    if args.json:
        print(json.dumps({"rows": table, "gaps": gaps}))
        return
    for row in table:
        verdict = "" if "ok" not in row else ("  ok" if row["ok"] else "  MISSED")
        goal = f"  (goal {row['goal']})" if "goal" in row else ""
        print(
            f"{row['measured']}: {row['median']}  [{row['spread']}] {row['ratio']}{goal}{verdict}"
        )
    print(
        f"\nEarly stop closes the stream after {MATCHING_LINES_TO_STOP} matching lines. Unchanged"
    )
    print("lines between two consecutive uses of a name less than a window apart, in this")
    print(f"repository's Python files ({total} pairs; a gap >= N is cut off by N lines):")
    for k in range(1, 7):
        at_least = sum(n for gap, n in gaps.items() if gap >= k)
        print(f"  gap >= {k} lines: {at_least / total:.0%}")


if __name__ == "__main__":
    main()
