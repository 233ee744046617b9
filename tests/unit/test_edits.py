from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol.types import Position, Range, TextEdit

from glm_lsp.lsp.edits import (
    LineIndex,
    apply_text_edits,
    full_range,
    lines_range,
    minimal_text_edits,
    offset_to_position,
    position_to_offset,
    rebase_edits,
    rebase_range,
    replacement_edits,
    text_in_range,
)
from glm_lsp.text import split_lines, utf16_length


def pos(line: int, character: int) -> Position:
    return Position(line=line, character=character)


def rng(l1: int, c1: int, l2: int, c2: int) -> Range:
    return Range(start=pos(l1, c1), end=pos(l2, c2))


# --- UTF-16 positions -------------------------------------------------------------------


def test_utf16_counts_emoji_as_two_and_cjk_as_one() -> None:
    assert utf16_length("a😀中") == 1 + 2 + 1


def test_position_after_emoji_and_cjk_maps_to_the_right_character() -> None:
    text = "x = '😀中文' + y\nnext"
    # 'y' sits after: x,space,=,space,' (5) + emoji (2) + 中文 (2) + ' + space + space (4)
    offset = text.index("y")
    position = offset_to_position(text, offset)
    assert position == pos(0, 5 + 2 + 2 + 4)
    assert position_to_offset(text, position) == offset


def test_positions_on_crlf_and_cr_lines() -> None:
    text = "one\r\ntwo\rthree\nfour"
    assert position_to_offset(text, pos(1, 0)) == text.index("two")
    assert position_to_offset(text, pos(2, 0)) == text.index("three")
    assert position_to_offset(text, pos(3, 2)) == text.index("ur")
    assert offset_to_position(text, text.index("ree")) == pos(2, 2)


def test_positions_past_the_end_clamp() -> None:
    text = "ab\ncd"
    assert position_to_offset(text, pos(0, 99)) == 2  # end of line 0, before the newline
    assert position_to_offset(text, pos(9, 0)) == len(text)
    assert offset_to_position(text, 999) == pos(1, 2)


def test_a_trailing_newline_opens_an_empty_last_line() -> None:
    assert offset_to_position("a\n", 2) == pos(1, 0)
    assert full_range("a\n") == rng(0, 0, 1, 0)
    assert full_range("") == rng(0, 0, 0, 0)


def test_split_lines_keeps_endings() -> None:
    assert split_lines("a\r\nb\rc\nd") == ["a\r\n", "b\r", "c\n", "d"]
    assert split_lines("") == []


def test_text_in_range() -> None:
    assert text_in_range("héllo 🌍 wörld", rng(0, 6, 0, 8)) == "🌍"


# --- minimal edits ----------------------------------------------------------------------


def test_minimal_edits_touch_only_the_changed_characters() -> None:
    old = "def f():\n    return 1\n\nprint(f())\n"
    new = "def f():\n    return 2\n\nprint(f())\n"
    assert minimal_text_edits(old, new) == [TextEdit(range=rng(1, 11, 1, 12), new_text="2")]


def test_minimal_edits_leave_unchanged_lines_between_changes_alone() -> None:
    old = "a\nb\nc\nd\ne\n"
    new = "A\nb\nc\nd\nE\n"
    edits = minimal_text_edits(old, new)
    assert [e.range.start.line for e in edits] == [0, 4]
    assert apply_text_edits(old, edits) == new


def test_minimal_edits_of_equal_texts_are_empty() -> None:
    assert minimal_text_edits("same\n", "same\n") == []


def test_minimal_edits_never_split_a_crlf() -> None:
    old = "a\r\nb"
    new = "a\nb"
    edits = minimal_text_edits(old, new)
    assert apply_text_edits(old, edits) == new
    for edit in edits:
        for p in (edit.range.start, edit.range.end):
            offset = position_to_offset(old, p)
            assert not (old[offset - 1 : offset] == "\r" and old[offset : offset + 1] == "\n")


