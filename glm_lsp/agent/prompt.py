"""The agent's opening messages: stable rules first (cache-friendly), then this run's facts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glm_lsp.context.rules import with_rules
from glm_lsp.workspace import Workspace, WorkspaceError

LISTING_LIMIT = 200
CURRENT_FILE_LIMIT_BYTES = 12_000

SYSTEM_PROMPT = """\
You are a coding agent working inside the user's editor. You change the workspace only through \
the tools; every change you make is collected and shown to the user as one edit to review, \
apply and undo. Nothing is written to disk until the user applies it.

Rules:
- Paths are relative to the workspace root. Files outside it, inside .git/ and secrets \
(.env, keys) are off limits.
- Read a file before changing it. The files you read include the user's unsaved changes.
- Use edit_file for small changes: old_text must match the file exactly once, so copy it \
from read_file with enough surrounding lines to be unique.
- Use write_file for new files (or to rewrite a file completely), delete_file and \
rename_file for the rest.
- Calls in one turn may run at the same time: ask for several files at once when you need them.
- A tool answering "error: ..." did nothing; read the message and try again differently.
- Keep the code style of the files you change. Do only what the instruction asks.
- When you are done, answer without tool calls: one or two sentences on what you changed."""


@dataclass(frozen=True)
class CurrentFile:
    """The file the user ran the agent from, with the selection (1-based lines)."""

    path: Path
    first_line: int | None = None
    last_line: int | None = None
    instruction_comment: bool = False  # the selection is a `glm: ...` comment line


def build_agent_messages(
    instruction: str,
    workspace: Workspace,
    current: CurrentFile | None = None,
    *,
    rules: str = "",
) -> list[dict[str, Any]]:
    """The system message (with the project's ``rules`` files), then this run's facts."""
    parts = [f"Instruction: {instruction.strip()}", f"Workspace root: {workspace.root}"]
    if current is not None:
        parts.append(_describe_current(workspace, current))
    parts.append(_listing(workspace))
    return [
        {"role": "system", "content": with_rules(SYSTEM_PROMPT, rules)},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def _describe_current(workspace: Workspace, current: CurrentFile) -> str:
    name = workspace.display(current.path)
    try:
        workspace.resolve(str(current.path))  # an excluded file's text never goes upstream
        text = workspace.read_text(current.path)
    except WorkspaceError:
        return f"Current file: {name}"
    lines = [f"Current file: {name}"]
    if current.first_line is not None:
        last = current.last_line or current.first_line
        if current.instruction_comment:
            lines.append(
                f"The instruction was written as a comment on line {current.first_line}; "
                "that comment line is removed automatically, leave it alone."
            )
        else:
            selected = "".join(text.splitlines(keepends=True)[current.first_line - 1 : last])
            lines.append(f"Selection (lines {current.first_line}-{last}):\n```\n{selected}```")
    if len(text.encode("utf-8")) <= CURRENT_FILE_LIMIT_BYTES:
        lines.append(
            f"Content of {name}:\n```\n{text}{'' if text.endswith(chr(10)) else chr(10)}```"
        )
    return "\n".join(lines)


def _listing(workspace: Workspace) -> str:
    files = [workspace.display(p) for p in workspace.files_under()]
    shown = files[:LISTING_LIMIT]
    more = (
        f"\n... and {len(files) - len(shown)} more (use list_files)"
        if len(files) > len(shown)
        else ""
    )
    return f"Files ({len(files)}):\n" + "\n".join(shown) + more
