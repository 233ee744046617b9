"""Plain text, no protocol: lines with their endings, minimal changes between two texts, and
where a span of an old text lies in a newer one.

Offsets are ``str`` offsets. The LSP front door turns these into UTF-16 ranges
(``glm_lsp.lsp.edits``); cores such as the next-edit engine use them directly.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
LINE_END = re.compile(r"\r\n|\r|\n")
SMALL_DIFF_CELLS = 40_000  # regions up to about 200x200 lines get an exact LCS diff


# --- lines and UTF-16 -----------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """Lines with their endings kept; ``""`` has no lines, ``"a\\n"`` has one."""
    return _LINE.findall(text)


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (characters outside the BMP count two)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


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


def replacement_spans(text: str, start: int, end: int, replacement: str) -> list[Span]:
    """Minimal spans for replacing ``text[start:end]`` with ``replacement``; every span lies
    inside ``[start, end]`` so nothing outside the target is touched."""
    inner = minimal_spans(text[start:end], replacement)
    return [Span(start + s.start, start + s.end, s.new_text) for s in inner]


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


# --- rebasing onto text the user changed meanwhile -------------------------------------


def map_span(user_changes: Sequence[Span], start: int, end: int) -> tuple[int, int] | None:
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
    mapped = map_span(minimal_spans(old_text, new_text), start, end)
    if mapped is None or new_text[mapped[0] : mapped[1]] != old_text[start:end]:
        return None
    if _inside_crlf(new_text, mapped[0]) or _inside_crlf(new_text, mapped[1]):
        return None  # no range can say "between \r and \n": refuse rather than misplace
    return mapped


def touches_lines(user_changes: Sequence[Span], text: str, start: int, end: int) -> bool:
    """Whether a user change touches any line of ``text[start:end]`` (its first line's start to
    its last line's end, both included)."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    last = len(text) if last < 0 else last
    return any(change.start <= last and change.end >= first for change in user_changes)
