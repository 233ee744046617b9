"""Turn a model's reply into the text to insert at the cursor (pure).

Chat models asked for "the insertion only" still fence their answer, repeat the line
they were given, re-type what follows the cursor, indent relative to their own snippet or
with tabs. Each step below undoes one of those habits; nothing left means no suggestion.
"""

from __future__ import annotations

import re

from glm_lsp.completion.cursor import (
    Cursor,
    Shape,
    indent_width,
    indentation_left_out,
    leading_whitespace,
    render_indent,
    with_indent,
)
from glm_lsp.completion.prompt import CURSOR_MARKER
from glm_lsp.parse import fenced_blocks, strip_thinking

_INLINE_CODE = re.compile(r"\s*`([^`\n]+)`\s*")
_WORD = re.compile(r"\w")
_PAIRS = {")": "(", "]": "[", "}": "{"}
_QUOTES = "\"'`"


def clean_completion(reply: str, cursor: Cursor) -> str | None:
    """The insertion for ``cursor`` (in the document's line endings), or None."""
    code = code_of_reply(reply, prose_allowed=prose_expected(cursor))
    if not code.strip():
        return None
    lines = [_expand_indent(line, cursor.tab_width) for line in code.split("\n")]
    if not cursor.line_prefix.strip():
        lines = _drop_leading_blank_lines(lines)
    lines = _start_new_line_if_whole_lines(lines, cursor)
    lines, written_indent = _drop_prefix_repeat(lines, cursor)
    lines = _reindent(lines, cursor, written_indent)
    lines = _drop_repeat_of_following_lines(lines, cursor)
    if cursor.shape is Shape.LINE:
        lines = _first_line_with_content(lines)
    lines = _strip_blank_tail([line.rstrip() for line in lines])
    text = _drop_repeat_of_line_suffix("\n".join(lines), cursor)
    if cursor.line_prefix.strip() and cursor.line_prefix[-1] in " \t":
        text = text.lstrip(" \t")
    if not text.strip():
        return None
    return text.replace("\n", cursor.newline)


