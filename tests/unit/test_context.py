from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from glm_lsp.context.target import (
    InstructionComment,
    conventional_test_path,
    enclosing_block,
    excerpt_around,
    instruction_comments,
    instruction_target,
    language_id,
    uri_path,
)

PYTHON = """\
import os


class Greeter:
    @staticmethod
    def hello(name):
        if name:
            return f"hi {name}"

        return "hi"

    def bye(self):
        return "bye"


VALUE = 1
""".splitlines()

JS = """\
const x = 1;
function add(a, b) {
  if (a) {
    return a + b;
  } else {
    return b;
  }
}
add(1, 2);
""".splitlines()


def test_language_prefers_the_client_language_id() -> None:
    assert language_id("file:///a/b.py", "cython") == "cython"
    assert language_id("file:///a/b.py") == "python"
    assert language_id("file:///a/b.test.tsx") == "typescriptreact"
    assert language_id("file:///a/README") == "text"


def test_uri_path_decodes_percent_escapes() -> None:
    assert uri_path("file:///tmp/my%20dir/x.py") == PurePosixPath("/tmp/my dir/x.py")


def test_enclosing_block_inside_a_method_is_the_method_with_its_decorator() -> None:
    line = PYTHON.index('            return f"hi {name}"')
    assert enclosing_block(PYTHON, line) == (4, 9)


def test_enclosing_block_on_a_blank_line_inside_a_method() -> None:
    assert enclosing_block(PYTHON, 8) == (4, 9)


def test_enclosing_block_on_a_class_line_is_the_class() -> None:
    assert enclosing_block(PYTHON, 3) == (3, 12)


def test_enclosing_block_of_a_top_level_statement_is_the_line() -> None:
    assert enclosing_block(PYTHON, PYTHON.index("VALUE = 1")) == (15, 15)


def test_enclosing_block_in_braces_includes_else_and_the_closing_brace() -> None:
    assert enclosing_block(JS, 3) == (1, 7)
    assert enclosing_block(JS, 0) == (0, 0)


def test_enclosing_block_without_definitions_is_the_innermost_block() -> None:
    lines = ["for i in x:", "    if i:", "        go(i)", "done()"]
    assert enclosing_block(lines, 2) == (1, 2)


@pytest.mark.parametrize(
    ("line", "instruction"),
    [
        ("# glm: add type hints", "add type hints"),
        ("    // GLM: handle errors", "handle errors"),
        ("-- glm: use a join", "use a join"),
        ("/* glm: make it const */", "make it const"),
        ("<!-- glm: add alt text -->", "add alt text"),
        ("; glm: simplify", "simplify"),
    ],
)
def test_instruction_comments_in_many_comment_styles(line: str, instruction: str) -> None:
    assert instruction_comments([line], 0, 0) == [InstructionComment(0, instruction)]


def test_non_comments_and_empty_instructions_are_ignored() -> None:
    lines = ['x = "# glm: not me"', "# glm:", "# glm is great"]
    assert instruction_comments(lines, 0, 2) == []


def test_instruction_target_inside_a_function_is_the_function() -> None:
    lines = ["def f(x):", "    # glm: validate x", "    return x * 2", "", "y = 1"]
    assert instruction_target(lines, 1) == (0, 2)


def test_instruction_target_above_a_function_is_comment_plus_function() -> None:
    lines = ["# glm: add a docstring", "def f(x):", "    return x", "", "y = 1"]
    assert instruction_target(lines, 0) == (0, 2)


def test_instruction_target_alone_is_the_line() -> None:
    assert instruction_target(["x = 1", "", "# glm: add logging"], 2) == (2, 2)


def test_small_files_are_shown_whole() -> None:
    text = "a\nb\nc\n"
    assert excerpt_around(text, 2, 3).text == text


def test_large_files_are_cut_at_lines_around_the_selection() -> None:
    text = "".join(f"line {n}\n" for n in range(1000))
    start = text.index("line 500\n")
    excerpt = excerpt_around(text, start, start + 9, max_chars=300)
    assert "line 500\n" in excerpt.text
    assert not excerpt.whole_file
    assert excerpt.text.startswith("line ") and excerpt.text.endswith("\n")
    assert excerpt.text.splitlines()[0] == f"line {excerpt.first_line}"
    assert len(excerpt.text) < 400


ROOT = PurePosixPath("/ws")


@pytest.mark.parametrize(
    ("source", "language", "has_tests", "expected"),
    [
        ("/ws/pkg/calc.py", "python", True, "/ws/tests/test_calc.py"),
        ("/ws/pkg/calc.py", "python", False, "/ws/pkg/test_calc.py"),
        ("/ws/src/calc.ts", "typescript", False, "/ws/src/calc.test.ts"),
        ("/ws/src/view.jsx", "javascriptreact", False, "/ws/src/view.test.jsx"),
        ("/ws/calc/calc.go", "go", False, "/ws/calc/calc_test.go"),
        ("/ws/src/lib.rs", "rust", False, "/ws/src/lib.rs"),
        ("/ws/tests/test_calc.py", "python", True, "/ws/tests/test_calc.py"),
        ("/ws/calc.rb", "ruby", False, "/ws/test_calc.rb"),
    ],
)
def test_conventional_test_path(source: str, language: str, has_tests: bool, expected: str) -> None:
    path = conventional_test_path(PurePosixPath(source), language, ROOT, has_tests)
    assert path == PurePosixPath(expected)


@pytest.mark.parametrize(
    ("lines", "path"), [(PYTHON, "greeter.py"), (JS, "add.js")], ids=["python", "javascript"]
)
def test_enclosing_block_from_the_syntax_tree_agrees_on_plain_code(
    lines: list[str], path: str
) -> None:
    for line in range(len(lines)):
        if lines[line].strip() == "}":  # the tree knows the closing brace is the function's
            assert enclosing_block(lines, line, path) == (1, 7)
        elif lines[line].strip():
            assert enclosing_block(lines, line, path) == enclosing_block(lines, line), line


def test_enclosing_block_from_the_syntax_tree_where_indentation_misleads() -> None:
    """A C function whose body is not indented, a Go struct literal inside a function, a
    Python call spanning lines: the tree knows where each ends."""
    c = ["int add(int a, int b)", "{", "return a + b;", "}", "", "int x = 1;"]
    assert enclosing_block(c, 2, "add.c") == (0, 3)
    assert enclosing_block(c, 2) != (0, 3)  # by indentation: the line alone
    go = ["func f() int {", "\tx := T{", "\t\tA: 1,", "\t}", "\treturn x.A", "}"]
    assert enclosing_block(go, 2, "f.go") == (0, 5)
    rust = ["impl Queue {", "    pub fn push(&mut self) {", "        self.n += 1;", "    }", "}"]
    assert enclosing_block(rust, 2, "q.rs") == (1, 3)


@pytest.mark.parametrize("path", [None, "calc.py"], ids=["indentation", "syntax-tree"])
def test_instruction_target_agrees_with_and_without_the_tree(path: str | None) -> None:
    lines = [
        "# glm: add type hints",
        "def add(a, b):",
        "    # glm: handle None",
        "    return a + b",
        "",
        "x = 1",
    ]
    assert instruction_target(lines, 0, path) == (0, 3)  # the function below
    assert instruction_target(lines, 2, path) == (1, 3)  # the function around
