"""Hypothesis fuzz of edit construction and of the server's copy of open documents.

Every property is checked against a reference written here from the LSP text (lines end at
``\\r\\n``, ``\\r`` or ``\\n`` and nowhere else; ``character`` counts UTF-16 units; positions
past a line or the document clamp), not against the code under test.
"""

from __future__ import annotations

from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lsprotocol.types import Position, Range, TextDocumentContentChangePartial, TextEdit

from glm_lsp.lsp.documents import LspTextDocument
from glm_lsp.lsp.edits import minimal_text_edits, replacement_edits
from glm_lsp.lsp.features.apply import DocumentSnapshot, EditConflict, TextChange, rebased_edit

# Characters that trip line and column arithmetic: every line ending, separators only
# str.splitlines knows, a character outside the BMP (two UTF-16 units), tabs.
PIECES = ["a", "b", " ", "\t", "\n", "\r", "\r\n", "\x0c", "\u2028", "\x85", "é", "😀", "x\n"]
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
positions = st.builds(Position, line=st.integers(0, 12), character=st.integers(0, 14))
ranges = st.builds(Range, start=positions, end=positions)

URI = "file:///fuzz.py"
FUZZ = settings(max_examples=300, deadline=None)


# -- the reference -----------------------------------------------------------------------------
def line_starts(text: str) -> list[int]:
    starts, index = [0], 0
    while index < len(text):
        if text.startswith("\r\n", index):
            index += 2
            starts.append(index)
            continue
        if text[index] in "\r\n":
            starts.append(index + 1)
        index += 1
    return starts


def offset(text: str, position: Position) -> int:
    starts = line_starts(text)
    if position.line >= len(starts):
        return len(text)
    start = starts[position.line]
    end = starts[position.line + 1] if position.line + 1 < len(starts) else len(text)
    content = text[start:end].rstrip("\r\n")
    units = 0
    for index, char in enumerate(content):
        if units >= position.character:
            return start + index
        units += 2 if ord(char) > 0xFFFF else 1
    return start + len(content)


def offsets(text: str, range_: Range) -> tuple[int, int]:
    start, end = offset(text, range_.start), offset(text, range_.end)
    return min(start, end), max(start, end)


def apply(text: str, edits: list[TextEdit]) -> str:
    """What an editor does: every range refers to ``text``; apply from the back."""
    spans = sorted((*offsets(text, e.range), e.new_text) for e in edits)
    for (_, end, _), (next_start, _, _) in pairwise(spans):
        assert end <= next_start, "edits overlap"
    for start, end, new_text in reversed(spans):
        text = text[:start] + new_text + text[end:]
    return text


def splits_a_crlf(text: str, edits: list[TextEdit]) -> bool:
    return any(
        0 < o < len(text) and text[o - 1 : o + 1] == "\r\n"
        for e in edits
        for o in offsets(text, e.range)
    )


# -- edit construction -------------------------------------------------------------------------
@FUZZ
@given(old=texts, new=texts)
def test_minimal_edits_turn_old_into_new(old: str, new: str) -> None:
    edits = minimal_text_edits(old, new)
    assert apply(old, edits) == new
    assert not splits_a_crlf(old, edits)
    assert (edits == []) == (old == new)


@FUZZ
@given(text=texts, target=ranges, replacement=texts)
def test_replacement_edits_change_the_target_and_nothing_else(
    text: str, target: Range, replacement: str
) -> None:
    start, end = offsets(text, target)
    edits = replacement_edits(text, target, replacement)
    assert apply(text, edits) == text[:start] + replacement + text[end:]
    for edit in edits:
        edit_start, edit_end = offsets(text, edit.range)
        assert start <= edit_start <= edit_end <= end


