"""The next-edit core with plain inputs: history, window, prompt, reading the rewrite (early
stop), the smallest edit and the guards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from glm_lsp.next_edit.history import EditHistory, LineChange
from glm_lsp.next_edit.prompt import NO_CHANGE, NextEditPrompt, next_edit_messages
from glm_lsp.next_edit.rewrite import MATCHING_LINES_TO_STOP, RewriteReader
from glm_lsp.next_edit.suggestion import NextEdit, rejection, smallest_span, to_edit
from glm_lsp.next_edit.window import CURSOR_MARK, window_around

SOURCE = [
    "def total(values):\n",
    "    result = 0\n",
    "    for value in values:\n",
    "        result = result + value\n",
    "    print(values)\n",
    "    return result\n",
]
RENAMED = ["def total(items):\n", *SOURCE[1:]]


def renamed_history() -> EditHistory:
    history = EditHistory()
    history.opened("file:///calc.py", "calc.py", SOURCE)
    history.changed("file:///calc.py", RENAMED, LineChange(0, 0))
    return history


def test_a_keystroke_becomes_a_hunk_and_its_diff() -> None:
    history = renamed_history()
    (hunk,) = history.recent(6)
    assert hunk.old == ("def total(values):",) and hunk.new == ("def total(items):",)
    assert hunk.removed == "values" and hunk.inserted == "items"
    assert hunk.unified_diff().splitlines()[2:] == [
        "@@ -1,1 +1,1 @@",
        "-def total(values):",
        "+def total(items):",
    ]


def test_typing_a_word_is_one_edit() -> None:
    history = EditHistory()
    uri = "file:///a.py"
    lines = ["x = 1\n", "y = 2\n"]
    history.opened(uri, "a.py", lines)
    for word in ("c", "co", "cou", "coun", "count"):
        history.changed(uri, [f"x = 1 + {word}\n", "y = 2\n"], LineChange(0, 0))
    (hunk,) = history.recent(6)
    assert hunk.old == ("x = 1",) and hunk.new == ("x = 1 + count",)


def test_history_without_a_change_hint_diffs_the_snapshot() -> None:
    history = EditHistory()
    uri = "file:///a.py"
    history.opened(uri, "a.py", ["a\n", "b\n", "c\n"])
    history.changed(uri, ["a\n", "B\n", "b2\n", "c\n"])
    (hunk,) = history.recent(6)
    assert (hunk.start, hunk.old, hunk.new) == (1, ("b",), ("B", "b2"))
    assert history.last_for("file:///other.py") is None


def test_history_is_bounded() -> None:
    history = EditHistory(max_hunks=4)
    uri = "file:///a.py"
    lines = [f"line {i}\n" for i in range(100)]
    history.opened(uri, "a.py", lines)
    for i in range(0, 100, 10):
        lines = list(lines)
        lines[i] = f"changed {i}\n"
        history.changed(uri, lines, LineChange(i, i))
    assert len(history.recent(32)) == 4


def test_window_is_centred_and_marks_the_cursor() -> None:
    lines = [f"l{i}\n" for i in range(50)]
    window = window_around(lines, 25, 1, 21)
    assert (window.first, window.last, window.cursor_line) == (15, 35, 10)
    assert f"l{CURSOR_MARK}25" in window.marked()
    edge = window_around(lines, 1, 0, 21)
    assert (edge.first, len(edge.lines)) == (0, 21)


def test_prompt_puts_the_stable_part_first() -> None:
    history = renamed_history()
    window = window_around(RENAMED, 0, 15, 21)
    messages = next_edit_messages(
        NextEditPrompt("calc.py", "python", window, history.recent(6), definitions="def f(): ...")
    )
    user = messages[1]["content"]
    assert user.index("-def total(values):") < user.index("def f()") < user.index(CURSOR_MARK)
    assert NO_CHANGE in messages[0]["content"]


def fed(original: list[str], reply: str, chunk: int = 5, **kwargs: object) -> tuple[object, int]:
    reader = RewriteReader(original, max_chars=10_000, **kwargs)  # type: ignore[arg-type]
    read = 0
    for i in range(0, len(reply), chunk):
        read = i + chunk
        if reader.feed(reply[i : i + chunk]):
            break
    return reader.finish(complete=True), read


def test_early_stop_after_matching_lines_again() -> None:
    original = [f"line {i}" for i in range(21)]
    rewrite = list(original)
    rewrite[3] = "line three"
    reply = "```python\n" + "\n".join(rewrite) + "\n```"
    reading, read = fed(original, reply)
    assert reading.lines == rewrite and reading.stopped_early  # type: ignore[attr-defined]
    # It stopped right after MATCHING_LINES_TO_STOP lines matched again, long before the end.
    stop = reply.index(original[3 + MATCHING_LINES_TO_STOP]) + len(original[6]) + 1
    assert read <= stop + 5 < len(reply) // 2


def test_early_stop_keeps_changes_separated_by_fewer_lines() -> None:
    original = [f"x{i} = values[{i}]" for i in range(21)]
    rewrite = list(original)
    rewrite[2] = "x2 = items[2]"
    rewrite[4] = "x4 = items[4]"  # two unchanged lines after the first change: keep reading
    reading, _ = fed(original, "```\n" + "\n".join(rewrite) + "\n```")
    assert reading.lines == rewrite  # type: ignore[attr-defined]


def test_no_change_prose_and_long_replies() -> None:
    original = ["a", "b"]
    assert fed(original, NO_CHANGE)[0].no_change  # type: ignore[attr-defined]
    assert fed(original, "Sure! The next edit is to rename b.")[0].rejected  # type: ignore[attr-defined]
    reader = RewriteReader(original, max_chars=100)
    assert reader.feed("```\n" + "x" * 200)
    assert "longer" in reader.finish(complete=True).rejected
    cut = RewriteReader(original, max_chars=100)
    cut.feed("```\na\n")
    assert cut.finish(complete=False).rejected


def test_smallest_span_is_one_edit_over_whole_words() -> None:
    old = "def total(items):\n    for v in values:\n        print(values)"
    new = "def total(items):\n    for v in items:\n        print(items)"
    span = smallest_span(old, new)
    assert span is not None
    assert old[: span.start] + span.text + old[span.end :] == new
    assert old[span.start : span.end].startswith("values")


def test_edit_positions_are_utf16() -> None:
    lines = ["s = '😀'; a = 1\n"]
    window = window_around(lines, 0, 0, 21)
    span = smallest_span(window.text, "s = '😀'; b = 1")
    assert span is not None
    edit = to_edit(window, span)
    assert (edit.start_line, edit.start_character, edit.text) == (
        0,
        10,
        "b",
    )  # the emoji counts two UTF-16 units


def test_guards() -> None:
    history = renamed_history()
    last = history.last_for("file:///calc.py")
    window = window_around(RENAMED, 0, 15, 21)
    good = [line.rstrip("\n").replace("values", "items") for line in RENAMED]
    assert rejection(window, good, last) == ""
    assert "nothing" in rejection(window, list(window.lines), last)
    spaced = list(window.lines)
    spaced[1] = "    result  =  0"
    assert "white space" in rejection(window, spaced, last)
    undo = [line.rstrip("\n") for line in SOURCE]
    assert "undo" in rejection(window, undo, last)


def test_deleting_what_was_just_typed_is_an_undo() -> None:
    history = EditHistory()
    uri = "file:///a.py"
    history.opened(uri, "a.py", ["x = f(a)\n", "y = 2\n"])
    history.changed(uri, ["x = f(a, b)\n", "y = 2\n"], LineChange(0, 0))
    window = window_around(["x = f(a, b)\n", "y = 2\n"], 1, 0, 21)
    assert "undo" in rejection(window, ["x = f(a)", "y = 2"], history.last_for(uri))
    assert rejection(window, ["x = f(a, b)", "y = 2 + b"], history.last_for(uri)) == ""


def test_early_stop_aligns_after_inserted_and_deleted_lines() -> None:
    original = [f"total_{i} = compute({i})" for i in range(21)]
    inserted = [*original[:3], "log(total_2)", *original[3:]]
    reading, _ = fed(original, "```\n" + "\n".join(inserted) + "\n```")
    assert reading.lines == inserted and reading.stopped_early  # type: ignore[attr-defined]
    deleted = original[:3] + original[4:]
    reading, _ = fed(original, "```\n" + "\n".join(deleted) + "\n```")
    assert reading.lines == deleted and reading.stopped_early  # type: ignore[attr-defined]


def test_runs_of_blank_lines_never_stop_the_stream() -> None:
    original = ["a = 1", "", "", "", "", "b = 2", "c = 3", "d = 4"]
    rewrite = ["a = 10", "", "", "", "", "b = 20", "c = 3", "d = 4"]
    reading, _ = fed(original, "```\n" + "\n".join(rewrite) + "\n```", chunk=1)
    assert reading.lines == rewrite  # type: ignore[attr-defined]


def test_a_new_line_and_typing_on_it_is_one_edit() -> None:
    history = EditHistory()
    uri = "file:///a.py"
    history.opened(uri, "a.py", ["def f():\n", "    pass\n"])
    history.changed(uri, ["def f():\n", "    \n", "    pass\n"], LineChange(0, 0))  # Enter
    history.changed(uri, ["def f():\n", "    x = 1\n", "    pass\n"], LineChange(1, 1))
    (hunk,) = history.recent(6)
    assert hunk.new[:2] == ("def f():", "    x = 1")
    assert "x = 1" in hunk.unified_diff()


def test_typed_and_taken_back_is_no_edit() -> None:
    history = EditHistory()
    uri = "file:///a.py"
    history.opened(uri, "a.py", ["x = 1\n"])
    history.changed(uri, ["x = 12\n"], LineChange(0, 0))
    history.changed(uri, ["x = 1\n"], LineChange(0, 0))
    assert history.recent(6) == []


_LINE = st.text(alphabet=st.sampled_from(list("ab _(x)😀\t")), max_size=12)


@given(st.lists(_LINE, min_size=1, max_size=8), st.lists(_LINE, min_size=1, max_size=8))
def test_the_edit_applied_to_the_document_gives_the_rewrite(old: list[str], new: list[str]) -> None:
    """Whatever the rewrite, the one edit (UTF-16 positions in the document) turns the
    window into it."""
    document = ["# above\n", *[line + "\n" for line in old], "# below\n"]
    window = window_around(document, 1, 0, len(document))
    rewrite = ["# above", *new, "# below"]
    span = smallest_span(window.text, "\n".join(rewrite))
    if span is None:
        assert rewrite == list(window.lines)
        return
    edit = to_edit(window, span)
    text = "".join(document)
    assert apply_utf16(text, edit) == "\n".join(rewrite) + "\n"


def apply_utf16(text: str, edit: NextEdit) -> str:
    lines = text.split("\n")

    def offset(line: int, character: int) -> int:
        units, column = 0, 0
        for char in lines[line]:
            if units >= character:
                break
            units += 2 if ord(char) > 0xFFFF else 1
            column += 1
        return sum(len(part) + 1 for part in lines[:line]) + column

    start = offset(edit.start_line, edit.start_character)
    end = offset(edit.end_line, edit.end_character)
    return text[:start] + edit.text + text[end:]
