"""Turning a model reply into code for the buffer (pure).

Replies are asked for exactly one fenced block, but models add prose, several blocks, an
unterminated fence when the stream stops, or leak ``<think>`` text; all of it is handled here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from glm_lsp.context.target import instruction_comments
from glm_lsp.text import split_lines

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_THINK_CLOSE = re.compile(r"\A.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")


def strip_thinking(reply: str) -> str:
    """Remove ``<think>…</think>`` that leaked into the answer. A lone ``</think>`` ends
    reasoning whose start was lost; a lone ``<think>`` is dropped but what follows is kept,
    since it may be the answer itself."""
    text = _THINK_BLOCK.sub("", reply)
    text = _THINK_CLOSE.sub("", text)
    return re.sub(r"<think>", "", text, flags=re.IGNORECASE)


@dataclass(frozen=True)
class FencedBlock:
    info: str
    code: str
    closed: bool


def fenced_blocks(text: str) -> list[FencedBlock]:
    """Fenced code blocks (``` or ~~~) in order; an unterminated last one runs to the end."""
    blocks: list[FencedBlock] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.match(lines[index])
        index += 1
        if not opening:
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        body: list[str] = []
        closed = False
        while index < len(lines):
            line = lines[index]
            index += 1
            if _closes(line, fence):
                closed = True
                break
            body.append(_dedent_by(line, indent))
        blocks.append(FencedBlock(opening["info"].strip(), "\n".join(body), closed))
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (
        len(stripped) >= len(fence)
        and set(stripped) == {fence[0]}
        and len(line) - len(line.lstrip()) < 4
    )


def _dedent_by(line: str, width: int) -> str:
    """CommonMark: content lines lose up to the opening fence's indentation."""
    removable = len(line) - len(line.lstrip(" \t"))
    return line[min(width, removable) :]


def extract_code(reply: str) -> str:
    """The code of the reply's fenced block (the first substantial one when there are
    several), else the whole reply without surrounding blank lines."""
    text = strip_thinking(reply)
    blocks = [b for b in fenced_blocks(text) if b.code.strip()]
    if not blocks:
        return _trim_blank_lines(text)
    longest = max(len(b.code.strip()) for b in blocks)
    # A short shell command before the real code is not what the user asked for.
    for block in blocks:
        if len(block.code.strip()) * 2 >= longest:
            return _trim_blank_lines(block.code)
    return _trim_blank_lines(blocks[0].code)  # pragma: no cover - the longest always qualifies


# A sentence's start: "Swapped the operands", "- Renamed x", "1. The code ..."
_SENTENCE_START = re.compile(r"^(?:[-*] |\d+[.)] )?[A-Z][a-z'’]*,? +[a-z(`\"'’]")
# What prose rarely holds and code often does: a line ending in { } ;, an assignment, an
# arrow, a scope operator, or a line opening with a keyword.
_CODE_MARKS = re.compile(
    r"[{};]\s*$|\s=\s|==|=>|->|::|^\s*(?:def|class|return|import|from|if|for|while|"
    r"function|const|let|var|fn|func|pub|public|private|package|#include)\b"
)


def reads_as_prose(reply: str) -> bool:
    """Whether a reply with no code fence is words about the code rather than code: every
    line free of code marks, the first opening like a sentence, the last ending like one.
    A refactor applies no such reply (it would replace the selection with a sentence)."""
    text = strip_thinking(reply)
    if fenced_blocks(text):
        return False
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[-1][-1] not in ".!?":
        return False
    if any(_CODE_MARKS.search(line) for line in lines):
        return False
    return bool(_SENTENCE_START.match(lines[0]))


def _trim_blank_lines(text: str) -> str:
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _common_indent(lines: list[str]) -> str:
    indents = [_indent_of(line) for line in lines if line.strip()]
    if not indents:
        return ""
    common = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    return common


def fit_to_selection(code: str, selection: str, *, starts_at_line_start: bool) -> str:
    """Shape replacement ``code`` like the ``selection`` it replaces: the same line
    ending style, the same trailing newline, and the selection's indentation when the model
    returned the code dedented (common for a method cut out of a class)."""
    newline = "\r\n" if "\r\n" in selection else "\n"
    lines = code.splitlines()
    selected = selection.splitlines()
    if starts_at_line_start and selected:
        want, have = _common_indent(selected), _common_indent(lines)
        if len(want) > len(have) and want.startswith(have):
            extra = want[len(have) :]
            lines = [extra + line if line.strip() else line for line in lines]
    result = newline.join(lines)
    if selection.endswith(("\n", "\r")) and result:
        result += newline
    return result


def drop_instruction_comment(code: str, instruction: str) -> str:
    """Remove the ``glm: <instruction>`` comment line the model may have kept: once the
    instruction is carried out, the comment has done its job."""
    lines = code.split("\n")
    found = instruction_comments(lines, 0, len(lines) - 1)
    doomed = {c.line for c in found if c.instruction.strip() == instruction.strip()}
    return "\n".join(line for index, line in enumerate(lines) if index not in doomed)


def text_to_append(existing: str, code: str, blank_lines: int) -> str:
    """What to add at the end of ``existing`` so ``code`` follows it after ``blank_lines``
    empty lines and the file ends with one newline."""
    body = code.rstrip("\n") + "\n"
    if not existing:
        return body
    line_endings = len(split_lines(existing[len(existing.rstrip("\r\n")) :]))
    newline = "\r\n" if "\r\n" in existing else "\n"
    missing = max(0, blank_lines + 1 - line_endings)
    return newline * missing + body.replace("\n", newline)
