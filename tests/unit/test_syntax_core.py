"""The syntax core's guards: what gives no context (and no error), what still gives
definitions, and that grammars load only when a file of their language is read."""

from __future__ import annotations

import subprocess
import sys

from glm_lsp.syntax.languages import MAX_BYTES, grammar_for_path
from glm_lsp.syntax.outline import outline_of


def test_unknown_binary_and_oversized_files_give_nothing_and_no_error() -> None:
    assert grammar_for_path("notes.txt") is None
    assert outline_of("def f():\n    pass\n", "notes.txt") is None
    assert outline_of("def f():\n    pass\n\x00\x01\x02", "f.py") is None
    big = "def f():\n    pass\n" + "x = 1\n" * (MAX_BYTES // 6 + 1)
    assert len(big) > MAX_BYTES
    assert outline_of(big, "big.py") is None


def test_a_file_with_syntax_errors_still_gives_its_definitions() -> None:
    text = "def ok(a, b):\n    return a\n\n\ndef broken(:\n    pass\n\n\nclass Fine:\n    x = 1\n"
    outline = outline_of(text, "m.py")
    assert outline is not None
    assert "ok" in outline.definitions and "Fine" in outline.definitions
    go = "package m\n\nfunc Good() int {\n\treturn 1\n}\n\nfunc Bad( {\n"
    go_outline = outline_of(go, "m.go")
    assert go_outline is not None and "Good" in go_outline.definitions


def test_tsx_and_d_ts_files_are_typescript() -> None:
    tsx = "export function Card(p: { title: string }) {\n  return <div>{p.title}</div>;\n}\n"
    outline = outline_of(tsx, "card.tsx")
    assert outline is not None and "Card" in outline.definitions
    assert grammar_for_path("types.d.ts") is not None


def test_grammars_load_on_first_use_only() -> None:
    """An idle server has no tree-sitter in memory; reading a Rust file loads Rust alone."""
    script = (
        "import sys\n"
        "import glm_lsp.lsp.server, glm_lsp.context.sources\n"
        "from glm_lsp.syntax.languages import loaded_names\n"
        "from glm_lsp.syntax.outline import outline_of\n"
        "print(any(m.startswith('tree_sitter') for m in sys.modules))\n"
        "outline_of('fn main() {}', 'main.rs')\n"
        "print(loaded_names())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split("\n")[:2] == ["False", "['rust']"]


def test_typing_reparses_incrementally_and_sees_what_a_fresh_parse_sees() -> None:
    from glm_lsp.syntax.outline import scope_at

    grammar = grammar_for_path("a.py")
    assert grammar is not None
    text = "from util import scale\n\n\ndef run(v, inv: Inventory):\n    x = 1\n    "
    previous = None
    for typed in ("s", "c", "a", "l", "e", " = 2\n    ", "inv.", "r"):
        text += typed
        cursor = len(text)
        incremental = scope_at(text, "a.py", grammar, cursor, cursor, previous)
        fresh = scope_at(text, "a.py", grammar, cursor, cursor)
        assert incremental is not None and fresh is not None
        assert incremental[0] == fresh[0]
        previous = incremental[1]
    assert {"run", "v", "inv", "x", "scale"} <= set(fresh[0].names)
    assert fresh[0].receivers == {"inv": "Inventory"}


def test_every_grammar_loads_with_its_query() -> None:
    """A query file that no longer compiles against its grammar (a grammar wheel renamed a
    node) would silently cost that language its context."""
    from glm_lsp.syntax.languages import GRAMMARS, load

    assert len({g.family for g in GRAMMARS}) == 9  # python js go rust java c csharp ruby php
    assert all(load(grammar) is not None for grammar in GRAMMARS)
