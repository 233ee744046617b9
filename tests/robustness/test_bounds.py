"""What one reply or one repository may cost the server, whatever it holds (issue 27).

- A tool-call flood: one reply with 3,000 ``read_file`` calls of a 40 KB file once made a
  96 MB next request and a 414 MB peak. Now at most 32 calls run per turn (the rest are
  answered ``error: too many tool calls in one turn``), tool results kept per run are
  bounded, and so is the next request.
- Symlinked imports: 300 links to one 491 KB module once added 290 MB to the server for its
  whole life. The context cache keys files by real path and is bounded in bytes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psutil
import pytest
import pytest_asyncio

from tests.fake_glm import FakeGlm, Reply
from tests.robustness.hostile_cases import (
    MB,
    Attack,
    hostile_server,
    run_attack,
    run_feature,
    settled_rss,
    stage_files,
)
from tests.robustness.raw_lsp import RawLsp

pytestmark = pytest.mark.asyncio(loop_scope="module")

RSS_DURING_LIMIT = 250 * MB
NEXT_REQUEST_LIMIT = 4 * MB  # the server's bound on one agent request
TOO_MANY = "error: too many tool calls in one turn"
LINK_GROWTH_LIMIT = 50 * MB

BIG_TEXT = "".join(f"line {i}: " + "x" * 60 + "\n" for i in range(600))  # 40 KB
FLOOD = Attack(
    "read-file-flood",
    "one reply with 3,000 read_file calls of a 40 KB file",
    (
        Reply(
            tool_calls=[
                {"name": "read_file", "arguments": json.dumps({"path": "big.txt"})}
                for _ in range(3000)
            ]
        ),
        Reply(text="I read it."),
    ),
    "made no changes",
    feature="agent",
    files=(("big.txt", BIG_TEXT),),
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGlm]:
    with FakeGlm() as fake:
        yield fake


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lsp(fake: FakeGlm, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RawLsp]:
    async with hostile_server(fake, tmp_path_factory.mktemp("bounds")) as lsp:
        yield lsp


async def test_tool_call_flood_is_capped(lsp: RawLsp, fake: FakeGlm) -> None:
    result = await run_attack(lsp, fake, FLOOD, duration=0)

    assert result.runs == 1
    assert max(result.rss_during) < RSS_DURING_LIMIT, f"peak {result.peak_rss_mb:.0f} MB"
    follow_up = fake.requests[-1]
    assert len(follow_up.raw) < NEXT_REQUEST_LIMIT, f"next request {len(follow_up.raw)} bytes"
    tool_answers = [str(m["content"]) for m in follow_up.messages if m.get("role") == "tool"]
    assert len(tool_answers) == 3000  # every call is answered
    refused = [answer for answer in tool_answers if answer.startswith(TOO_MANY)]
    assert 0 < len(refused) < 3000
    assert any("line 1:" in answer for answer in tool_answers)  # the file was read
    assert result.messages == [[m for m in result.messages[0] if "made no changes" in m]]


def _module(count: int) -> str:
    """About 491 KB of Python: ``count`` documented functions."""
    return "".join(
        f'def f_{i}(value):\n    """Return value plus {i}, a documented helper."""\n'
        f"    return value + {i}\n\n\n"
        for i in range(count)
    )


async def test_symlinked_imports_share_one_cache_entry(
    lsp: RawLsp, fake: FakeGlm, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workspace: Path = lsp.workspace  # type: ignore[attr-defined]
    big = _module(4900)
    assert 480_000 < len(big) < 500_000
    (workspace / "lib").mkdir()
    (workspace / "lib" / "big.py").write_text(big)
    (workspace / "links").mkdir()
    for i in range(300):
        (workspace / "links" / f"mod_{i}.py").symlink_to(workspace / "lib" / "big.py")
    main = "".join(f"from links.mod_{i} import f_{i}\n" for i in range(300))
    main += "\n\ndef total():\n    return " + " + ".join(f"f_{i}(1)" for i in range(300)) + "\n"
    attack = Attack("links", "", (), "", files=(("main.py", main),), target="main.py")
    await stage_files(lsp, attack)
    process = psutil.Process(lsp.process.pid)
    before = await settled_rss(process)

    for _ in range(2):  # the second gathers with every import already read
        fake.reset()
        fake.enqueue(Reply(text=main))
        answer = await run_feature(lsp, "refactor", "main.py")
        assert "result" in answer, answer

    assert fake.requests, "the refactor never reached the upstream"
    assert "def f_1(value)" in fake.requests[-1].text()  # the context came from the links
    grown = await settled_rss(process) - before
    assert grown < LINK_GROWTH_LIMIT, f"the server grew by {grown / MB:.0f} MB"
