"""A hostile upstream, through the real server: a 2 GB error body, a 2 GB HTML body, an endless
line, a 40 MB line, JSON nested 200,000 deep in a line and in tool arguments. In each, while
the attack runs again and again: the server's RSS (sampled every 50 ms) stays under 250 MB,
each run ends with one clear message, and the server keeps answering ``glm.status``; after
it, RSS is back under 100 MB. The latency figure against the 100 ms goal is a benchmark
(benchmarks/hostile_upstream.py): a loaded 2-core machine cannot promise it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.fake_glm import FakeGlm
from tests.robustness.hostile_cases import ATTACKS, MB, Attack, hostile_server, run_attack
from tests.robustness.raw_lsp import RawLsp

pytestmark = pytest.mark.asyncio(loop_scope="module")

RSS_DURING_LIMIT = 250 * MB
RSS_AFTER_LIMIT = 100 * MB
STATUS_BOUND = 5.0  # seconds: what a loaded machine surely meets; the 100 ms goal is benched


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGlm]:
    with FakeGlm() as fake:
        yield fake


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lsp(fake: FakeGlm, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RawLsp]:
    async with hostile_server(fake, tmp_path_factory.mktemp("hostile")) as lsp:
        yield lsp


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
async def test_hostile_upstream(lsp: RawLsp, fake: FakeGlm, attack: Attack) -> None:
    result = await run_attack(lsp, fake, attack)

    assert result.runs >= 1
    assert result.rss_during, "no RSS sample was taken"
    assert max(result.rss_during) < RSS_DURING_LIMIT, f"peak {result.peak_rss_mb:.0f} MB"
    assert result.rss_after < RSS_AFTER_LIMIT, f"after {result.rss_after_mb:.0f} MB"
    for shown in result.messages:  # every run: exactly one message, the clear one
        assert len(shown) == 1, shown
        assert attack.message in shown[0], shown
        assert "RecursionError" not in shown[0]
    if attack.applies is not None:
        assert len(result.edits) == result.runs
        assert all(attack.applies in text for text in result.edits)
    else:
        assert result.edits == []
    if attack.tool_result is not None:  # the model was told, and the loop went on
        tool_messages = [m for m in fake.requests[-1].messages if m.get("role") == "tool"]
        assert tool_messages and str(tool_messages[-1]["content"]).startswith(attack.tool_result)
    assert result.status_failures == 0
    assert result.status_latencies, "glm.status was never answered during the attack"
    assert max(result.status_latencies) < STATUS_BOUND
    await lsp.status()
