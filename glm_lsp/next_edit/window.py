"""The editable window: the lines around the cursor the model may rewrite (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .history import bare

CURSOR_MARK = "<|cursor|>"


@dataclass(frozen=True)
class Window:
    first: int
    """Document line of the window's first line (0-based)."""
    lines: tuple[str, ...]
    """The window's lines, without line endings."""
    cursor_line: int
    """The cursor's line, relative to ``first``."""
    cursor_column: int
    """The cursor's column in that line, in characters (code points)."""
    line_ending: str = "\n"

    @property
    def last(self) -> int:
        """Document line of the window's last line."""
        return self.first + len(self.lines) - 1

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def marked(self) -> str:
        """The window with the cursor marked, as the model reads it."""
        lines = list(self.lines)
        line = lines[self.cursor_line]
        lines[self.cursor_line] = (
            line[: self.cursor_column] + CURSOR_MARK + line[self.cursor_column :]
        )
        return "\n".join(lines)


def window_around(lines: Sequence[str], cursor_line: int, cursor_column: int, size: int) -> Window:
    """``size`` lines centred on the cursor, shifted to stay inside the document.

    ``lines`` keep their endings (as the server's documents hold them); ``cursor_column``
    is in characters. The caller has checked that the cursor is inside the document."""
    count = max(1, len(lines))
    size = max(1, min(size, count))
    first = max(0, min(cursor_line - size // 2, count - size))
    chosen = [bare(line) for line in lines[first : first + size]] or [""]
    ending = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    column = min(cursor_column, len(chosen[cursor_line - first]))
    return Window(first, tuple(chosen), cursor_line - first, column, ending)


def utf16_to_column(line: str, character: int) -> int | None:
    """The code-point column of a UTF-16 ``character`` in ``line``; None past its end."""
    units = 0
    for index, char in enumerate(line):
        if units >= character:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line) if units >= character else None


def column_to_utf16(line: str, column: int) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in line[:column])
