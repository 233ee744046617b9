"""Chat-style completion replies through the real server, early stop on (the default): a
reply that opens with a sentence and then gives the code in a fenced block offers the
block's code, and the stream is still closed as soon as that code is complete."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import inline, start_session

ADD = "def add(a, b):\n    return \n"
AFTER_RETURN = types.Position(line=1, character=len("    return "))
CHATTY = "Here is the completion for the cursor:\n```python\na + b\n```\n" + "".join(
    f"\nThis adds the two numbers, note {n}." for n in range(100)
)


async def test_a_sentence_then_a_fenced_block_offers_the_code(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(Reply(text=CHATTY, chunk_size=4, chunk_delay=0.01))
    options = {"completion": {"debounceMs": 0}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        uri = editor.open("calc.py", ADD)
        assert await inline(client, uri, AFTER_RETURN) == ["a + b"]
        # Early stop worked on the code after the sentence: the long tail was never read.
        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 5.0)
        assert fake_glm.requests[0].chunks_sent < len(CHATTY) // 4 // 2
