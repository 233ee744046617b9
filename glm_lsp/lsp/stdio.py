"""A stdin that survives broken LSP frames.

pygls reads headers line by line and bodies with ``read(Content-Length)``. Two client bugs
would otherwise end the session: a body shorter than its Content-Length leaves its tail glued
to the next ``Content-Length:`` header, so every later frame is missed; and an absurd
Content-Length makes ``read`` allocate that many bytes and kill the process.
"""

from __future__ import annotations

from typing import BinaryIO

HEADER = b"Content-Length:"
MAX_FRAME_BYTES = 512 * 1024 * 1024


class TolerantStdin:
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def readline(self) -> bytes:
        line = self._raw.readline()
        at = line.find(HEADER)
        # Cut leftovers of a broken frame off the header so the next frame is read again.
        return line[at:] if at > 0 else line

    def read(self, size: int = -1) -> bytes:
        if size > MAX_FRAME_BYTES:
            # Not JSON: pygls logs a parse error and resynchronises on the next header.
            return b" "
        return self._raw.read(size)