def code_of_reply(reply: str, *, prose_allowed: bool = False) -> str:
    """The code in a reply: its first non-empty fenced block, an inline `code` answer, or
    the reply itself without a lead-in sentence ("Here is the completion:"; kept when
    ``prose_allowed``: the cursor is in a comment or string). ``\\n`` line endings, no
    thinking, no cursor marker."""
    text = strip_thinking(reply.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace(CURSOR_MARKER, "")
    if not prose_allowed:
        text = text[lead_in_length(text) :]
    blocks = fenced_blocks(text)
    if blocks:
        code = next((block.code for block in blocks if block.code.strip()), "")
        return "\n".join(_drop_leading_blank_lines(code.split("\n")))
    inline = _INLINE_CODE.fullmatch(text)
    return inline.group(1) if inline else text


# A chat model's sentence before the code: a capitalised run of words with no code
# punctuation, ending like a sentence ("Here is the completion:", "Sure! Here's the code.").
_LEAD_IN = re.compile(r"[A-Z][\w'’]*[,!]?(?:[ \t]+[\w'’`*,!?\-]+){2,}[ \t]*[:.!]")
_COMMENT_START = ("#", "//", "--", "/*", "*", ";", "<!--")
_DOCSTRING_QUOTES = ('"' * 3, "'" * 3)
_PROSE_LANGUAGES = frozenset({"markdown", "plaintext", "text", "restructuredtext", "latex", ""})


def lead_in_length(text: str) -> int:
    """Characters of a complete lead-in sentence line at the start of ``text`` (with its
    line break and the blank lines after it); 0 when the text does not start with one."""
    first = len(text) - len(text.lstrip())
    newline = text.find("\n", first)
    if newline < 0 or not _LEAD_IN.fullmatch(text[first:newline].strip()):
        return 0
    rest = text[newline + 1 :]
    return newline + 1 + (len(rest) - len(rest.lstrip("\n")))


def prose_expected(cursor: Cursor) -> bool:
    """The cursor is in prose (a comment, a docstring, a Markdown or text file), where a
    sentence is the completion."""
    if cursor.language_id in _PROSE_LANGUAGES:
        return True
    prefix = cursor.line_prefix.lstrip()
    if prefix.startswith(_COMMENT_START) or any(mark in prefix for mark in (" # ", " // ")):
        return True
    return any(cursor.before.count(quote) % 2 for quote in _DOCSTRING_QUOTES)


def _expand_indent(line: str, tab_width: int) -> str:
    """Indentation as spaces, so the model's tabs and the document's compare as columns."""
    return " " * indent_width(line, tab_width) + line[len(leading_whitespace(line)) :]


def _drop_leading_blank_lines(lines: list[str]) -> list[str]:
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    return lines[first:]


def _start_new_line_if_whole_lines(lines: list[str], cursor: Cursor) -> list[str]:
    """After text on the cursor's line, an indented first line is a whole line the model
    meant to go below (``def f():`` → ``    return 1``), not a continuation."""
    first = lines[0] if lines else ""
    if (
        cursor.line_prefix.strip()
        and not cursor.line_suffix.strip()
        and indent_width(first, cursor.tab_width) >= 2
        and _strip_line_prefix(first, cursor) is None
        and first.strip() not in {line.strip() for line in cursor.previous_lines}
    ):
        return ["", *lines]
    return lines


def _drop_prefix_repeat(lines: list[str], cursor: Cursor) -> tuple[list[str], int | None]:
    """Remove a repeat of the text before the cursor (the line, possibly preceded by the
    lines above it). Returns the lines and the indentation the model gave the cursor's line
    when that tells how it indented (None when it does not)."""
    previous = [line.strip() for line in cursor.previous_lines]
    for count in range(min(len(previous), len(lines) - 1), 0, -1):
        head = [line.strip() for line in lines[:count]]
        if any(head) and head == previous[len(previous) - count :]:
            rest = _strip_line_prefix(lines[count], cursor)
            if rest is not None:
                return [rest, *lines[count + 1 :]], indent_width(lines[count], cursor.tab_width)
    rest = _strip_line_prefix(lines[0], cursor)
    if rest is not None:
        return [rest, *lines[1:]], indent_width(lines[0], cursor.tab_width)
    if not cursor.line_prefix.strip():
        return lines, indent_width(lines[0], cursor.tab_width)
    return lines, None


def _strip_line_prefix(line: str, cursor: Cursor) -> str | None:
    """``line`` without the part that repeats the cursor line's text, or None when it does
    not start with such a repeat."""
    prefix = _expand_indent(cursor.line_prefix, cursor.tab_width)
    if prefix and line.startswith(prefix):
        return line[len(prefix) :]
    core, body = prefix.strip(), line.lstrip()
    if not core:
        return None if prefix else line
    if body.startswith(core):
        return body[len(core) :]
    # The model repeated only the last token(s): `x = comp|` → `compute(y)`.
    for size in range(min(len(core), len(body)), 1, -1):
        piece = body[:size]
        boundary = size == len(core) or not _is_word_char(core[-size - 1])
        if boundary and core.endswith(piece) and _WORD.search(piece):
            return body[size:]
    return None


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _reindent(lines: list[str], cursor: Cursor, written_indent: int | None) -> list[str]:
    """Indent lines after the first relative to the cursor's line, in the document's style."""
    if len(lines) < 2:
        return _render_first_line(lines, cursor)
    shift = _indent_shift(lines, cursor, written_indent)
    result = _render_first_line(lines[:1], cursor)
    for line in lines[1:]:
        if not line.strip():
            result.append("")
            continue
        columns = max(0, indent_width(line, cursor.tab_width) + shift)
        result.append(with_indent(line, columns, tabs=cursor.uses_tabs, tab_width=cursor.tab_width))
    return result


def _indent_shift(lines: list[str], cursor: Cursor, written_indent: int | None) -> int:
    """Columns to add to the lines after the first."""
    below = [indent_width(line, cursor.tab_width) for line in lines[1:] if line.strip()]
    if not below:
        return 0
    if written_indent is None:
        return _continuation_shift(below, cursor)
    prefix_columns = indent_width(cursor.line_prefix, cursor.tab_width)
    if cursor.line_prefix.strip():
        placed = prefix_columns
        first_line = cursor.line_prefix + lines[0]
    else:
        placed = prefix_columns + indent_width(lines[0], cursor.tab_width)
        first_line = lines[0]
    left_out = indentation_left_out(first_line, below[0], placed) and min(below) >= placed
    if written_indent < placed and left_out:
        return 0
    return placed - written_indent


def _continuation_shift(below: list[int], cursor: Cursor) -> int:
    """The first line continues the cursor's line, so it says nothing about the model's
    indentation: judge by the lines below it."""
    if cursor.shape is Shape.BLOCK:
        # The first line below is the body: deeper than the cursor's line.
        body = below[0]
        return cursor.line_indent + cursor.indent_unit - body if body <= cursor.line_indent else 0
    least = min(below)
    return cursor.line_indent - least if least < cursor.line_indent else 0


def _render_first_line(lines: list[str], cursor: Cursor) -> list[str]:
    """The first line's own indentation (after a blank line prefix) in the document's style."""
    if not lines or cursor.line_prefix.strip() or not leading_whitespace(lines[0]):
        return lines
    prefix_columns = indent_width(cursor.line_prefix, cursor.tab_width)
    total = prefix_columns + indent_width(lines[0], cursor.tab_width)
    whole = render_indent(total, tabs=cursor.uses_tabs, tab_width=cursor.tab_width)
    if not whole.startswith(cursor.line_prefix):
        return lines
    return [whole[len(cursor.line_prefix) :] + lines[0].lstrip(" "), *lines[1:]]


def _drop_repeat_of_following_lines(lines: list[str], cursor: Cursor) -> list[str]:
    """Drop trailing lines that repeat the document's lines after the cursor's line."""
    if cursor.line_suffix.strip():
        return lines
    following = _drop_leading_blank_lines(cursor.after.split("\n")[1:])[:40]
    placed = [cursor.line_prefix + lines[0], *lines[1:]]
    while placed and not placed[-1].strip():
        placed.pop()
    for count in range(min(len(placed), len(following)), 0, -1):
        tail = [line.rstrip() for line in placed[len(placed) - count :]]
        if any(tail) and tail == [line.rstrip() for line in following[:count]]:
            kept = lines[: len(placed) - count]
            while len(kept) > 1 and not kept[-1].strip():
                kept.pop()
            return kept
    return lines


def _first_line_with_content(lines: list[str]) -> list[str]:
    """Mid-line or after a statement, a suggestion finishes one line (maybe a new one)."""
    for index, line in enumerate(lines):
        if line.strip():
            return lines[: index + 1]
    return lines


def _drop_repeat_of_line_suffix(text: str, cursor: Cursor) -> str:
    """Drop an ending that re-types the rest of the cursor's line (`print(x)` before `)`).
    A bracket or quote is dropped only when the suggestion would leave it unbalanced.
    When the dropped part stood on a line of its own, that line's indentation stays so
    the rest of the cursor's line lands where the model put it (`}` below a body)."""
    suffix = cursor.line_suffix.rstrip()
    for size in range(len(suffix), 0, -1):
        piece = suffix[:size]
        if not text.endswith(piece):
            continue
        if _WORD.search(piece) and size < len(suffix):
            continue
        if _unbalanced_by(piece, text):
            rest = text[: len(text) - size]
            last_line = rest.rsplit("\n", 1)[-1]
            return rest if "\n" in rest and not last_line.strip() else rest.rstrip()
    return text


def _unbalanced_by(piece: str, text: str) -> bool:
    """True when ``text`` closes at least the brackets and quotes ``piece`` would close,
    so dropping ``piece`` leaves what the document already has to close them."""
    for closer, opener in _PAIRS.items():
        needed = piece.count(closer) - piece.count(opener)
        if needed > 0 and text.count(closer) - text.count(opener) < needed:
            return False
    return all(text.count(quote) % 2 for quote in _QUOTES if piece.count(quote) % 2)


def _strip_blank_tail(lines: list[str]) -> list[str]:
    while len(lines) > 1 and not lines[-1].strip():
        lines = lines[:-1]
    return lines