def test_replacement_edits_stay_inside_the_target() -> None:
    text = "keep()\nx = 1\ny = 2\nkeep()\n"
    target = rng(1, 0, 3, 0)
    edits = replacement_edits(text, target, "x = 1\ny = 3\n")
    assert edits == [TextEdit(range=rng(2, 4, 2, 5), new_text="3")]


_alphabet = st.sampled_from(["a", "b", " ", "\n", "\r\n", "\r", "😀", "中", "文", "é", "\t", "{"])
_texts = st.lists(_alphabet, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(old=_texts, new=_texts)
def test_applying_minimal_edits_to_old_gives_new(old: str, new: str) -> None:
    assert apply_text_edits(old, minimal_text_edits(old, new)) == new


@settings(max_examples=200, deadline=None)
@given(text=_texts)
def test_position_offset_round_trip(text: str) -> None:
    index = LineIndex(text)
    for offset in range(len(text) + 1):
        if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
            continue  # the middle of a line ending has no position of its own
        assert index.offset(index.position(offset)) == offset


# --- rebasing ---------------------------------------------------------------------------


def test_rebase_follows_lines_inserted_above() -> None:
    old = "import os\n\ndef f():\n    return 1\n"
    new = "import os\nimport sys\n# note\n\ndef f():\n    return 1\n"
    assert rebase_range(old, rng(2, 0, 4, 0), new) == rng(4, 0, 6, 0)


def test_rebase_refuses_when_the_target_was_edited() -> None:
    old = "def f():\n    return 1\n"
    new = "def f():\n    return 42\n"
    assert rebase_range(old, rng(0, 0, 2, 0), new) is None


def test_rebase_keeps_text_typed_right_after_the_target_outside_it() -> None:
    old = "abc def"
    new = "abcXYZ def"
    assert rebase_range(old, rng(0, 0, 0, 3), new) == rng(0, 0, 0, 3)


def test_rebase_keeps_text_typed_right_before_the_target_outside_it() -> None:
    old = "abc def"
    new = "abc XYZdef"
    assert rebase_range(old, rng(0, 4, 0, 7), new) == rng(0, 7, 0, 10)


def test_rebase_on_the_same_line_after_an_emoji() -> None:
    old = "😀 x = 1"
    new = "😀中 x = 1"
    assert rebase_range(old, rng(0, 3, 0, 8), new) == rng(0, 4, 0, 9)


def test_rebase_edits_all_or_nothing() -> None:
    old = "a\nb\nc\n"
    edits = [
        TextEdit(range=rng(0, 0, 0, 1), new_text="A"),
        TextEdit(range=rng(2, 0, 2, 1), new_text="C"),
    ]
    moved = rebase_edits(old, edits, "new\na\nb\nc\n")
    assert moved is not None
    assert apply_text_edits("new\na\nb\nc\n", moved) == "new\nA\nb\nC\n"
    assert rebase_edits(old, edits, "a\nb\nx\n") is None  # the user rewrote "c"


def test_rebase_whole_lines_refuses_a_user_change_on_an_edited_line() -> None:
    old = "x = 1\ny = 2\nz = 3\n"
    ours = minimal_text_edits(old, "x = 1\ny = 3\nz = 3\n")  # we change y's 2 into 3
    typed = "x = 1\ny = 42\nz = 3\n"  # meanwhile the user made it 42
    merged = rebase_edits(old, ours, typed)
    assert merged is not None and apply_text_edits(typed, merged) == "x = 1\ny = 43\nz = 3\n"
    assert rebase_edits(old, ours, typed, whole_lines=True) is None  # no "y = 43"
    elsewhere = "# note\nx = 1\ny = 2\nz = 30\n"  # user edits other lines only
    moved = rebase_edits(old, ours, elsewhere, whole_lines=True)
    assert moved is not None
    assert apply_text_edits(elsewhere, moved) == "# note\nx = 1\ny = 3\nz = 30\n"


@settings(max_examples=200, deadline=None)
@given(prefix=_texts, target=_texts, suffix=_texts, inserted=_texts)
def test_rebase_after_insertion_above_finds_the_same_text(
    prefix: str, target: str, suffix: str, inserted: str
) -> None:
    old = prefix + target + suffix
    new = inserted + old
    index = LineIndex(old)
    target_range = index.range(len(prefix), len(prefix) + len(target))
    moved = rebase_range(old, target_range, new)
    if moved is not None:  # may refuse when the diff cannot tell the copies apart
        assert text_in_range(new, moved) == text_in_range(old, target_range)


def test_rebase_range_of_a_lone_cr_that_the_new_text_continues_as_crlf() -> None:
    # Found by hypothesis (issue 13): the old "\r" became the first half of a new "\r\n", and
    # the rebased range 0:0-0:1 ended between "\r" and "\n", covering ''.
    old, new = "\r", "\r\na\r"
    target = LineIndex(old).range(0, 1)
    moved = rebase_range(old, target, new)
    assert moved == rng(1, 1, 2, 0)
    assert text_in_range(new, moved) == "\r"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\r", "\r\na\r"),  # an old "\r" continued by a new "\n"
        ("a\r", "a\r\nb\r"),
        ("x\r\n", "x\ry\r\n"),  # an old "\r\n" whose "\n" the new text drops
        ("a\r\nb", "a\rb"),
        ("p\r", "p\r\n"),
    ],
)
def test_minimal_edits_never_end_between_cr_and_lf(old: str, new: str) -> None:
    edits = minimal_text_edits(old, new)
    assert apply_text_edits(old, edits) == new
    for edit in edits:  # every boundary is a real position in the old text
        index = LineIndex(old)
        for position in (edit.range.start, edit.range.end):
            offset = index.offset(position)
            assert not (0 < offset < len(old) and old[offset - 1 : offset + 1] == "\r\n")


