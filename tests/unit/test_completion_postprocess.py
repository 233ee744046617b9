"""Cleaning realistic model replies into the text inserted at the cursor.

Each case is a document with ``|`` at the cursor, the reply a chat model gave, and what
lands in the buffer (None: no suggestion at all).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_lsp.completion.cursor import Cursor, cursor_at
from glm_lsp.completion.early_stop import completion_end
from glm_lsp.completion.postprocess import clean_completion, code_of_reply


def cursor_in(document: str, language: str = "python") -> Cursor:
    offset = document.index("|")
    return cursor_at("src/app.py", language, document.replace("|", "", 1), offset)


def inserted(document: str, reply: str, language: str = "python") -> str | None:
    return clean_completion(reply, cursor_in(document, language))


RETURN_LINE = "def add(a, b):\n    return |\n"

CASES: list[tuple[str, str, str, str | None]] = [
    # (name, document, reply, expected insertion)
    ("plain answer", RETURN_LINE, "a + b", "a + b"),
    ("fenced with language", RETURN_LINE, "```python\n    return a + b\n```", "a + b"),
    ("fenced without language", RETURN_LINE, "```\na + b\n```", "a + b"),
    (
        "prose around a fence",
        RETURN_LINE,
        "Here is the completion:\n\n```python\na + b\n```\n\nThis returns the sum of a and b.",
        "a + b",
    ),
    ("inline code answer", RETURN_LINE, "`a + b`", "a + b"),
    ("repeats the whole line", RETURN_LINE, "    return a + b", "a + b"),
    ("repeats the line without indentation", RETURN_LINE, "return a + b", "a + b"),
    (
        "repeats the function header too",
        RETURN_LINE,
        "def add(a, b):\n    return a + b",
        "a + b",
    ),
    ("CRLF reply", RETURN_LINE, "a + b\r\n", "a + b"),
    ("trailing blanks", RETURN_LINE, "a + b   \n\n\n", "a + b"),
    ("empty reply", RETURN_LINE, "", None),
    ("blank reply", RETURN_LINE, "  \n\n ", None),
    ("empty fence", RETURN_LINE, "```python\n```", None),
    ("unterminated fence (stream cut)", RETURN_LINE, "```python\n    return a + b\n", "a + b"),
    ("leaked thinking", RETURN_LINE, "<think>sum them</think>a + b", "a + b"),
    ("echoed cursor marker", RETURN_LINE, "<|cursor|>a + b", "a + b"),
    ("partial word repeated", "x = comp|\n", "compute(y)", "ute(y)"),
    ("last tokens repeated", "total = compute(|\n", "compute(x, y)", "x, y)"),
    ("closing paren already there", "print(|)\n", "'hello')", "'hello'"),
    ("balanced call kept whole", "print(|)\n", "len(items)", "len(items)"),
    ("closing quote and paren there", 'print("|")\n', 'hello")', "hello"),
    ("rest of the line repeated", "def area(|):\n", "width, height):", "width, height"),
    (
        "argument list repeated after the cursor",
        "result = combine(first|, second)\n",
        "_part, second)",
        "_part",
    ),
    ("only the rest of the line", "value = pri|nt(x)\n", "nt(x)", None),
    ("two closers repeated", "total = outer(inner(|))\n", "x))", "x"),
    ("one of two closers repeated", "total = outer(inner(|))\n", "x)", "x"),
    (
        "next line repeated",
        "def f(x):\n    y = x * 2\n    |\n    return y\n",
        "y += 1\n    return y",
        "y += 1",
    ),
    (
        "suggestion equal to the next line",
        "def f(x):\n    |\n    return x\n",
        "    return x",
        None,
    ),
    (
        "fenced body re-indented under a method",
        "class Shape:\n    def area(self):|\n",
        "```python\ndef area(self):\n    if self.empty:\n        return 0\n"
        "    return self.w * self.h\n```",
        "\n        if self.empty:\n            return 0\n        return self.w * self.h",
    ),
    (
        "relative snippet on an indented blank line",
        "class Shape:\n    def area(self):\n        |\n",
        "```\nif self.empty:\n    return 0\nreturn self.w * self.h\n```",
        "if self.empty:\n            return 0\n        return self.w * self.h",
    ),
    (
        "first line without its indentation, rest in place",
        "class Shape:\n    def area(self):\n        |\n",
        "if self.empty:\n            return 0\n        return self.w * self.h",
        "if self.empty:\n            return 0\n        return self.w * self.h",
    ),
    (
        "body without a leading newline",
        "class Shape:\n    def area(self):|\n",
        "    return self.w * self.h",
        "\n        return self.w * self.h",
    ),
    (
        "tabs in a spaces file",
        "def f(x):\n    |\n",
        "if x:\n\treturn 1\nreturn 2",
        "if x:\n        return 1\n    return 2",
    ),
    (
        "spaces in a tabs file",
        "func f() {\n\t|\n}\n",
        "    x := 1\n    return x",
        "x := 1\n\treturn x",
    ),
    (
        "brace body, closing brace already after the cursor",
        "function f() {|}\n",
        "\n  return 1;\n}",
        "\n  return 1;\n",
    ),
    (
        "leading space after a space",
        RETURN_LINE,
        " a + b",
        "a + b",
    ),
    (
        "mid-line: only the first line is kept",
        "value = |\nprint(value)\n",
        "compute()\nother = 2",
        "compute()",
    ),
]


@pytest.mark.parametrize(
    ("document", "reply", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_reply_is_cleaned_to_the_insertion(document: str, reply: str, expected: str | None) -> None:
    # The two non-Python documents say which language they are.
    language = "go" if "func " in document else "python"
    if "function " in document:
        language = "javascript"
    assert inserted(document, reply, language) == expected


def test_there_are_many_realistic_cases() -> None:
    assert len(CASES) >= 25


def test_crlf_document_gets_crlf_suggestion() -> None:
    document = "def f(x):\r\n    |\r\n"
    offset = document.index("|")
    cursor = cursor_at("a.py", "python", document.replace("|", ""), offset)
    reply = "if x:\n        return 1\n    return 2"
    assert clean_completion(reply, cursor) == "if x:\r\n        return 1\r\n    return 2"


def test_code_of_reply_takes_the_first_non_empty_block() -> None:
    reply = "```\n```\nthen\n```js\nlet a = 1;\n```\n```js\nlet b = 2;\n```"
    assert code_of_reply(reply) == "let a = 1;"


def test_code_of_reply_keeps_a_leading_newline_of_a_bare_answer() -> None:
    assert code_of_reply("\n    return 1") == "\n    return 1"


CODEISH = st.text(alphabet=" \t\n\r(){}[]:;,.\"'`#=abcdefx_0123456789", max_size=120)


@settings(max_examples=300, deadline=None)
@given(document=CODEISH, offset_fraction=st.floats(0, 1), reply=CODEISH)
def test_any_reply_cleans_to_text_or_nothing(
    document: str, offset_fraction: float, reply: str
) -> None:
    offset = int(len(document) * offset_fraction)
    cursor = cursor_at("a.py", "python", document, offset)
    cleaned = clean_completion(reply, cursor)
    assert cleaned is None or cleaned.strip()
    end = completion_end(reply, cursor)
    assert end is None or 0 <= end <= len(reply)
