"""From the rewritten window to the one smallest edit, and the guards that drop an edit the
user would not want (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .history import Hunk, differing
from .window import Window, column_to_utf16

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class NextEdit:
    """Replace the document range (UTF-16 positions) with ``text``."""

    start_line: int
    start_character: int
    end_line: int
    end_character: int
    text: str


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    """Offsets into the window's text."""
    text: str


def smallest_span(old: str, new: str) -> Span | None:
    """The one replacement that turns ``old`` into ``new`` (everything between the first
    and the last difference), widened to whole words so the editor shows ``count`` ->
    ``total``, not ``c`` -> ``t``. None when they are equal."""
    if old == new:
        return None
    prefix, suffix = differing(old, new)
    return Span(prefix, len(old) - suffix, new[prefix : len(new) - suffix])


def _position(window: Window, offset: int) -> tuple[int, int]:
    """Document (line, UTF-16 character) of an offset into the window's text."""
    before = window.text[:offset]
    line = before.count("\n")
    column = len(before) - (before.rfind("\n") + 1)
    return window.first + line, column_to_utf16(window.lines[line], column)


def to_edit(window: Window, span: Span) -> NextEdit:
    start_line, start_character = _position(window, span.start)
    end_line, end_character = _position(window, span.end)
    text = span.text.replace("\n", window.line_ending) if window.line_ending != "\n" else span.text
    return NextEdit(start_line, start_character, end_line, end_character, text)


def rejection(window: Window, rewrite: Sequence[str], last: Hunk | None) -> str:
    """Why the rewrite gives no edit ("" when it gives one)."""
    old, new = window.text, "\n".join(rewrite)
    span = smallest_span(old, new)
    if span is None:
        return "the model changed nothing"
    if not (0 <= span.start <= span.end <= len(old)):
        return "the edit lies outside the window"
    if _SPACE.sub("", old[span.start : span.end]) == _SPACE.sub("", span.text):
        return "the edit only changes white space"
    if last is not None and undoes(window, rewrite, last, old, new):
        return "the edit would undo the user's last change"
    return ""


def undoes(window: Window, rewrite: Sequence[str], last: Hunk, old: str, new: str) -> bool:
    """Would the rewrite put back what the user just deleted, or delete what they just
    typed? Checked where the user's last edit is (its lines in the window)."""
    hunk_first = last.start
    hunk_last = last.start + max(len(last.new), 1) - 1
    if hunk_last < window.first or hunk_first > window.last:
        return False
    # The lines of the last edit read as before it: the edit is taken back.
    at = hunk_first - window.first
    shift = len(rewrite) - len(window.lines)
    if (
        at >= 0
        and shift == len(last.old) - len(last.new)
        and tuple(rewrite[at : at + len(last.old)]) == last.old
    ):
        return True
    # Character level: the removed text is what the user typed, or the inserted text is
    # what they deleted, and it happens on the lines they edited.
    prefix, suffix = differing(old, new)
    removed, inserted = (
        old[prefix : len(old) - suffix].strip(),
        new[prefix : len(new) - suffix].strip(),
    )
    first_line = window.first + old[:prefix].count("\n")
    last_line = window.first + old[: len(old) - suffix].count("\n")
    if last_line < hunk_first or first_line > hunk_last:
        return False
    typed, deleted = last.inserted.strip(), last.removed.strip()
    return bool((typed and removed == typed) or (deleted and inserted == deleted))
