from __future__ import annotations

from lsprotocol.types import Diagnostic, DiagnosticSeverity, Position, Range

from glm_lsp.context.target import Excerpt
from glm_lsp.lsp.diagnostics import describe_diagnostic
from glm_lsp.prompts import (
    SYSTEM_PROMPT,
    CodeRequest,
    StyleSample,
    explain_messages,
    fence_for,
    fix_messages,
    generate_tests_messages,
    refactor_messages,
)

FILE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


def request(selection: str = "def add(a, b):\n    return a + b\n", **extra: object) -> CodeRequest:
    values: dict[str, object] = {
        "language": "python",
        "path": "pkg/calc.py",
        "excerpt": Excerpt(FILE, 0, True),
        "selection": selection,
        "first_line": 0,
        "last_line": 1,
    }
    values.update(extra)
    return CodeRequest(**values)  # type: ignore[arg-type]


def user_text(messages: list[dict[str, str]]) -> str:
    assert [m["role"] for m in messages] == ["system", "user"]
    return messages[1]["content"]


def test_every_action_shares_the_same_prefix_for_the_context_cache() -> None:
    all_messages = [
        explain_messages(request()),
        refactor_messages(request()),
        fix_messages(request()),
        generate_tests_messages(request(), "tests/test_calc.py", appending=False),
    ]
    assert all(m[0]["content"] == SYSTEM_PROMPT for m in all_messages)
    prefixes = {user_text(m).split("Selected code")[0] for m in all_messages}
    assert len(prefixes) == 1
    (prefix,) = prefixes
    assert "File: pkg/calc.py" in prefix and "Language: python" in prefix
    assert FILE in prefix


def test_the_selection_and_its_lines_are_shown() -> None:
    text = user_text(explain_messages(request()))
    assert "Selected code (lines 1-2):\n```python\ndef add(a, b):\n    return a + b\n```" in text


def test_code_tasks_ask_for_exactly_one_fenced_block_and_explain_does_not() -> None:
    for messages in (
        refactor_messages(request()),
        fix_messages(request()),
        generate_tests_messages(request(), "t.py", appending=False),
    ):
        assert "exactly one fenced code block" in user_text(messages)
    assert "Markdown" in user_text(explain_messages(request()))
    assert "exactly one fenced" not in user_text(explain_messages(request()))


def test_refactor_carries_the_instruction_or_a_default() -> None:
    assert "Instruction: use a list comprehension" in user_text(
        refactor_messages(request(), "use a list comprehension")
    )
    assert "readability" in user_text(refactor_messages(request(), None))


def test_fix_lists_the_diagnostics() -> None:
    diagnostic = Diagnostic(
        range=Range(start=Position(line=1, character=4), end=Position(line=1, character=10)),
        message="undefined name 'c'",
        severity=DiagnosticSeverity.Error,
        source="pyflakes",
        code="F821",
    )
    text = user_text(fix_messages(request(diagnostics=(describe_diagnostic(diagnostic),))))
    assert "- line 2: error: undefined name 'c' [pyflakes F821]" in text
    assert "diagnostics listed above" in text


def test_fix_without_diagnostics_asks_for_bugs() -> None:
    assert "any bug you find" in user_text(fix_messages(request()))


def test_generate_tests_shows_the_style_sample_and_where_tests_go() -> None:
    sample = StyleSample("tests/test_other.py", "import pytest\n\n\ndef test_x():\n    assert 1\n")
    text = user_text(
        generate_tests_messages(request(), "tests/test_calc.py", appending=False, sample=sample)
    )
    assert "existing test file of this project (tests/test_other.py)" in text
    assert "def test_x():" in text
    assert "new file, tests/test_calc.py" in text


def test_generate_tests_when_appending_asks_not_to_repeat_imports() -> None:
    text = user_text(generate_tests_messages(request(), "tests/test_calc.py", appending=True))
    assert "appended to the end of tests/test_calc.py" in text
    assert "do not repeat its imports" in text


def test_a_window_of_a_large_file_names_its_lines() -> None:
    excerpt = Excerpt("a = 1\nb = 2\n", 41, False)
    assert "Lines 42-43 of the file:" in user_text(explain_messages(request(excerpt=excerpt)))


def test_code_containing_fences_gets_a_longer_fence() -> None:
    assert fence_for("x = '```'") == "````"
    assert fence_for("plain") == "```"
    text = user_text(explain_messages(request(selection="s = '```'\n")))
    assert "````python\ns = '```'\n````" in text
