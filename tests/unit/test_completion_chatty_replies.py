"""A chat model that opens its completion with a sentence ("Here is the completion:") and
then gives the code: the suggestion is the code, never the sentence, and early stop does
not cut the reply at the sentence."""

from __future__ import annotations

import pytest

from glm_lsp.completion.cursor import Cursor, cursor_at
from glm_lsp.completion.early_stop import completion_end
from glm_lsp.completion.postprocess import clean_completion

ADD = "def add(a, b):\n    return \n"


def cursor(document: str, marker: str, language: str = "python") -> Cursor:
    return cursor_at("calc.py", language, document, document.index(marker) + len(marker))


def streamed(reply: str, at: Cursor) -> str | None:
    """What the engine inserts: the reply read chunk by chunk until early stop says the
    suggestion is complete, then cleaned."""
    for size in range(1, len(reply) + 1):
        end = completion_end(reply[:size], at)
        if end is not None:
            return clean_completion(reply[:end], at)
    return clean_completion(reply, at)


@pytest.mark.parametrize(
    "reply",
    [
        "Here is the completion:\n```python\na + b\n```\nThis adds the numbers.",
        "Sure! Here's the code to insert:\n\n```python\n    return a + b\n```",
        "Here is the completion:\n    return a + b\n",
        "The function should return the sum.\n```\na + b\n```",
        "Certainly, here is what goes at the cursor:\n~~~python\na + b\n~~~",
    ],
)
def test_the_code_after_a_lead_in_sentence_is_the_suggestion(reply: str) -> None:
    at = cursor(ADD, "return ")
    assert streamed(reply, at) == "a + b"
    assert clean_completion(reply, at) == "a + b"


def test_early_stop_waits_past_the_sentence() -> None:
    at = cursor(ADD, "return ")
    assert completion_end("Here is the completion:\n", at) is None
    assert completion_end("Here is the completion:\n```python\n", at) is None
    assert completion_end("Here is the completion:\n```python\na + b\n", at) is not None


def test_a_lone_sentence_is_no_suggestion() -> None:
    at = cursor(ADD, "return ")
    assert clean_completion("No completion is needed here.\n", at) is None


def test_a_block_body_after_a_sentence() -> None:
    document = "def add(a, b):\n\nprint(add(1, 2))\n"
    at = cursor_at("calc.py", "python", document, len("def add(a, b):\n"))
    reply = "Here is the body:\n```python\n    total = a + b\n    return total\n```"
    assert streamed(reply, at) == "    total = a + b\n    return total"


@pytest.mark.parametrize(
    ("document", "marker", "reply", "expected"),
    [
        (
            "x = 1  # Compute the \n",
            "# Compute the ",
            "Total of all values.\n",
            "Total of all values.",
        ),
        (
            'def f():\n    """Return \n',
            '"""Return ',
            "The sum of a and b.\n",
            "The sum of a and b.",
        ),
    ],
)
def test_in_a_comment_or_docstring_a_sentence_is_the_suggestion(
    document: str, marker: str, reply: str, expected: str
) -> None:
    assert streamed(reply, cursor(document, marker)) == expected


def test_code_lines_that_start_with_a_capital_are_not_sentences() -> None:
    go = "package main\n\nfunc main() {\n\t\n}\n"
    at = cursor_at("main.go", "go", go, go.index("{\n\t") + 3)
    assert streamed('Println("Hello, world!")\n', at) == 'Println("Hello, world!")'
    sql = "query = \n"
    assert streamed("SELECT name FROM users\n", cursor(sql, "query = ")) == "SELECT name FROM users"
