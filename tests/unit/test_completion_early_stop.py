"""Where a streamed reply is complete enough to close the upstream stream."""

from __future__ import annotations

import pytest

from glm_lsp.completion.cursor import Shape, cursor_at
from glm_lsp.completion.early_stop import completion_end


def stop_point(document: str, reply: str, language: str = "python") -> str | None:
    """Feed ``reply`` a character at a time; the text kept when it first says "complete"."""
    offset = document.index("|")
    cursor = cursor_at("a.py", language, document.replace("|", "", 1), offset)
    for size in range(len(reply) + 1):
        end = completion_end(reply[:size], cursor)
        if end is not None:
            return reply[:end]
    return None


def test_mid_line_stops_at_end_of_line() -> None:
    assert stop_point("def add(a, b):\n    return |\n", "a + b\nprint(1)\n") == "a + b"


def test_single_line_waits_for_the_newline() -> None:
    offset = len("x = ")
    cursor = cursor_at("a.py", "python", "x = \n", offset)
    assert completion_end("compute(", cursor) is None


def test_fenced_reply_skips_the_fence_line() -> None:
    reply = "```python\n    return a + b\n```"
    assert stop_point("def add(a, b):\n    return |\n", reply) == "```python\n    return a + b"


def test_lone_backticks_are_undecided() -> None:
    cursor = cursor_at("a.py", "python", "x = \n", 4)
    assert completion_end("``", cursor) is None
    assert completion_end("```py", cursor) is None


def test_repeated_lines_above_do_not_end_a_line_suggestion() -> None:
    reply = "def add(a, b):\n    return a + b\n\nx"
    assert stop_point("def add(a, b):\n    return |\n", reply) == "def add(a, b):\n    return a + b"


def test_block_ends_at_dedent_back_to_the_opening_line() -> None:
    reply = "\n    c = a + b\n    return c\n\ndef mul(a, b):\n    pass\n"
    kept = stop_point("def add(a, b):|\n", reply)
    assert kept is not None
    assert kept.rstrip() == "\n    c = a + b\n    return c"


def test_else_continues_a_block() -> None:
    reply = "\n    if a:\n        return 1\n    else:\n        return 2\nprint(3)\n"
    kept = stop_point("def f(a):|\n", reply)
    assert kept == "\n    if a:\n        return 1\n    else:\n        return 2"


def test_closing_brace_is_part_of_the_block() -> None:
    reply = "\n  return 1;\n}\nfoo();\n"
    assert stop_point("function f() {|}\n", reply, "javascript") == "\n  return 1;\n}"


def test_brace_else_continues() -> None:
    reply = "\n  a();\n} else {\n  b();\n}\nc();"
    kept = stop_point("if (x) {|}\n", reply, "javascript")
    assert kept == "\n  a();\n} else {\n  b();\n}"


def test_blank_line_stops_below_the_cursor_level() -> None:
    reply = "x = 1\n    return x\n\ndef g():\n"
    kept = stop_point("def f():\n    |\n", reply)
    assert kept is not None
    assert kept.rstrip() == "x = 1\n    return x"


def test_relative_snippet_is_not_cut_after_its_first_line() -> None:
    reply = "if x:\n    return 1\nreturn 2\n```"
    # Without a fence the relative snippet never dedents below its own first line.
    assert stop_point("def f(x):\n    |\n", reply) is None


def test_closing_fence_ends_a_block() -> None:
    reply = "```python\nif x:\n    return 1\nreturn 2\n```\nExplanation"
    assert stop_point("def f(x):\n    |\n", reply) == "```python\nif x:\n    return 1\nreturn 2\n"


def test_nothing_complete_yet() -> None:
    cursor = cursor_at("a.py", "python", "def f():\n", len("def f():"))
    assert completion_end("\n    return", cursor) is None


@pytest.mark.parametrize(
    ("document", "shape"),
    [
        ("x = |\n", Shape.LINE),
        ("print(|value)\n", Shape.LINE),
        ("def f():|\n", Shape.BLOCK),
        ("function f() {|}\n", Shape.BLOCK),
        ("call(|)\n", Shape.BLOCK),
        ("def f():\n    |\n", Shape.LINES),
        ("|", Shape.LINES),
    ],
)
def test_shape_of_the_cursor(document: str, shape: Shape) -> None:
    offset = document.index("|")
    assert cursor_at("a.py", "python", document.replace("|", ""), offset).shape is shape
