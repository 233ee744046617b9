from __future__ import annotations

import pytest

from glm_lsp.parse import (
    drop_instruction_comment,
    extract_code,
    fenced_blocks,
    fit_to_selection,
    reads_as_prose,
    strip_thinking,
    text_to_append,
)


def test_prose_around_a_fenced_block_is_dropped() -> None:
    reply = "Here is the refactor:\n\n```python\ndef f():\n    return 2\n```\n\nIt is clearer."
    assert extract_code(reply) == "def f():\n    return 2"


def test_tilde_fences_work() -> None:
    assert extract_code("~~~js\nlet a = 1;\n~~~") == "let a = 1;"


def test_an_unterminated_fence_runs_to_the_end() -> None:
    assert extract_code("Sure:\n```go\nfunc f() {}\n") == "func f() {}"


def test_a_reply_without_fences_is_taken_whole() -> None:
    assert extract_code("\n\n    x = 1\ny = 2\n\n") == "    x = 1\ny = 2"


def test_the_first_substantial_block_wins_over_a_short_command() -> None:
    reply = (
        "Install it:\n```sh\npip install x\n```\nThen:\n```python\n"
        "import x\n\n\ndef main():\n    x.run()\n    x.stop()\n```\n"
        "Or:\n```python\nimport x\nx.run_everything_at_once_in_one_call()\n```"
    )
    assert extract_code(reply).startswith("import x\n\n\ndef main():")


def test_the_first_of_similar_blocks_wins() -> None:
    assert extract_code("```\nfirst = 1\n```\n```\nsecond = 2\n```") == "first = 1"


def test_a_longer_fence_can_hold_a_shorter_one() -> None:
    reply = "````markdown\n```python\nx = 1\n```\n````"
    assert extract_code(reply) == "```python\nx = 1\n```"


def test_an_indented_fence_dedents_its_content() -> None:
    reply = "1. Change it:\n   ```python\n   if x:\n       y()\n   ```"
    assert extract_code(reply) == "if x:\n    y()"


def test_an_empty_block_falls_back_to_the_whole_reply() -> None:
    assert extract_code("```\n```\nx = 1") == "```\n```\nx = 1"


def test_thinking_that_leaked_is_stripped() -> None:
    assert strip_thinking("<think>hmm, maybe</think>answer") == "answer"
    assert strip_thinking("lost start of reasoning</think>answer") == "answer"
    assert extract_code("<think>```python\nwrong = 1\n```</think>```python\nright = 1\n```") == (
        "right = 1"
    )


def test_fenced_blocks_report_info_and_closure() -> None:
    blocks = fenced_blocks("```python title\na\n```\n~~~\nb")
    assert [(b.info, b.code, b.closed) for b in blocks] == [
        ("python title", "a", True),
        ("", "b", False),
    ]


def test_fit_restores_the_trailing_newline_of_a_full_line_selection() -> None:
    assert fit_to_selection("x = 2", "x = 1\n", starts_at_line_start=True) == "x = 2\n"
    assert fit_to_selection("x = 2", "x = 1", starts_at_line_start=True) == "x = 2"


def test_fit_reindents_code_the_model_dedented() -> None:
    selection = "    def f(self):\n        return 1\n"
    code = "def f(self):\n    return 2"
    expected = "    def f(self):\n        return 2\n"
    assert fit_to_selection(code, selection, starts_at_line_start=True) == expected


def test_fit_keeps_indentation_the_model_already_kept() -> None:
    selection = "    a()\n    b()\n"
    assert fit_to_selection("    a()\n    c()", selection, starts_at_line_start=True) == (
        "    a()\n    c()\n"
    )


def test_fit_does_not_reindent_a_selection_starting_mid_line() -> None:
    assert fit_to_selection("g(1)", "f(1)", starts_at_line_start=False) == "g(1)"


def test_fit_keeps_crlf_line_endings() -> None:
    assert fit_to_selection("a\nb", "x\r\ny\r\n", starts_at_line_start=True) == "a\r\nb\r\n"


def test_the_instruction_comment_is_dropped_from_the_code() -> None:
    code = "def f(x):\n    # glm: validate x\n    if x < 0:\n        raise ValueError(x)\n"
    assert drop_instruction_comment(code, "validate x") == (
        "def f(x):\n    if x < 0:\n        raise ValueError(x)\n"
    )
    assert drop_instruction_comment("# glm: other\nx = 1", "validate x") == "# glm: other\nx = 1"


def test_text_to_append_separates_with_blank_lines() -> None:
    assert text_to_append("", "def test_a():\n    pass", 2) == "def test_a():\n    pass\n"
    assert text_to_append("x = 1\n", "y = 2", 2) == "\n\ny = 2\n"
    assert text_to_append("x = 1", "y = 2", 1) == "\n\ny = 2\n"
    assert text_to_append("x = 1\n\n\n\n", "y = 2", 2) == "y = 2\n"
    assert text_to_append("x = 1\r\n", "y = 2\nz = 3", 1) == "\r\ny = 2\r\nz = 3\r\n"


@pytest.mark.parametrize(
    "reply",
    [
        "Swapped the operands.",
        "The code is already as simple as it can be; nothing to change.",
        "Renamed the variable.\nAlso added a docstring (see above).",
        "- Removed the loop.\n- Used sum() instead!",
    ],
)
def test_sentences_without_a_fence_read_as_prose(reply: str) -> None:
    assert reads_as_prose(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "def total(values):\n    return sum(values)",
        "return a + b",
        "x = compute(y).",
        "Console.WriteLine(total);",
        "SELECT name FROM users;",
        "Here:\n```python\nx = 1\n```\nDone.",
        "Total(values)",
        "",
    ],
)
def test_code_or_fenced_replies_do_not(reply: str) -> None:
    assert not reads_as_prose(reply)
