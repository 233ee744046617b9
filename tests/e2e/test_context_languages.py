"""One completion per language through the real server: the prompt the fake GLM receives
holds the definition from the other file the code at the cursor calls (the issue's
examples: ``rect_area(`` in Rust, ``Money.ofCents(`` in Java, ``vec2_add(`` in C,
``t.start(`` in C++, ``TaxCalculator.Compute(`` in C#, ``Slugger.slugify(`` in Ruby…)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types

from glm_lsp.context.definitions import language_of
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, inline, start_session
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


C_SOURCE = "int add(int a, int b)\n{\nreturn a + b;\n}\n\nint x = 1;\n"


async def test_refactor_on_an_empty_range_takes_the_function_the_tree_sees(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """A C function whose body is not indented: the block around the cursor is the whole
    function (by indentation it was the line alone), so the reply replaces all of it."""
    (tmp_path / "add.c").write_text(C_SOURCE, encoding="utf-8")
    fake_glm.enqueue(Reply(text="```c\nint add(int a, int b) { return a + b; }\n```"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("add.c", language_id="c")
        empty = {"start": {"line": 2, "character": 3}, "end": {"line": 2, "character": 3}}
        await execute(client, "glm.refactor", {"uri": uri, "range": empty})
        assert editor.text(uri) == "int add(int a, int b) { return a + b; }\n\nint x = 1;\n"


@pytest.mark.parametrize("context_chars", [3000, 0], ids=["context-on", "context-off"])
async def test_a_completion_stops_when_its_block_closes(
    context_chars: int, fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """Early stop from the tree: the model writes the body of a C function unindented; the
    suggestion ends at the brace that closes the function, and the stream is closed there
    (by indentation alone the body's first line already looked like the block's end). With
    context off, the grammar loads while the reply streams."""
    (tmp_path / "add.c").write_text("int add(int a, int b) {\n", encoding="utf-8")
    tail = "".join(f"\nint f{n}(void) {{ return {n}; }}" for n in range(80))
    reply = "\nint c = a + b;\nreturn c;\n}" + tail
    fake_glm.enqueue(Reply(text=reply, chunk_size=4, chunk_delay=0.02))
    options = {"completion": {"debounceMs": 0, "contextChars": context_chars}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        uri = editor.open("add.c", language_id="c")
        offered = await inline(client, uri, types.Position(line=0, character=23))
        assert len(offered) == 1  # (re-indented by the clean-up; the lines are the model's)
        assert [line.strip() for line in offered[0].split("\n")] == [
            "",
            "int c = a + b;",
            "return c;",
            "}",
        ]
        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 10.0)
        assert fake_glm.requests[0].chunks_sent < 200  # of ~600
