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
import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol.types import Position, Range, TextEdit

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_LINE_END = re.compile(r"\r\n|\r|\n")


# --- lines and UTF-16 -----------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Lines with their endings kept; ``""`` has no lines, ``"a\\n"`` has one."""
    return _LINE.findall(text)


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (characters outside the BMP count two)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class LineIndex:
    """Converts between ``str`` offsets and LSP positions of one text (built once, O(log n)
    per lookup)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        if "\r" in text:
            self.starts += [match.end() for match in _LINE_END.finditer(text)]
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


# --- minimal edits --------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Replace ``text[start:end]`` (``str`` offsets) with ``new_text``."""

    start: int
    end: int
    new_text: str


def minimal_spans(old_text: str, new_text: str) -> list[Span]:
    """The changes turning ``old_text`` into ``new_text``: changed lines only, trimmed to
    the changed characters. Spans are sorted, disjoint and never split a ``\\r\\n``."""
    if old_text == new_text:
        return []
    old_lines, new_lines = split_lines(old_text), split_lines(new_text)
    old_starts = _cumulative(old_lines)
    new_starts = _cumulative(new_lines)
    spans: list[Span] = []
    for i1, i2, j1, j2 in changed_line_blocks(old_lines, new_lines):
        old_part = old_text[old_starts[i1] : old_starts[i2]]
        new_part = new_text[new_starts[j1] : new_starts[j2]]
        spans.append(_trimmed(old_text, old_starts[i1], old_part, new_part))
    return spans


SMALL_DIFF_CELLS = 40_000  # regions up to about 200x200 lines get an exact LCS diff


def changed_line_blocks(a: list[str], b: list[str]) -> list[tuple[int, int, int, int]]:
    """``(i1, i2, j1, j2)``: ``a[i1:i2]`` became ``b[j1:j2]``; sorted, with unchanged lines
    between blocks. Patience-style: lines unique on both sides anchor the diff, so large
    files stay fast (difflib alone takes seconds on thousands of similar lines); what lies
    between anchors gets an exact diff when small, one block when not."""
    blocks: list[tuple[int, int, int, int]] = []
    _diff_region(a, 0, len(a), b, 0, len(b), blocks)
    return blocks


def _diff_region(
    a: list[str],
    alo: int,
    ahi: int,
    b: list[str],
    blo: int,
    bhi: int,
    out: list[tuple[int, int, int, int]],
) -> None:
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        alo, blo = alo + 1, blo + 1
    while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
        ahi, bhi = ahi - 1, bhi - 1
    if alo == ahi or blo == bhi:
        if alo < ahi or blo < bhi:
            out.append((alo, ahi, blo, bhi))
        return
    anchors = _unique_anchors(a, alo, ahi, b, blo, bhi)
    if not anchors:
        _small_diff(a, alo, ahi, b, blo, bhi, out)
        return
    for i, j in anchors:
        _diff_region(a, alo, i, b, blo, j, out)
        alo, blo = i + 1, j + 1
    _diff_region(a, alo, ahi, b, blo, bhi, out)


def _unique_anchors(
    a: list[str], alo: int, ahi: int, b: list[str], blo: int, bhi: int
) -> list[tuple[int, int]]:
    """Lines occurring once on each side, longest run in the same order on both."""
    count_a = Counter(a[alo:ahi])
    count_b = Counter(b[blo:bhi])
    where_b = {b[j]: j for j in range(blo, bhi) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and a[i] in where_b]
    # Longest increasing subsequence of the b positions (patience sorting).
    tails: list[int] = []
    tail_index: list[int] = []
    previous: list[int] = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        slot = bisect.bisect_left(tails, j)
        if slot == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[slot] = j
            tail_index[slot] = index
        previous[index] = tail_index[slot - 1] if slot else -1
    chain: list[tuple[int, int]] = []
    at = tail_index[-1] if tail_index else -1
    while at >= 0:
        chain.append(pairs[at])
        at = previous[at]
    return chain[::-1]


def _small_diff(
    a: list[str],
    alo: int,
    ahi: int,
    b: list[str],
    blo: int,
    bhi: int,
    out: list[tuple[int, int, int, int]],
) -> None:
    if (ahi - alo) * (bhi - blo) > SMALL_DIFF_CELLS:
        out.append((alo, ahi, blo, bhi))
        return
    matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            out.append((alo + i1, alo + i2, blo + j1, blo + j2))