@FUZZ
@given(
    text=texts,
    target=ranges,
    replacement=texts,
    typed=texts.filter(bool),
    where=st.integers(0, 10_000),
)
def test_a_result_rebased_onto_what_the_user_typed_meanwhile_keeps_both(
    text: str, target: Range, replacement: str, typed: str, where: int
) -> None:
    """The user typed outside the target while GLM worked (apply.py's path for a code
    action): the result replaces the same code and the typed text stays where it was typed,
    or nothing is applied at all."""
    start, end = offsets(text, target)
    outside = [i for i in range(len(text) + 1) if i <= start or i >= end]
    at = outside[where % len(outside)]
    user_text = text[:at] + typed + text[at:]
    # An editor never puts the cursor inside a line ending, nor types a lone "\r" that
    # fuses with a "\n" into one (then no LSP position lies between them).
    assume(text[at - 1 : at + 1] != "\r\n")
    assume(user_text[at - 1 : at + 1] != "\r\n")
    assume(user_text[at + len(typed) - 1 : at + len(typed) + 1] != "\r\n")
    change = TextChange(DocumentSnapshot(URI, 1, text), target, replacement)
    try:
        edit = rebased_edit(change, DocumentSnapshot(URI, 2, user_text))
    except EditConflict:
        # Refusing is right only when the diff cannot tell where the typing went. Typing
        # within one line that the target does not touch is never ambiguous.
        assert not typed_on_another_line(text, typed, at, start, end), (text, target, user_text)
        return
    result = user_text if edit is None else apply(user_text, list(edit.edits))
    # Where exactly is ambiguous when the typed text repeats its neighbours; what must hold:
    # the user's text with one occurrence of the original target replaced, in one piece.
    original = text[start:end]
    assert any(
        user_text[k : k + len(original)] == original
        and result == user_text[:k] + replacement + user_text[k + len(original) :]
        for k in range(len(user_text) + 1)
    ), (result, user_text)


def typed_on_another_line(text: str, typed: str, at: int, start: int, end: int) -> bool:
    """Whether ``typed`` (no line break in it) went into a line of ``text`` that the range
    ``[start, end)`` does not reach."""
    if "\n" in typed or "\r" in typed:
        return False
    starts = line_starts(text)

    def line(offset: int) -> int:
        return max(i for i, s in enumerate(starts) if s <= offset)

    last = line(end) if end == start or end not in starts else line(end) - 1
    return line(at) < line(start) or line(at) > last


def test_typing_far_from_the_target_is_always_rebased() -> None:
    """The explicit case the property relies on: typing above a selection never refuses."""
    text = "a = 1\nb = 2\nc = 3\n"
    target = Range(start=Position(line=1, character=0), end=Position(line=2, character=0))
    user_text = "# typed\n" + text
    change = TextChange(DocumentSnapshot(URI, 1, text), target, "b = 20\n")
    edit = rebased_edit(change, DocumentSnapshot(URI, 2, user_text))
    assert edit is not None
    assert apply(user_text, list(edit.edits)) == "# typed\na = 1\nb = 20\nc = 3\n"


def test_a_line_the_model_adds_stays_above_what_the_user_types_below_the_selection() -> None:
    text = "def f():\n    x = 1\n\nprint(f())\n"
    selection = Range(start=Position(line=0, character=0), end=Position(line=2, character=0))
    refactored = "def f():\n    x = 1\n    return x\n"
    typed = "def g():\n    pass\n"  # the user starts a function below while GLM works
    user_text = text.replace("\n\nprint", "\n" + typed + "\nprint")
    change = TextChange(DocumentSnapshot(URI, 1, text), selection, refactored)
    edit = rebased_edit(change, DocumentSnapshot(URI, 2, user_text))
    assert edit is not None
    assert apply(user_text, list(edit.edits)) == refactored + typed + "\nprint(f())\n"


# -- the server's copy of an open document -----------------------------------------------------
@FUZZ
@given(
    text=texts,
    changes=st.lists(st.tuples(ranges, texts), max_size=8),
)
def test_incremental_changes_keep_the_servers_copy_equal_to_the_editors(
    text: str, changes: list[tuple[Range, str]]
) -> None:
    document = LspTextDocument("file:///fuzz.py", source=text, version=1)
    editor = text
    for range_, new_text in changes:
        document.apply_change(TextDocumentContentChangePartial(range=range_, text=new_text))
        editor = apply(editor, [TextEdit(range=range_, new_text=new_text)])
        assert document.source == editor
        assert "".join(document.lines) == editor
