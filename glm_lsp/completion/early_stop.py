"""Has the streamed reply said enough? (pure)

Reading a 200-token reply at 50 tokens/s takes four seconds; the suggestion the user
needs is usually its first line. :func:`completion_end` looks at the text streamed so far
and says where the suggestion ends, so the caller can close the upstream stream there.
"""

from __future__ import annotations

import re

from glm_lsp.completion.cursor import Cursor, Shape, indent_width, indentation_left_out
from glm_lsp.completion.postprocess import lead_in_length, prose_expected
from glm_lsp.syntax.blocks import construct_end

_CLOSING_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)
# Dedented lines that continue the block instead of ending it.
_CONTINUATIONS = frozenset({"else", "elif", "except", "finally", "catch", "case", "default"})
_FIRST_WORD = re.compile(r"[A-Za-z_]\w*")
_CLOSERS_ONLY = re.compile(r"[)\]};,]+")
_END_WORDS = frozenset({"end", "fi", "done", "esac"})


def completion_end(reply: str, cursor: Cursor) -> int | None:
    """Index into ``reply`` where the suggestion is complete, or None while it may grow.

    A reply that opens with a sentence ("Here is the completion:") is judged after it: the
    suggestion is the code that follows, never the sentence. The caller cuts the reply
    there; :func:`~.postprocess.clean_completion` does the rest."""
    lead = 0 if prose_expected(cursor) else lead_in_length(reply)
    if lead:
        end = completion_end(reply[lead:], cursor) if reply[lead:].strip() else None
        return None if end is None else lead + end
    start = _code_start(reply)
    if start is None:
        return None
    code = reply[start:]
    if start > 0 and (closing := _CLOSING_FENCE.search(code)):
        return start + closing.start()
    if cursor.shape is not Shape.LINES and not _repeats_lines_above(_first_line(code), cursor):
        # The syntax tree first: the construct the cursor's line or the suggestion opened
        # ends it when it closes. (On a blank line several statements are expected: there
        # the indentation decides.)
        closed = construct_end(cursor.before, code, cursor.path, cursor.line_suffix)
        if closed != "defer":
            return None if closed is None else start + closed
    end = _line_end(code, cursor) if cursor.shape is Shape.LINE else _block_end(code, cursor)
    return None if end is None else start + end


def _first_line(code: str) -> list[str]:
    """The first line with content, stripped (for the repeat check)."""
    return next(([line.strip()] for line in code.split("\n") if line.strip()), [])


def _code_start(reply: str) -> int | None:
    """Where code starts: after an opening fence line, else 0; None while undecided."""
    stripped = reply.lstrip()
    offset = len(reply) - len(stripped)
    if not stripped.startswith(("`", "~")):
        return 0
    if len(stripped) < 3 and "\n" not in stripped:
        return None  # one or two backticks: maybe a fence, maybe `inline code`
    if not stripped.startswith(("```", "~~~")):
        return 0
    newline = stripped.find("\n")
    return None if newline < 0 else offset + newline + 1


def _line_end(code: str, cursor: Cursor) -> int | None:
    """End of the first line with content that is not a repeat of the lines above."""
    offset = 0
    head: list[str] = []
    for line in code.split("\n")[:-1]:  # complete lines only
        end = offset + len(line)
        offset = end + 1
        if not line.strip():
            continue
        head.append(line.strip())
        if not _repeats_lines_above(head, cursor):
            return end
    return None


def _repeats_lines_above(head: list[str], cursor: Cursor) -> bool:
    """True when ``head`` (stripped lines) is a run of the lines above the cursor."""
    above = [line.strip() for line in cursor.previous_lines]
    size = len(head)
    return any(above[i : i + size] == head for i in range(len(above) - size + 1))


def _block_end(code: str, cursor: Cursor) -> int | None:
    """End of the block: before the first line that dedents below the block's level
    (a closing `}` or `end` at that level is part of it; `else:` continues it)."""
    lines = code.split("\n")
    anchor = _anchor(lines, cursor)
    if anchor is None:
        return None
    level, placed = _levels(lines[anchor], cursor)
    offset = sum(len(line) + 1 for line in lines[: anchor + 1])
    first_below = True
    for index in range(anchor + 1, len(lines)):
        line = lines[index]
        complete = index < len(lines) - 1
        start, offset = offset, offset + len(line) + 1
        if not line.strip():
            continue
        indent = indent_width(line, cursor.tab_width)
        if first_below and indentation_left_out(lines[anchor], indent, placed):
            level = placed
        first_below = False
        if indent >= level:
            continue
        verdict = _dedent_verdict(line.strip(), complete=complete)
        if verdict == "continue":
            continue
        if verdict == "wait":
            return None
        return start + len(line) if verdict == "include" else max(start - 1, 0)
    return None


def _anchor(lines: list[str], cursor: Cursor) -> int | None:
    """Index of the first complete line of new code (not a repeat of the lines above)."""
    head: list[str] = []
    for index, line in enumerate(lines[:-1]):
        if not line.strip():
            if cursor.shape is Shape.LINES:
                continue
            return index
        head.append(line.strip())
        if not _repeats_lines_above(head, cursor):
            return index
    return None


def _levels(anchor: str, cursor: Cursor) -> tuple[int, int]:
    """Indentation below which a line ends the block, as the model wrote it, and as it
    would be if the model left out only the anchor line's own indentation."""
    written = indent_width(anchor, cursor.tab_width)
    if cursor.shape is Shape.LINES:
        prefix_columns = indent_width(cursor.line_prefix, cursor.tab_width)
        placed = written if written >= prefix_columns else prefix_columns + written
        return written, placed
    if not anchor.strip() or not anchor[:1].isspace():
        # Empty first line, or text continuing the cursor's line.
        return cursor.line_indent + 1, cursor.line_indent + 1
    core = cursor.line_prefix.strip()
    if core and anchor.strip().startswith(core):
        return written + 1, written + 1  # the model repeated the opening line
    return written, written  # the model started with the body itself


def _dedent_verdict(text: str, *, complete: bool) -> str:
    """For a line below the block's level: "include" it and stop, "stop" before it,
    "continue" the block, or "wait" for more of the line."""
    if text[0] in ")]}":
        if not complete:
            return "wait"
        rest = text.lstrip(")]} ")
        word = _FIRST_WORD.match(rest)
        if word and word.group(0) in _CONTINUATIONS:
            return "continue"  # `} else {`
        return "include" if _CLOSERS_ONLY.fullmatch(text.replace(" ", "")) else "stop"
    word = _FIRST_WORD.match(text)
    if word is None:
        return "stop"
    if word.end() == len(text) and not complete:
        return "wait"  # `els` may become `else`
    if word.group(0) in _CONTINUATIONS:
        return "continue"
    if word.group(0) in _END_WORDS and word.end() == len(text.rstrip(";")):
        return "include"
    return "stop"
