"""The user's recent edits, per document, as line hunks (pure).

Each didChange is turned into a hunk (first line, old lines, new lines) by comparing a
snapshot of the document's lines with its new lines. Keystrokes that touch the lines of the
previous hunk of the same document are merged into it, so typing a word is one edit, not
five. Memory is bounded: one line list per open document (it shares the line strings with
the document) and at most ``MAX_HUNKS`` hunks of at most ``MAX_HUNK_LINES`` lines each.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

MAX_HUNKS = 32
MAX_HUNK_LINES = 40  # a paste of a whole file is recorded cut to this many lines each side
MAX_SCAN_LINES = 200_000  # a full-text change of a bigger document is not diffed
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Hunk:
    uri: str
    path: str
    """The path the model is shown."""
    start: int
    """First line of the hunk (0-based), in the document as it was after the edit."""
    old: tuple[str, ...]
    new: tuple[str, ...]
    """Lines without their endings."""

    @property
    def removed(self) -> str:
        """The text the edit took out (the part of the old lines that differs)."""
        return _changed_part(self.old, self.new)[0]

    @property
    def inserted(self) -> str:
        return _changed_part(self.old, self.new)[1]

    def unified_diff(self) -> str:
        """A unified diff of this hunk: what the model reads as "the user did this"."""
        old_start = self.start + 1 if self.old else self.start
        new_start = self.start + 1 if self.new else self.start
        lines = [
            f"--- a/{self.path}",
            f"+++ b/{self.path}",
            f"@@ -{old_start},{len(self.old)} +{new_start},{len(self.new)} @@",
        ]
        lines += [f"-{line}" for line in self.old]
        lines += [f"+{line}" for line in self.new]
        return "\n".join(lines)


def _changed_part(old: Sequence[str], new: Sequence[str]) -> tuple[str, str]:
    a, b = "\n".join(old), "\n".join(new)
    prefix, suffix = differing(a, b)
    return a[prefix : len(a) - suffix], b[prefix : len(b) - suffix]


def differing(old: str, new: str) -> tuple[int, int]:
    """Lengths of the common prefix and suffix of two texts, shortened to whole words, so a
    change reads ``values`` -> ``items``, not ``value`` -> ``item``."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    while prefix > 0 and _WORD.match(old[prefix - 1]):
        prefix -= 1
    while suffix > 0 and _WORD.match(old[len(old) - suffix]):
        suffix -= 1
    return prefix, suffix


def bare(line: str) -> str:
    return line.rstrip("\r\n")


@dataclass(frozen=True)
class LineChange:
    """One incremental change as the client sent it: lines ``start..end`` (inclusive) of the
    document before it were replaced."""

    start: int
    end: int


class EditHistory:
    def __init__(self, max_hunks: int = MAX_HUNKS) -> None:
        self._snapshots: dict[str, list[str]] = {}
        self._paths: dict[str, str] = {}
        self._hunks: deque[Hunk] = deque(maxlen=max_hunks)

    def opened(self, uri: str, path: str, lines: Sequence[str]) -> None:
        self._snapshots[uri] = list(lines)
        self._paths[uri] = path

    def closed(self, uri: str) -> None:
        self._snapshots.pop(uri, None)
        self._paths.pop(uri, None)

    def changed(
        self, uri: str, lines: Sequence[str], change: LineChange | None = None
    ) -> Hunk | None:
        """Record the document's new ``lines`` (with endings, as the document keeps them).
        ``change``: the client's one incremental change when it sent exactly one (cheap);
        otherwise the snapshot and the new lines are compared."""
        before = self._snapshots.get(uri)
        if before is None:  # opened before we listened: start from here
            self._snapshots[uri] = list(lines)
            return None
        region = _region(before, lines, change)
        if region is None:
            self._snapshots[uri] = list(lines)
            return None
        start, old_end, new_end = region
        hunk = self._merged(uri, before, lines, start, old_end, new_end)
        # Keep the snapshot in step by replacing only the changed lines.
        before[start:old_end] = lines[start:new_end]
        if len(before) != len(lines):  # a miscount (should not happen): resynchronise
            self._snapshots[uri] = list(lines)
        return hunk

    def _merged(
        self,
        uri: str,
        before: Sequence[str],
        after: Sequence[str],
        start: int,
        old_end: int,
        new_end: int,
    ) -> Hunk | None:
        last = self._hunks[-1] if self._hunks else None
        if (
            last is not None
            and last.uri == uri
            and start <= last.start + len(last.new)
            and last.start <= old_end
            and max(len(last.old), len(last.new)) < MAX_HUNK_LINES
        ):
            # The same lines again: one edit, from the old lines of the first keystroke.
            first = min(start, last.start)
            end_before = max(old_end, last.start + len(last.new))
            old = (
                [bare(line) for line in before[first : last.start]]
                + list(last.old)
                + [bare(line) for line in before[last.start + len(last.new) : end_before]]
            )
            new = [bare(line) for line in after[first : end_before + (new_end - old_end)]]
            self._hunks.pop()
            start, old_lines, new_lines = first, old, new
        else:
            old_lines = [bare(line) for line in before[start:old_end]]
            new_lines = [bare(line) for line in after[start:new_end]]
        if old_lines == new_lines:
            return None  # typed and taken back: nothing happened
        hunk = Hunk(
            uri,
            self._paths.get(uri, uri),
            start,
            tuple(old_lines[:MAX_HUNK_LINES]),
            tuple(new_lines[:MAX_HUNK_LINES]),
        )
        self._hunks.append(hunk)
        return hunk

    def recent(self, count: int) -> list[Hunk]:
        """The last ``count`` edits, oldest first, every document."""
        if count <= 0:
            return []
        return list(self._hunks)[-count:]

    def last_for(self, uri: str) -> Hunk | None:
        """The user's most recent edit in this document."""
        for hunk in reversed(self._hunks):
            if hunk.uri == uri:
                return hunk
        return None


def _region(
    before: Sequence[str], after: Sequence[str], change: LineChange | None
) -> tuple[int, int, int] | None:
    """(first line, end in before, end in after) of what changed, or None."""
    if change is not None:
        start = min(change.start, len(before))
        old_end = min(change.end + 1, len(before))
        new_end = old_end + len(after) - len(before)
        if new_end < start:
            return None
        return start, old_end, new_end
    if max(len(before), len(after)) > MAX_SCAN_LINES:
        return None
    prefix = 0
    limit = min(len(before), len(after))
    while prefix < limit and before[prefix] == after[prefix]:
        prefix += 1
    if prefix == len(before) == len(after):
        return None
    suffix = 0
    while (
        suffix < limit - prefix
        and before[len(before) - 1 - suffix] == after[len(after) - 1 - suffix]
    ):
        suffix += 1
    return prefix, len(before) - suffix, len(after) - suffix
