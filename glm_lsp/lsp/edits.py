"""Text edits in LSP terms: UTF-16 positions, minimal edits, rebasing onto newer text.

Everything here is pure and works on plain ``str`` documents. Lines end with ``\\n``,
``\\r\\n`` or ``\\r`` (the three line endings LSP defines); a ``Position.character`` counts
UTF-16 code units, so an emoji counts two and a CJK character one.

The usual flow for a result computed from an old snapshot of a document::

    edits = minimal_text_edits(text_at_start, new_text)          # or replacement_edits(...)
    if current_text != text_at_start:
        edits = rebase_edits(text_at_start, edits, current_text)  # None: the user touched them
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from lsprotocol.types import Position, Range, TextEdit

from glm_lsp.text import (
    LINE_END,
    Span,
    apply_spans,
    map_span,
    minimal_spans,
    rebase_span_offsets,
    replacement_spans,
    touches_lines,
    utf16_length,
)


class LineIndex:
    """Converts between ``str`` offsets and LSP positions of one text (built once, O(log n)
    per lookup)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        if "\r" in text:
            self.starts += [match.end() for match in LINE_END.finditer(text)]
            return
        found = text.find("\n")  # the common case, several times faster than a regex
        while found >= 0:
            self.starts.append(found + 1)
            found = text.find("\n", found + 1)

    def offset(self, position: Position) -> int:
        """The ``str`` index of a position; out-of-range values clamp as LSP says."""
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[position.line]
        end = self.starts[position.line + 1] if position.line + 1 < len(self.starts) else None
        content = self.text[start:end].rstrip("\r\n")
        units = 0
        for index, char in enumerate(content):
            if units >= position.character:
                return start + index
            units += 2 if ord(char) > 0xFFFF else 1
        return start + len(content)

    def position(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return Position(line=line, character=utf16_length(self.text[self.starts[line] : offset]))

    def range(self, start: int, end: int) -> Range:
        return Range(start=self.position(start), end=self.position(end))

    def offsets(self, range_: Range) -> tuple[int, int]:
        start, end = self.offset(range_.start), self.offset(range_.end)
        return (start, end) if start <= end else (end, start)


def position_to_offset(text: str, position: Position) -> int:
    """The ``str`` index for an LSP position; out-of-range values clamp like LSP says."""
    return LineIndex(text).offset(position)


def offset_to_position(text: str, offset: int) -> Position:
    """The LSP position of a ``str`` index (clamped to the text)."""
    return LineIndex(text).position(offset)


def range_to_offsets(text: str, range_: Range) -> tuple[int, int]:
    return LineIndex(text).offsets(range_)


def offsets_to_range(text: str, start: int, end: int) -> Range:
    return LineIndex(text).range(start, end)


def full_range(text: str) -> Range:
    """The range covering the whole document."""
    return offsets_to_range(text, 0, len(text))


def lines_range(text: str, first: int, last: int) -> Range:
    """Whole lines ``first``..``last`` (inclusive, 0-based) including the last line's ending."""
    index = LineIndex(text)
    start = index.starts[min(first, len(index.starts) - 1)]
    end = index.starts[last + 1] if last + 1 < len(index.starts) else len(text)
    return index.range(start, end)


def text_in_range(text: str, range_: Range) -> str:
    start, end = range_to_offsets(text, range_)
    return text[start:end]


def spans_to_text_edits(text: str, spans: Sequence[Span]) -> list[TextEdit]:
    index = LineIndex(text)
    return [TextEdit(range=index.range(s.start, s.end), new_text=s.new_text) for s in spans]


def minimal_text_edits(old_text: str, new_text: str) -> list[TextEdit]:
    """TextEdits (ranges in ``old_text``) that turn ``old_text`` into ``new_text``, touching
    only what changed. Works for a whole document (the agent) as well as a snippet."""
    return spans_to_text_edits(old_text, minimal_spans(old_text, new_text))


def replacement_edits(text: str, range_: Range, replacement: str) -> list[TextEdit]:
    """Minimal TextEdits replacing ``range_`` of ``text`` with ``replacement``."""
    index = LineIndex(text)
    start, end = index.offsets(range_)
    spans = replacement_spans(text, start, end, replacement)
    return [TextEdit(range=index.range(s.start, s.end), new_text=s.new_text) for s in spans]


def apply_text_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """Apply TextEdits as an editor would (all ranges refer to ``text``)."""
    index = LineIndex(text)
    return apply_spans(text, [Span(*index.offsets(e.range), e.new_text) for e in edits])


def rebase_range(old_text: str, target: Range, new_text: str) -> Range | None:
    """The range in ``new_text`` of the text ``target`` covered in ``old_text``, when the
    user changed only other parts (e.g. inserted lines above); None when it was touched."""
    start, end = range_to_offsets(old_text, target)
    mapped = rebase_span_offsets(old_text, start, end, new_text)
    return None if mapped is None else offsets_to_range(new_text, *mapped)


def rebase_edits(
    old_text: str, edits: Sequence[TextEdit], new_text: str, *, whole_lines: bool = False
) -> list[TextEdit] | None:
    """Move ``edits`` (ranges in ``old_text``) onto ``new_text``; None when any of them
    overlaps a change the user made (all or nothing, so a result is never half-applied).

    ``whole_lines``: a user change anywhere on a line an edit touches is a conflict too, so
    the user's ``y = 42`` and our ``y = 3`` for ``y = 2`` never merge into ``y = 43``."""
    if old_text == new_text:
        return list(edits)
    user_changes = minimal_spans(old_text, new_text)
    old_index, new_index = LineIndex(old_text), LineIndex(new_text)
    rebased: list[TextEdit] = []
    for edit in edits:
        start, end = old_index.offsets(edit.range)
        if whole_lines and touches_lines(user_changes, old_text, start, end):
            return None
        mapped = map_span(user_changes, start, end)
        if mapped is None:
            return None
        rebased.append(TextEdit(range=new_index.range(*mapped), new_text=edit.new_text))
    return rebased
