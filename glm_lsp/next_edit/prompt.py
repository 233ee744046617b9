"""The next-edit prompt (pure). Stable part first, for GLM's prompt cache: the instructions,
then the user's recent edits (they change only when the user edits), then definitions the
window uses and its diagnostics, and last the editable window with the cursor marked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .history import Hunk
from .window import CURSOR_MARK, Window

NO_CHANGE = "NO_CHANGE"
REGION_START = "<|editable_region_start|>"
REGION_END = "<|editable_region_end|>"

SYSTEM = f"""\
You predict the next edit a programmer will make. You see their recent edits as unified \
diffs and an editable region of the file they are in, with {CURSOR_MARK} where the cursor is.
Work out what the recent edits were for and which edit in the editable region follows from \
them: update the other uses of a renamed name, the callers of a changed signature, the \
matching line of a pattern they started, the code a new field needs.
Answer with the whole editable region rewritten to include that edit, in one fenced code \
block, every line of the region in order, without the cursor mark and without the region \
markers. Change nothing else. Never undo or repeat an edit the programmer just made.
If no edit follows from the recent edits, answer exactly {NO_CHANGE} and nothing else."""


@dataclass(frozen=True)
class Diagnostic:
    line: int
    """Document line (0-based)."""
    severity: str
    message: str


@dataclass(frozen=True)
class NextEditPrompt:
    path: str
    language: str
    window: Window
    history: Sequence[Hunk]
    definitions: str = ""
    diagnostics: Sequence[Diagnostic] = ()


def next_edit_messages(prompt: NextEditPrompt) -> list[dict[str, str]]:
    window = prompt.window
    parts: list[str] = []
    if prompt.history:
        diffs = "\n".join(hunk.unified_diff() for hunk in prompt.history)
        parts.append(f"The programmer's recent edits, oldest first:\n```diff\n{diffs}\n```")
    else:
        parts.append("The programmer has made no edits yet in this session.")
    if prompt.definitions.strip():
        parts.append(f"Definitions the editable region uses:\n{prompt.definitions.strip()}")
    inside = [d for d in prompt.diagnostics if window.first <= d.line <= window.last]
    if inside:
        listed = "\n".join(f"line {d.line + 1}: {d.severity}: {d.message}" for d in inside)
        parts.append(f"Diagnostics in the editable region:\n{listed}")
    parts.append(
        f"File {prompt.path} ({prompt.language}), lines {window.first + 1}-{window.last + 1}:\n"
        f"{REGION_START}\n{window.marked()}\n{REGION_END}"
    )
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "\n\n".join(parts)},
    ]
