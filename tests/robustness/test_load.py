"""Load: 500 open documents, then 50 concurrent completions and 10 concurrent code actions
against a fake GLM with delays, twice. Everything is answered correctly, the server's memory
stays under 150 MB and does not grow from one round to the next, and its connections and
file descriptors return to where they were (no task or connection leak)."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import psutil
from lsprotocol import types

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import EditorState, execute, start_session, wait_until
from tests.robustness.fault_cases import MAX_RETRIES

DOCUMENTS = 500
COMPLETIONS = 50
ACTIONS = 10
POOL_SIZE = 8  # GlmClient keeps at most this many idle connections
RSS_LIMIT_MB = 150
OVERLAP = 25  # requests of a round held until this many are in, so they surely overlap


def module_text(n: int) -> str:
    body = "".join(f"    value_{i} = {i} * {n}\n" for i in range(60))
    return f"def f{n}(x):\n{body}    return value_0\n\n\ndef g{n}(y):\n    return \n"


def reply_for(body: dict[str, Any]) -> Reply:
    """Completions get a short line, refactors the function with a docstring added."""
    # A superseded request may be cut before its body arrives: then there are no messages.
    text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
    if "Task: rewrite the selected code" in text:
        n = re.search(r"def f(\d+)\(x\):", text)
        assert n is not None
        refactored = (
            module_text(int(n.group(1)))
            .split("\n\n\n")[0]
            .replace("(x):\n", '(x):\n    """Documented."""\n', 1)
        )
        return Reply(
            text=f"```python\n{refactored}\n```",
            first_token_delay=0.05,
            chunk_delay=0.002,
            chunk_size=64,
        )
    return Reply(text="y + 1", first_token_delay=0.3, chunk_delay=0.005)


def overlapping(fake: FakeGlm) -> Any:
    """``reply_for``, but in each of the two rounds no request is answered before OVERLAP of
    that round's have arrived: on a busy machine the server may otherwise send them so slowly
    that early ones finish first, and "they overlapped" would depend on the machine's speed."""
    per_round = COMPLETIONS + ACTIONS

    def respond(body: dict[str, Any]) -> Reply:
        index = next((i for i, r in enumerate(fake.requests) if r.body is body), None)
        if index is not None and index < 2 * per_round:
            arrived = (index // per_round) * per_round + OVERLAP
            fake.wait_for(lambda: len(fake.requests) >= arrived, timeout=30)
        return reply_for(body)

    return respond


def server_process(client: Any) -> psutil.Process:
    return psutil.Process(client._server.pid)


def inline_completion(client: Any, uri: str, character: int) -> Any:
    return client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=66, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )


async def one_round(client: Any, editor: EditorState, uris: list[str], offset: int) -> None:
    completions = [
        inline_completion(client, uri, 11) for uri in uris[offset : offset + COMPLETIONS]
    ]
    targets = uris[offset + COMPLETIONS : offset + COMPLETIONS + ACTIONS]
    whole_function = types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=62, character=0)
    )
    actions = [
        execute(
            client,
            "glm.refactor",
            {"uri": uri, "range": client.protocol._converter.unstructure(whole_function)},
        )
        for uri in targets
    ]
    results = await asyncio.wait_for(asyncio.gather(*completions, *actions), 60)
    suggestions = results[:COMPLETIONS]
    assert all(s is not None and [i.insert_text for i in s.items] == ["y + 1"] for s in suggestions)
    assert all(r == {"applied": True} for r in results[COMPLETIONS:])
    for uri in targets:
        assert '    """Documented."""\n    value_0 = 0' in editor.text(uri)


_FILE_LINE = re.compile(r"^File: (\S+)$", re.MULTILINE)


