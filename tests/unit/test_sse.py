"""The bounded SSE decoder: bytes in, each event's data out, no line past its bound."""

from __future__ import annotations

import pytest

from glm_lsp.glm.sse import BoundedSseDecoder, SseLineTooLongError


def decode(*chunks: bytes, limit: int = 1024) -> list[str]:
    decoder = BoundedSseDecoder(limit)
    return [data for chunk in chunks for data in decoder.feed(chunk)]


def test_events_end_at_a_blank_line_with_any_line_ending() -> None:
    assert decode(b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n") == ["a", "b", "c", "d"]


def test_a_line_split_across_chunks_anywhere_is_joined() -> None:
    stream = b'data: {"x": "\xc3\xa9"}\r\n\r\ndata: [DONE]\n\n'
    for cut in range(1, len(stream)):
        assert decode(stream[:cut], stream[cut:]) == ['{"x": "é"}', "[DONE]"], cut


def test_comments_other_fields_and_empty_events_are_skipped() -> None:
    stream = b": keep-alive\n\nevent: message\nid: 7\ndata: x\n\n\n\nretry: 5\n\n"
    assert decode(stream) == ["x"]


def test_several_data_lines_make_one_event() -> None:
    assert decode(b"data: one\ndata:two\n\n") == ["one\ntwo"]


def test_an_unfinished_event_is_not_dispatched() -> None:
    assert decode(b"data: half") == []


def test_a_line_longer_than_the_bound_raises_even_when_it_never_ends() -> None:
    decoder = BoundedSseDecoder(100)
    decoder.feed(b"data: " + b"a" * 90)
    with pytest.raises(SseLineTooLongError):
        decoder.feed(b"a" * 20)  # no newline yet: the bound holds before the line ends


def test_one_event_of_many_short_lines_is_bounded_too() -> None:
    with pytest.raises(SseLineTooLongError):
        decode(b"data: 0123456789\n" * 20, limit=100)


def test_a_line_at_the_bound_passes() -> None:
    line = b"data: " + b"a" * 94  # 100 bytes
    assert decode(line + b"\n\n", limit=100) == ["a" * 94]
    assert decode(line + b"\n\n" + line + b"\n\n", limit=100) == ["a" * 94] * 2  # each line


def test_a_crlf_split_between_chunks_ends_one_line_not_two() -> None:
    # "\r" ends one chunk, its "\n" starts the next: one line ending, so the two data lines
    # stay one event (read as two endings, the blank line between would dispatch "a" alone).
    assert decode(b"data: a\r", b"\ndata: b\r\n\r\n") == ["a\nb"]
    assert decode(b"data: a\r\ndata: b\r\n\r\n") == ["a\nb"]  # CRLF in one chunk: one ending
    # Only the one LF right after the CR is its other half; a later chunk's LF is a line.
    assert decode(b"data: a\r", b"\n", b"\n") == ["a"]


def test_an_events_data_at_the_bound_passes_and_one_byte_more_raises() -> None:
    # Each data line counts its bytes and the newline that joins it: 10 x (9 + 1) = 100.
    event = b"data: 123456789\n" * 10 + b"\n"
    assert decode(event * 2, limit=100) == ["\n".join(["123456789"] * 10)] * 2
    with pytest.raises(SseLineTooLongError):
        decode(b"data: 123456789\n" * 9 + b"data: 1234567890\n\n", limit=100)


def test_the_bound_is_per_event_not_per_stream() -> None:
    events = decode(b"data: 0123456789abcdef\n\n" * 50, limit=100)
    assert events == ["0123456789abcdef"] * 50


def test_bytes_that_are_not_utf8_become_replacement_characters() -> None:
    assert decode(b"data: caf\xe9 \xff\n\n") == ["caf\ufffd \ufffd"]
