"""Early stop from the syntax tree: a suggestion is complete when the construct it opened
has closed, where indentation alone stops too early or never."""

from __future__ import annotations

import pytest

from glm_lsp.completion.cursor import cursor_at
from glm_lsp.completion.early_stop import completion_end
from glm_lsp.context.definitions import language_of
from glm_lsp.syntax.languages import grammar_for_path, load


def stop_point(path: str, document: str, reply: str) -> str | None:
    """Feed ``reply`` a character at a time; the text kept when it first says "complete"."""
    grammar = grammar_for_path(path)
    assert grammar is not None and load(grammar) is not None  # as the context gatherer does
    offset = document.index("|")
    cursor = cursor_at(path, language_of(path) or "text", document.replace("|", "", 1), offset)
    for size in range(len(reply) + 1):
        end = completion_end(reply[:size], cursor)
        if end is not None:
            return reply[:end]
    return None


@pytest.mark.parametrize(
    ("path", "document", "reply", "expected"),
    [
        # The model left the body unindented: indentation stopped before `return`.
        (
            "a.c",
            "int add(int a, int b) {|\n",
            "\nreturn a + b;\n}\nint main(void) {\n",
            "\nreturn a + b;\n}",
        ),
        # The closing brace at the body's level: indentation never saw the block end.
        (
            "a.js",
            "if (ready) {|\n",
            "\n    start();\n    }\n    stop();\n",
            "\n    start();\n    }",
        ),
        # Ruby's `end` closes what `def` opened on the cursor's line.
        ("a.rb", "def greet(name)|\n", "\n  puts name\nend\n\ngreet('a')\n", "\n  puts name\nend"),
        # A brace inside a string closes nothing.
        (
            "A.cs",
            "void Log() {|\n",
            '\n    Console.WriteLine("}");\n}\nvoid Next() {}\n',
            '\n    Console.WriteLine("}");\n}',
        ),
        # A closing brace inside a template substitution closes the substitution only.
        (
            "a.js",
            "function label(n) {|\n",
            "\n  return `${n} item${n === 1 ? '' : 's'}`;\n}\nx();\n",
            "\n  return `${n} item${n === 1 ? '' : 's'}`;\n}",
        ),
        # The editor closed the paren after the cursor: the suggestion only fills it.
        ("a.ts", "const x = foo(|);\n", "a, b\nconsole.log(x);\n", "a, b"),
    ],
    ids=[
        "c-unindented-body",
        "js-brace-at-body-level",
        "ruby-end",
        "csharp-brace-in-string",
        "js-template-substitution",
        "ts-auto-closed-paren",
    ],
)
def test_the_suggestion_ends_where_its_construct_closes(
    path: str, document: str, reply: str, expected: str
) -> None:
    assert stop_point(path, document, reply) == expected


def test_a_call_spanning_lines_is_not_cut_at_its_first_line() -> None:
    document = "fn main() {\n    let q = JobQueue::with(|\n}\n"
    assert stop_point("a.rs", document, "\n        8,\n    );\n    q.run();\n") == (
        "\n        8,\n    );"
    )