def assert_superseded_were_closed(requests: list[Any]) -> None:
    """Per document, each request a newer one superseded was closed by the server mid-stream,
    unless it had already ended before the newer one reached the upstream: on a loaded
    machine the older answer can be complete by then, and a finished answer is not an early
    close. The newest request of each document is never closed early."""
    by_file: dict[str, list[Any]] = {}
    for request in requests:
        found = _FILE_LINE.search(request.text())
        if found is None:  # closed before its body arrived: superseded, and closed early
            assert not request.messages and request.closed_early, request
            continue
        by_file.setdefault(found.group(1), []).append(request)
    assert len(by_file) == COMPLETIONS // 2
    for name, ordered in by_file.items():
        ordered.sort(key=lambda r: r.started_at)
        *older, newest = ordered
        assert not newest.closed_early, name
        for request, successor in zip(older, ordered[1:], strict=True):
            finished_first = request.finished_at <= successor.started_at
            assert request.closed_early or finished_first, (name, request, successor)


async def test_many_documents_and_concurrent_requests(fake_glm: FakeGlm, tmp_path: Path) -> None:
    fake_glm.responder = overlapping(fake_glm)
    settings = {"maxRetries": MAX_RETRIES, "completion": {"debounceMs": 0}}
    async with start_session(fake_glm, tmp_path, init_options=settings) as (client, editor):
        uris = [editor.open(f"m{n}.py", module_text(n)) for n in range(DOCUMENTS)]
        await execute(client, "glm.status", {})
        process = server_process(client)
        opened_rss = process.memory_info().rss / 2**20
        await one_round(client, editor, uris, 0)
        assert await wait_until(lambda: fake_glm.open_connections <= POOL_SIZE, 20)
        first_rss, first_fds = process.memory_info().rss / 2**20, process.num_fds()
        started = time.monotonic()
        await one_round(client, editor, uris, COMPLETIONS + ACTIONS)
        elapsed = time.monotonic() - started
        assert await wait_until(lambda: fake_glm.open_connections <= POOL_SIZE, 20)
        second_rss, second_fds = process.memory_info().rss / 2**20, process.num_fds()
        # Typing on: each document's request is superseded by a newer one mid-stream.
        superseding = [
            inline_completion(client, uri, character)
            for uri in uris[: COMPLETIONS // 2]
            for character in (10, 11)
        ]
        answers = await asyncio.wait_for(asyncio.gather(*superseding), 60)
        assert [bool(a and a.items) for a in answers] == [False, True] * (COMPLETIONS // 2)
        assert await wait_until(lambda: fake_glm.open_connections <= POOL_SIZE, 20)
        third_fds = process.num_fds()
        await execute(client, "glm.status", {})
        # Every upstream request has ended (answered, or closed by the server) before counting.
        assert await asyncio.to_thread(
            fake_glm.wait_for, lambda: all(r.finished_at for r in fake_glm.requests), 20
        )
    # A superseded request may be cancelled before it even reached the upstream.
    superseded_upstream = len(fake_glm.requests) - 2 * (COMPLETIONS + ACTIONS) - COMPLETIONS // 2
    assert 0 <= superseded_upstream <= COMPLETIONS // 2
    assert fake_glm.max_open_connections >= OVERLAP  # the requests really did overlap
    assert all(r.finished_at is not None for r in fake_glm.requests)
    assert max(opened_rss, first_rss, second_rss) < RSS_LIMIT_MB
    assert second_rss - first_rss < 10, (first_rss, second_rss)
    assert max(second_fds, third_fds) <= first_fds + 2, (first_fds, second_fds, third_fds)
    assert_superseded_were_closed(fake_glm.requests[2 * (COMPLETIONS + ACTIONS) :])
    assert not any(r.closed_early for r in fake_glm.requests[: 2 * (COMPLETIONS + ACTIONS)])
    print(  # noqa: T201 - the numbers the report quotes (pytest -s)
        f"\nload: {DOCUMENTS} documents open: RSS {opened_rss:.1f} MB; after round 1 "
        f"{first_rss:.1f} MB, round 2 {second_rss:.1f} MB ({elapsed:.2f} s for "
        f"{COMPLETIONS} completions + {ACTIONS} actions); fds {first_fds} -> {second_fds} -> "
        f"{third_fds}; "
        f"peak upstream connections {fake_glm.max_open_connections}"
    )
