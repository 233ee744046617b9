"""Hypothesis fuzz of completion post-processing: whatever the model sends, what reaches the
buffer is code in the document's line endings, without thinking, prose, the cursor marker
or trailing white space; mid-line it is one line; a repeat of the typed line is dropped."""

from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from glm_lsp.completion.cursor import Cursor, Shape, cursor_at
from glm_lsp.completion.postprocess import clean_completion
from glm_lsp.completion.prompt import CURSOR_MARKER

CODE_PIECES = [
    "a", "b", "x", "_", "1", " ", "  ", "\t", "\n", "\r\n", "(", ")", "[", "]", "{", "}", ":",
    ",", ".", "=", "'", '"', "#", "def f():", "return ", "if x:", "    ", "é", "😀",
]  # fmt: skip
code = st.lists(st.sampled_from(CODE_PIECES), max_size=30).map("".join)
REPLY_PIECES = [*CODE_PIECES, "```", "```python\n", "\n```", CURSOR_MARKER, "<think>", "</think>"]
replies = st.lists(st.sampled_from(REPLY_PIECES), max_size=30).map("".join)
documents = st.tuples(code, code)
FUZZ = settings(max_examples=400, deadline=None)


def cursor_in(before: str, after: str) -> Cursor:
    return cursor_at("a.py", "python", before + after, len(before))


MARKUP = ("```", "<think>", "</think>", CURSOR_MARKER)
NEW_CODE = "zqv"  # no document piece has these letters: a reply starting so is always new


@FUZZ
@given(document=documents, reply=replies, lead=st.booleans())
def test_the_insertion_is_clean_text_in_the_documents_line_endings(
    document: tuple[str, str], reply: str, lead: bool
) -> None:
    before, after = document
    assume(not before.endswith("\r"))  # the cursor is never inside a line ending
    cursor = cursor_in(before, after)
    if lead:
        reply = NEW_CODE + reply
    cleaned = clean_completion(reply, cursor)
    if lead and not any(markup in reply for markup in MARKUP):
        # Plain code that starts with something new: giving up here would be a bug.
        assert cleaned is not None and cleaned.startswith(NEW_CODE), (reply, cleaned)
    if cleaned is None:
        return
    assert cleaned.strip()
    assert CURSOR_MARKER not in cleaned and "<think>" not in cleaned
    if cursor.newline == "\n":
        assert "\r" not in cleaned
    else:
        assert "\n" not in cleaned.replace("\r\n", "") and "\r" not in cleaned.replace("\r\n", "")
    for line in cleaned.split(cursor.newline):
        if line.strip():
            assert line == line.rstrip(), f"trailing white space in {line!r}"
    if cursor.shape is Shape.LINE:
        assert sum(1 for line in cleaned.split(cursor.newline) if line.strip()) <= 1


@FUZZ
@given(document=documents, thinking=code, body=code, prose=code)
def test_thinking_and_prose_around_a_fence_never_reach_the_buffer(
    document: tuple[str, str], thinking: str, body: str, prose: str
) -> None:
    cursor = cursor_in(*document)
    body = NEW_CODE + body  # the fenced code always has something to insert
    reply = f"<think>ZQJ{thinking}</think>Sure! ZQK{prose}\n```python\n{body}\n```\nZQW{prose}"
    cleaned = clean_completion(reply, cursor)
    assert cleaned is not None and cleaned.startswith(NEW_CODE), (reply, cleaned)
    assert not re.search("ZQ[JKW]", cleaned)


IDENTIFIER = st.from_regex(r"[a-z_][a-z0-9_]{2,12}", fullmatch=True)


@FUZZ
@given(indent=st.sampled_from(["", "    ", "\t"]), name=IDENTIFIER, typed=st.integers(1, 12))
def test_a_repeat_of_what_was_typed_on_the_line_is_dropped(
    indent: str, name: str, typed: int
) -> None:
    """The model re-types the line ``result = compute_`` as ``result = compute_total(x)``:
    only ``total(x)`` is inserted."""
    typed = min(typed, len(name) - 1)
    before = f"def main():\n{indent}    result = {name[:typed]}"
    cursor = cursor_in(before, "\n")
    cleaned = clean_completion(f"result = {name}(x)", cursor)
    assert cleaned == f"{name[typed:]}(x)"


def test_a_tail_that_repeats_the_text_after_the_cursor_is_dropped_even_from_a_fence() -> None:
    """Found by hypothesis while making the properties above able to fail: before the
    cursor nothing, after it ``_``; the fenced ``zqv_`` inserts ``zqv`` (the ``_`` is there)."""
    cursor = cursor_in("", "_")
    reply = "<think>ZQJ</think>Sure! ZQK\n```python\nzqv_\n```\nZQW"
    assert clean_completion(reply, cursor) == "zqv"
