"""Chat messages for the code actions (pure).

Every prompt starts with the same system message (with the project's rules files) and then
the same file block, so that consecutive actions on one file share a long prefix and hit
GLM's context cache; what differs (definitions from other files that the selection uses,
the selection, diagnostics, the task) comes after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from glm_lsp.context.rules import with_rules
from glm_lsp.context.target import Excerpt

Messages = list[dict[str, str]]

SYSTEM_PROMPT = (
    "You are GLM, a senior software engineer working inside the user's code editor through "
    "glm-lsp. Each request shows one file of the user's project, a selected part of it and a "
    "task. Follow the conventions of the surrounding code (naming, indentation, quoting, "
    "comments). When the task asks for code, reply with exactly one fenced code block holding "
    "only the requested code: no placeholder comments such as '... rest unchanged', no "
    "explanations inside the block. When the task asks for an explanation, answer in concise "
    "Markdown."
)

ONE_BLOCK = (
    "Reply with exactly one fenced code block and nothing else of substance: it replaces the "
    "selected code exactly, so include every selected line you keep and nothing outside the "
    "selection, with the same indentation."
)

DEFAULT_REFACTOR = "Refactor it for readability and maintainability without changing its behaviour."


@dataclass(frozen=True)
class CodeRequest:
    """What every code action shows the model."""

    language: str
    path: str  # as the user knows it: relative to the workspace root when possible
    excerpt: Excerpt
    selection: str
    first_line: int  # 0-based, inclusive
    last_line: int
    diagnostics: tuple[str, ...] = field(default=())
    rules: str = ""  # the project's rules files, for the system message
    context: str = ""  # definitions from other files that the selection uses


@dataclass(frozen=True)
class StyleSample:
    """An existing test file of the project, shown so generated tests match its style."""

    path: str
    text: str


def fence_for(code: str) -> str:
    """A backtick fence longer than any run of backticks inside ``code``."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    return "`" * max(3, longest + 1)


def fenced(code: str, language: str) -> str:
    fence = fence_for(code)
    body = code if code.endswith("\n") or not code else code + "\n"
    return f"{fence}{language}\n{body}{fence}"


def _file_block(request: CodeRequest) -> str:
    excerpt = request.excerpt
    if excerpt.whole_file:
        where = "The whole file"
    else:
        last = excerpt.first_line + excerpt.text.count("\n")
        where = f"Lines {excerpt.first_line + 1}-{last} of the file"
    return (
        f"File: {request.path}\nLanguage: {request.language}\n"
        f"{where}:\n{fenced(excerpt.text, request.language)}"
    )


def _selection_block(request: CodeRequest) -> str:
    lines = f"lines {request.first_line + 1}-{request.last_line + 1}"
    text = f"Selected code ({lines}):\n{fenced(request.selection, request.language)}"
    if request.diagnostics:
        reported = "\n".join(f"- {d}" for d in request.diagnostics)
        text += f"\n\nDiagnostics the editor reports in the selection:\n{reported}"
    return text


def _messages(request: CodeRequest, *parts: str) -> Messages:
    context = (request.context.rstrip("\n"),) if request.context else ()
    user = "\n\n".join((_file_block(request), *context, _selection_block(request), *parts))
    return [
        {"role": "system", "content": with_rules(SYSTEM_PROMPT, request.rules)},
        {"role": "user", "content": user},
    ]


def explain_messages(request: CodeRequest) -> Messages:
    return _messages(
        request,
        "Task: explain the selected code to a developer who is about to change it: what it "
        "does, how it does it, and anything surprising (edge cases, bugs, performance). "
        "Answer in Markdown, concisely; quote code only where it helps.",
    )


def refactor_messages(request: CodeRequest, instruction: str | None = None) -> Messages:
    """Refactor the selection; ``instruction`` comes from the user, a custom action or a
    ``glm:`` comment (which the reply must drop)."""
    task = (instruction or "").strip() or DEFAULT_REFACTOR
    return _messages(
        request,
        f"Task: rewrite the selected code. Instruction: {task}\n"
        "If the selection holds a comment starting with 'glm:', it is this instruction: leave "
        f"it out of your code.\n{ONE_BLOCK}",
    )


def fix_messages(request: CodeRequest) -> Messages:
    problem = (
        "the diagnostics listed above"
        if request.diagnostics
        else "any bug you find (there are no diagnostics)"
    )
    return _messages(
        request,
        f"Task: fix {problem} in the selected code with the smallest change that is correct. "
        f"Keep everything else as it is.\n{ONE_BLOCK}",
    )


def generate_tests_messages(
    request: CodeRequest,
    test_path: str,
    *,
    appending: bool,
    sample: StyleSample | None = None,
    fixtures: str = "",
) -> Messages:
    """Tests for the selection, written to ``test_path``; ``sample`` shows the project's
    test style (when appending it is normally the target file itself), ``fixtures`` the
    conftest.py fixtures the tests can take as arguments."""
    parts: list[str] = []
    if sample is not None:
        parts.append(
            f"An existing test file of this project ({sample.path}), for style:\n"
            f"{fenced(sample.text, request.language)}"
        )
    if fixtures:
        parts.append(fixtures.rstrip("\n") + "\nUse these fixtures where they fit.")
    if appending:
        where = (
            f"They will be appended to the end of {test_path}, which already exists: do not "
            "repeat its imports, fixtures or helpers; add only imports it lacks."
        )
    else:
        where = f"They go in a new file, {test_path}: include every import the tests need."
    parts.append(
        "Task: write focused unit tests for the selected code, covering normal use and edge "
        f"cases, in the project's test framework and style. {where} Import the code under test "
        f"from {request.path} as the project would.\n"
        "Reply with exactly one fenced code block holding only the test code."
    )
    return _messages(request, *parts)
