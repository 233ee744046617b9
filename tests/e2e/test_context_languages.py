"""One completion per language through the real server: the prompt the fake GLM receives
holds the definition from the other file the code at the cursor calls (the issue's
examples: ``rect_area(`` in Rust, ``Money.ofCents(`` in Java, ``vec2_add(`` in C,
``t.start(`` in C++, ``TaxCalculator.Compute(`` in C#, ``Slugger.slugify(`` in Ruby…)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from glm_lsp.context.definitions import language_of
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import inline, start_session
from tests.unit.test_syntax_languages import CASES, Case

FAST = {"completion": {"debounceMs": 0}}
# One case per language: the definition in another file (for C++, the method on `t`).
CHOSEN = [c for c in CASES if c.aspect == ("receivers" if c.language == "cpp" else "definitions")]


@pytest.mark.parametrize("case", CHOSEN, ids=[c.language for c in CHOSEN])
async def test_a_completion_sends_the_definition_it_calls(
    case: Case, fake_glm: FakeGlm, tmp_path: Path
) -> None:
    text = case.code.replace("@@", "")
    for name, content in {**case.files, case.path: text}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content, encoding="utf-8")
    before = case.code[: case.code.index("@@")]
    position = types.Position(line=before.count("\n"), character=len(before.rsplit("\n", 1)[-1]))
    fake_glm.enqueue(Reply(text="x"))
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open(case.path, language_id=language_of(case.path) or "plaintext")
        await inline(client, uri, position)
        prompt = fake_glm.requests[0].text()
        for expected in case.present:
            assert expected in prompt
