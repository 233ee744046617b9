"""The prompt shows the file around a marked cursor and asks for the insertion only."""

from __future__ import annotations

from glm_lsp.completion.cursor import cursor_at
from glm_lsp.completion.prompt import (
    CURSOR_MARKER,
    SYSTEM_PROMPT,
    completion_messages,
    window_after,
    window_before,
)


def test_messages_carry_path_language_and_marked_cursor() -> None:
    source = "def add(a, b):\n    return \n\nprint(add(1, 2))\n"
    offset = source.index("return ") + len("return ")
    messages = completion_messages(cursor_at("src/calc.py", "python", source, offset))
    assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    user = messages[1]["content"]
    assert "File: src/calc.py" in user
    assert "Language: python" in user
    assert f"    return {CURSOR_MARKER}\n\nprint(add(1, 2))" in user
    assert "insertion only" in SYSTEM_PROMPT


def test_system_prompt_is_stable_for_caching() -> None:
    first = completion_messages(cursor_at("a.py", "python", "x = 1\n", 2))
    second = completion_messages(cursor_at("b.go", "go", "package main\n", 3))
    assert first[0] == second[0]


def test_window_before_keeps_the_nearest_whole_lines() -> None:
    text = "\n".join(f"line {n:03d}" for n in range(1000)) + "\ncurrent = "
    window = window_before(text, 2000)
    assert len(window) <= 2000
    assert window.endswith("line 999\ncurrent = ")
    assert window.startswith("line ")  # a whole line, never half of one
    assert "line 000" not in window


def test_window_before_start_does_not_move_with_each_keystroke() -> None:
    text = "\n".join(f"line {n:03d}" for n in range(1000)) + "\n"
    starts = {window_before(text + "x" * typed, 2000).split("\n")[0] for typed in range(1, 40)}
    assert len(starts) == 1


def test_window_after_keeps_the_start() -> None:
    text = "rest)\n" + "\n".join(f"after {n:03d}" for n in range(1000))
    window = window_after(text, 500)
    assert window.startswith("rest)\nafter 000")
    assert len(window) <= 500


def test_short_text_is_kept_whole() -> None:
    assert window_before("a\nb", 100) == "a\nb"
    assert window_after("c\nd", 100) == "c\nd"


def test_a_huge_cursor_line_is_cut() -> None:
    assert len(window_before("x" * 50000, 1000)) == 1000
    assert len(window_after("y" * 50000, 1000)) == 1000
