"""Server-sent events decoded from raw bytes, with a bound on each line.

httpx-sse buffers a line for as long as bytes keep coming, so an upstream that never ends a
``data:`` line can take all the memory. This decoder refuses a line (or an event's data)
longer than ``max_line`` bytes instead. Pure: bytes in, each event's data out.
"""

from __future__ import annotations


class SseLineTooLongError(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"a server-sent event line is longer than {limit} bytes")
        self.limit = limit


class BoundedSseDecoder:
    """Feed chunks of bytes; get back the ``data`` of every event they complete.

    Lines end with ``\\n``, ``\\r\\n`` or ``\\r`` (the SSE spec); comment lines (``:``) and
    fields other than ``data`` and ``event`` are skipped; an event ends at a blank line.
    :meth:`feed_events` also gives each event's name (``message`` unless ``event:`` said,
    e.g. ``error``)."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._partial: list[bytes] = []  # pieces of the line not yet ended
        self._partial_size = 0
        self._trailing_cr = False  # a chunk ended in \r: its \n may start the next chunk
        self._data: list[str] = []
        self._data_size = 0
        self._event = "message"

    def feed(self, chunk: bytes) -> list[str]:
        return [data for _, data in self.feed_events(chunk)]

    def feed_events(self, chunk: bytes) -> list[tuple[str, str]]:
        if self._trailing_cr:
            self._trailing_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if chunk.endswith(b"\r"):
            self._trailing_cr = True
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        events: list[tuple[str, str]] = []
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            self._add_partial(chunk[start:end])
            line = b"".join(self._partial)
            self._partial.clear()
            self._partial_size = 0
            event = self._line(line)
            if event is not None:
                events.append(event)
            start = end + 1
        self._add_partial(chunk[start:])
        return events

    def _add_partial(self, piece: bytes) -> None:
        if not piece:
            return
        self._partial_size += len(piece)
        if self._partial_size > self.max_line:
            raise SseLineTooLongError(self.max_line)
        self._partial.append(piece)

    def _line(self, line: bytes) -> tuple[str, str] | None:
        if not line:  # a blank line dispatches the event
            event, self._event = self._event, "message"
            if not self._data:
                return None
            data = "\n".join(self._data)
            self._data.clear()
            self._data_size = 0
            return event, data
        if line.startswith(b":"):
            return None
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"event":
            self._event = value[:64].decode("utf-8", errors="replace") or "message"
            return None
        if name != b"data":
            return None
        self._data_size += len(value) + 1
        if self._data_size > self.max_line:
            raise SseLineTooLongError(self.max_line)
        self._data.append(value.decode("utf-8", errors="replace"))
        return None