@settings(max_examples=300, deadline=None)
@given(old=_texts, new=_texts)
def test_a_rebased_span_never_splits_a_line_ending_of_the_new_text(old: str, new: str) -> None:
    for start in range(len(old) + 1):
        if 0 < start < len(old) and old[start - 1 : start + 1] == "\r\n":
            continue
        moved = rebase_range(old, LineIndex(old).range(start, len(old)), new)
        if moved is not None:
            assert text_in_range(new, moved) == old[start:]


def test_lines_range_covers_whole_lines_with_their_endings() -> None:
    text = "a\nb\nc"
    assert lines_range(text, 0, 1) == rng(0, 0, 2, 0)
    assert lines_range(text, 2, 2) == rng(2, 0, 2, 1)
    assert text_in_range(text, lines_range(text, 1, 1)) == "b\n"


_line_texts = st.lists(
    st.sampled_from(["a\n", "b\n", "x = 1\n", "\n", "😀\r\n", "中文\n", "end"]), max_size=30
).map("".join)


@settings(max_examples=300, deadline=None)
@given(old=_line_texts, new=_line_texts)
def test_round_trip_with_repeated_and_unique_lines(old: str, new: str) -> None:
    assert apply_text_edits(old, minimal_text_edits(old, new)) == new


def test_large_files_with_many_similar_lines_diff_fast_and_minimal() -> None:
    old = "".join(f"def f{n}(x):\n    return x * {n}\n\n" for n in range(4000))
    new = "import os\n" + old.replace("return x * 2000\n", "return x * 2001\n")
    started = time.perf_counter()
    edits = minimal_text_edits(old, new)
    # ~10 ms here; a character-level difflib needs minutes. 5 s holds on a loaded machine.
    assert time.perf_counter() - started < 5.0
    assert edits == [
        TextEdit(range=rng(0, 0, 0, 0), new_text="import os\n"),
        TextEdit(range=rng(6001, 18, 6001, 19), new_text="1"),
    ]
