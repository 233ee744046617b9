"""The chat prompt for one inline completion (pure).

GLM has no fill-in-the-middle endpoint, so the file is shown with a cursor marker and the
model is asked for the insertion only. The system message never changes and the file
window starts on a stable line, so consecutive requests share a long cacheable prefix.
Definitions from other files come before the file: they change only when a new name is
used (and then grow at their end), so the prefix up to the cursor stays the same.
"""

from __future__ import annotations

from typing import Any

from glm_lsp.completion.cursor import Cursor

CURSOR_MARKER = "<|cursor|>"
MAX_BEFORE_CHARS = 8000
MAX_AFTER_CHARS = 2000
# The window's first line moves in steps of this many lines, not on every keystroke.
WINDOW_STEP_LINES = 16

SYSTEM_PROMPT = (
    "You are a code completion engine inside a code editor. The user message shows a file "
    f"with the cursor marked {CURSOR_MARKER}. Answer with the insertion only: the exact text "
    "to insert at the cursor, nothing else. No explanation, no Markdown fences, do not repeat "
    "the text before or after the cursor. Keep the file's indentation. Finish the current "
    "line, or the block when the cursor starts one. If nothing useful fits, answer with "
    "nothing."
)


def completion_messages(cursor: Cursor, context: str = "") -> list[dict[str, Any]]:
    """``context``: definitions from other files the code near the cursor uses."""
    before = window_before(cursor.before, MAX_BEFORE_CHARS)
    after = window_after(cursor.after, MAX_AFTER_CHARS)
    language = cursor.language_id or "plain text"
    lead = f"{context.rstrip()}\n\n" if context.strip() else ""
    user = f"{lead}File: {cursor.path}\nLanguage: {language}\n\n{before}{CURSOR_MARKER}{after}"
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user},
    ]


def window_before(text: str, budget: int) -> str:
    """The end of ``text``, whole lines nearest the cursor first, within ``budget`` chars.

    The cursor's own line is kept whole unless it alone is over budget (minified code)."""
    if len(text) <= budget:
        return text
    lines = text.split("\n")
    if len(lines[-1]) >= budget:
        return lines[-1][-budget:]
    kept = len(lines[-1])
    first = len(lines) - 1
    while first > 0 and kept + len(lines[first - 1]) + 1 <= budget:
        first -= 1
        kept += len(lines[first]) + 1
    # Snap forward to a step boundary so typing does not shift the window's start.
    snapped = -(-first // WINDOW_STEP_LINES) * WINDOW_STEP_LINES
    first = min(snapped, len(lines) - 1)
    return "\n".join(lines[first:])


def window_after(text: str, budget: int) -> str:
    """The start of ``text`` in whole lines within ``budget`` chars."""
    if len(text) <= budget:
        return text
    lines = text.split("\n")
    if len(lines[0]) >= budget:
        return lines[0][:budget]
    kept = len(lines[0])
    last = 0
    while last + 1 < len(lines) and kept + len(lines[last + 1]) + 1 <= budget:
        last += 1
        kept += len(lines[last]) + 1
    return "\n".join(lines[: last + 1])