def _cumulative(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _trimmed(old_text: str, base: int, old_part: str, new_part: str) -> Span:
    """Drop the common head and tail of one changed block, keeping ``\\r\\n`` whole on
    both sides: an old ``\\r`` that the new text continues with ``\\n`` is one line end in
    the new text, and no LSP position lies between its two characters.

    The block starts and ends at line starts, so checking inside the parts is enough."""
    limit = min(len(old_part), len(new_part))
    head = 0
    while head < limit and old_part[head] == new_part[head]:
        head += 1
    if _inside_crlf(old_part, head) or _inside_crlf(new_part, head):
        head -= 1  # the common part ends with that "\r"; neither side starts a "\n" there
    tail = 0
    while tail < limit - head and old_part[-1 - tail] == new_part[-1 - tail]:
        tail += 1
    if _inside_crlf(old_part, len(old_part) - tail) or _inside_crlf(new_part, len(new_part) - tail):
        tail -= 1
    return Span(base + head, base + len(old_part) - tail, new_part[head : len(new_part) - tail])


def _inside_crlf(text: str, offset: int) -> bool:
    return 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n"


def spans_to_text_edits(text: str, spans: Sequence[Span]) -> list[TextEdit]:
    index = LineIndex(text)
    return [TextEdit(range=index.range(s.start, s.end), new_text=s.new_text) for s in spans]


def minimal_text_edits(old_text: str, new_text: str) -> list[TextEdit]:
    """TextEdits (ranges in ``old_text``) that turn ``old_text`` into ``new_text``, touching
    only what changed. Works for a whole document (the agent) as well as a snippet."""
    return spans_to_text_edits(old_text, minimal_spans(old_text, new_text))


def replacement_spans(text: str, start: int, end: int, replacement: str) -> list[Span]:
    """Minimal spans for replacing ``text[start:end]`` with ``replacement``; every span lies
    inside ``[start, end]`` so nothing outside the target is touched."""
    inner = minimal_spans(text[start:end], replacement)
    return [Span(start + s.start, start + s.end, s.new_text) for s in inner]


def replacement_edits(text: str, range_: Range, replacement: str) -> list[TextEdit]:
    """Minimal TextEdits replacing ``range_`` of ``text`` with ``replacement``."""
    index = LineIndex(text)
    start, end = index.offsets(range_)
    spans = replacement_spans(text, start, end, replacement)
    return [TextEdit(range=index.range(s.start, s.end), new_text=s.new_text) for s in spans]


def apply_spans(text: str, spans: Sequence[Span]) -> str:
    """Apply disjoint spans (all measured against ``text``)."""
    out: list[str] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        out.append(text[cursor : span.start])
        out.append(span.new_text)
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)


def apply_text_edits(text: str, edits: Sequence[TextEdit]) -> str:
    """Apply TextEdits as an editor would (all ranges refer to ``text``)."""
    index = LineIndex(text)
    return apply_spans(text, [Span(*index.offsets(e.range), e.new_text) for e in edits])


# --- rebasing onto text the user changed meanwhile -------------------------------------


def _map_span(user_changes: Sequence[Span], start: int, end: int) -> tuple[int, int] | None:
    """Where ``[start, end)`` of the old text is in the new text, or None when a change
    of the user overlaps it. A user insertion exactly at ``start`` counts as before the
    span and one exactly at ``end`` as after it, so typed text never lands inside our target."""
    shift = 0
    for change in user_changes:
        if change.start == change.end:  # a pure insertion
            before, after = change.start <= start, change.start >= end
        else:
            before, after = change.end <= start, change.start >= end
        if before:
            shift += len(change.new_text) - (change.end - change.start)
        elif not after:
            return None
    return start + shift, end + shift


def rebase_span_offsets(
    old_text: str, start: int, end: int, new_text: str
) -> tuple[int, int] | None:
    """Offsets of ``old_text[start:end]`` in ``new_text`` when that text is still there
    unchanged (the user edited only elsewhere), else None."""
    if old_text == new_text:
        return start, end
    mapped = _map_span(minimal_spans(old_text, new_text), start, end)
    if mapped is None or new_text[mapped[0] : mapped[1]] != old_text[start:end]:
        return None
    if _inside_crlf(new_text, mapped[0]) or _inside_crlf(new_text, mapped[1]):
        return None  # no range can say "between \r and \n": refuse rather than misplace
    return mapped


def rebase_range(old_text: str, target: Range, new_text: str) -> Range | None:
    """The range in ``new_text`` of the text ``target`` covered in ``old_text``, when the
    user changed only other parts (e.g. inserted lines above); None when it was touched."""
    start, end = range_to_offsets(old_text, target)
    mapped = rebase_span_offsets(old_text, start, end, new_text)
    return None if mapped is None else offsets_to_range(new_text, *mapped)


def _touches_lines(user_changes: Sequence[Span], text: str, start: int, end: int) -> bool:
    """Whether a user change touches any line of ``text[start:end]`` (its first line's start to
    its last line's end, both included)."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    last = len(text) if last < 0 else last
    return any(change.start <= last and change.end >= first for change in user_changes)


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
        if whole_lines and _touches_lines(user_changes, old_text, start, end):
            return None
        mapped = _map_span(user_changes, start, end)
        if mapped is None:
            return None
        rebased.append(TextEdit(range=new_index.range(*mapped), new_text=edit.new_text))
    return rebased
