"""Reading the model's rewrite of the window as it streams (pure).

The reply is one fenced block holding the rewritten window, or ``NO_CHANGE``. Most of a
rewrite repeats the window, and a 21-line window costs the model about 200 output tokens,
so the reader stops early: once the rewrite has changed something and then matched the
original again for ``MATCHING_LINES_TO_STOP`` lines in a row, the rest is taken to be the
original's rest and the caller closes the stream.

Why 3 lines: below 3, a run of common lines (``return result``, a closing call) matches the
wrong place too easily (runs of only blank or punctuation lines never count). Above 3, each
extra line costs about 10 output tokens on every suggestion and keeps few more edits whole:
benchmarks/next_edit.py counts, over this repository's Python files, the unchanged lines
between two consecutive uses of a name less than a window apart (the parts of a rename's
next edit): a gap of 3 or more lines cuts 47% of such pairs, 4 or more 40%, 5 or more 35%.
The curve has no knee, so the gain per extra line is flat (~7%), and what a stop cuts off
is not lost: the far uses become the next suggestion once this one is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .prompt import NO_CHANGE, REGION_END, REGION_START
from .window import CURSOR_MARK

MATCHING_LINES_TO_STOP = 3
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_WORDY = re.compile(r"\w")


@dataclass
class Reading:
    """What the reply said: ``lines`` (the rewritten window) or ``no_change``, else
    ``rejected`` says why it is unusable."""

    lines: list[str] | None = None
    no_change: bool = False
    rejected: str = ""
    stopped_early: bool = False
    last_token_at: float = 0.0


@dataclass
class RewriteReader:
    original: Sequence[str]
    max_chars: int
    stop_early: bool = True
    matching_lines: int = MATCHING_LINES_TO_STOP
    _buffer: str = ""
    _size: int = 0
    _in_block: bool = False
    _closed: bool = False
    _code: list[str] = field(default_factory=list)
    _diverged_at: int | None = None
    _early: list[str] | None = None
    _verdict: Reading | None = None

    def feed(self, text: str) -> bool:
        """Take more of the reply; True once enough is known (close the stream)."""
        if self._verdict is not None or self._closed or self._early is not None:
            return True
        self._size += len(text)
        if self._size > self.max_chars:
            self._verdict = Reading(
                rejected=f"the reply is longer than {self.max_chars} characters"
            )
            return True
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if self._take_line(line):
                return True
        if not self._in_block and self._buffer.strip().upper().startswith(NO_CHANGE):
            self._verdict = Reading(no_change=True)
            return True
        if self._in_block and self._buffer.lstrip().startswith(("```", "~~~")):
            self._closed = True  # the closing fence: no need to wait for its line to end
            self._buffer = ""
            return True
        return False

    def _take_line(self, line: str) -> bool:
        line = line.rstrip("\r")
        if not self._in_block:
            if _FENCE.match(line):
                self._in_block = True
            elif line.strip().upper().startswith(NO_CHANGE):
                self._verdict = Reading(no_change=True)
                return True
            return False
        if _FENCE.match(line):
            self._closed = True
            return True
        if line.strip() in (REGION_START, REGION_END):
            return False
        self._code.append(line.replace(CURSOR_MARK, ""))
        return self.stop_early and self._aligned_again()

    def _aligned_again(self) -> bool:
        """After a change, the last lines match the original's: the rest is unchanged."""
        code, original, size = self._code, self.original, self.matching_lines
        j = len(code) - 1
        if self._diverged_at is None:
            if j < len(original) and code[j] == original[j]:
                return False
            self._diverged_at = j
            return False
        run_start = j - size + 1
        if run_start <= self._diverged_at:
            return False
        run = code[run_start:]
        if not any(_WORDY.search(line) for line in run):
            return False  # blank lines and braces match anywhere
        candidates = [
            i
            for i in range(self._diverged_at, len(original) - size + 1)
            if list(original[i : i + size]) == run
        ]
        if not candidates:
            return False
        at = min(candidates, key=lambda i: abs(i - run_start))
        self._early = code + list(original[at + size :])
        return True

    def finish(self, *, complete: bool) -> Reading:
        """The verdict once the stream ended (``complete``: it ended normally, not cut off
        by the token limit) or was closed by us."""
        if self._verdict is not None:
            return self._verdict
        if self._early is not None:
            return Reading(lines=self._early, stopped_early=True)
        if not self._in_block:
            if self._buffer.strip().upper().startswith(NO_CHANGE):
                return Reading(no_change=True)
            return Reading(rejected="the reply has no fenced code block")
        if not self._closed:
            if not complete:
                return Reading(rejected="the reply was cut off before the rewrite ended")
            tail = self._buffer.rstrip("\r")
            if tail and not _FENCE.match(tail):
                self._code.append(tail.replace(CURSOR_MARK, ""))
        return Reading(lines=list(self._code))
