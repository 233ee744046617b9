"""The document split at the cursor, and what completion logic needs to know about it (pure).

Everything here works on ``\\n`` text: :func:`cursor_at` normalises CRLF and remembers the
document's line ending so the final suggestion can be written back in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

# A line ending with one of these opens a block: the suggestion is its body.
BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->", " do", " then")
_CLOSERS = ")]}"


class Shape(Enum):
    """How much text a suggestion at this cursor should be."""

    LINE = "line"  # mid-line, or after a statement: finish the line
    BLOCK = "block"  # after a block opener: the body, until a dedent back to this line's level
    LINES = "lines"  # on a blank line: statements until a dedent below the cursor


@dataclass(frozen=True)
class Cursor:
    path: str
    language_id: str
    before: str
    """Document text before the cursor (``\\n`` line endings)."""
    after: str
    """Document text after the cursor (``\\n`` line endings)."""
    newline: str = "\n"
    """The document's line ending, used when writing the suggestion."""
    tab_width: int = 4

    @cached_property
    def line_prefix(self) -> str:
        return self.before.rsplit("\n", 1)[-1]

    @cached_property
    def line_suffix(self) -> str:
        return self.after.split("\n", 1)[0]

    @cached_property
    def uses_tabs(self) -> bool:
        """Indent with tabs when most indented lines nearby do."""
        lines = (self.before[-20000:] + self.after[:5000]).split("\n")
        tabbed = sum(1 for line in lines if line.startswith("\t"))
        spaced = sum(1 for line in lines if line.startswith("  "))
        return tabbed > spaced

    @cached_property
    def indent_unit(self) -> int:
        """Columns of one indentation level: the smallest indentation used nearby."""
        if self.uses_tabs:
            return self.tab_width
        widths = [
            indent_width(line, self.tab_width)
            for line in (self.before[-20000:] + self.after[:5000]).split("\n")
            if line.strip()
        ]
        positive = [w for w in widths if w > 0]
        return min(max(min(positive), 2), 8) if positive else 4

    @cached_property
    def previous_lines(self) -> list[str]:
        """Up to 30 whole lines just above the cursor's line."""
        return self.before.split("\n")[:-1][-30:]

    @cached_property
    def line_indent(self) -> int:
        """Indentation (columns) of the cursor's line."""
        return indent_width(self.line_prefix + self.line_suffix, self.tab_width)

    @cached_property
    def shape(self) -> Shape:
        suffix = self.line_suffix.strip()
        prefix = self.line_prefix.rstrip()
        if not prefix and not suffix:
            return Shape.LINES
        # An auto-closed bracket after the cursor still leaves room for a body.
        if opens_block(prefix) and all(c in _CLOSERS for c in suffix):
            return Shape.BLOCK
        return Shape.LINE


def opens_block(line: str) -> bool:
    return line.rstrip().endswith(BLOCK_OPENERS)


def indentation_left_out(first_line: str, next_indent: int, placed: int) -> bool:
    """A reply whose first line lands at column ``placed`` but was written less indented is
    either relative to that line, or the model left out only that line's indentation (the
    cursor already had it). The next line tells which: in place, it sits at least at
    ``placed``, and deeper when the first line opens a block."""
    return next_indent >= placed + (1 if opens_block(first_line) else 0)


def cursor_at(path: str, language_id: str, source: str, offset: int) -> Cursor:
    """Split ``source`` at ``offset`` (an index into ``source``)."""
    newline = "\r\n" if "\r\n" in source else "\n"
    before, after = source[:offset], source[offset:]
    return Cursor(path, language_id, _lf(before), _lf(after), newline)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


_LEADING_WS = re.compile(r"^[ \t]*")


def leading_whitespace(line: str) -> str:
    match = _LEADING_WS.match(line)
    return match.group(0) if match else ""


def indent_width(line: str, tab_width: int) -> int:
    """Columns of ``line``'s indentation, tabs expanded to the next tab stop."""
    width = 0
    for char in leading_whitespace(line):
        width = (width // tab_width + 1) * tab_width if char == "\t" else width + 1
    return width


def render_indent(columns: int, *, tabs: bool, tab_width: int) -> str:
    if tabs:
        return "\t" * (columns // tab_width) + " " * (columns % tab_width)
    return " " * columns


def with_indent(line: str, columns: int, *, tabs: bool, tab_width: int) -> str:
    """``line`` with its indentation replaced by ``columns`` in the document's style."""
    body = line[len(leading_whitespace(line)) :]
    return render_indent(columns, tabs=tabs, tab_width=tab_width) + body
