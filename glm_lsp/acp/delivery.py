"""The end of an ACP turn: each changed file shown as a diff, ONE permission for the change
set (naming the files that alter what runs on the machine), then the writes — through the
editor's ``fs/write_text_file`` where it offers it, else by this process, atomically. Deletes
and renames are done here after the same permission. Nothing is written before it."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from acp import helpers
from acp.interfaces import Client
from acp.schema import (
    AllowedOutcome,
    FileEditToolCallContent,
    PermissionOption,
    ToolCallLocation,
    ToolCallUpdate,
    ToolKind,
)

from glm_lsp.agent.risky_changes import RunsOnMachine
from glm_lsp.log import redact
from glm_lsp.workspace import (
    CreateChange,
    DeleteChange,
    FileChange,
    RenameChange,
    TextChange,
    Workspace,
)

log = logging.getLogger(__name__)

APPLY = "apply"
DISCARD = "discard"
CHANGE_SET_ID = "glm-change-set"


@dataclass
class Written:
    """What happened to each file of an allowed change set."""

    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, why)


def change_tool_calls(workspace: Workspace, changes: Sequence[FileChange]) -> list[ToolCallUpdate]:
    """One pending tool call per changed file, with its diff (oldText null for a new file)."""
    calls: list[ToolCallUpdate] = []
    for index, change in enumerate(changes):
        call_id = f"glm-change-{index}"
        if isinstance(change, TextChange):
            name = workspace.display(change.path)
            content = [
                helpers.tool_diff_content(str(change.path), change.new_text, change.old_text)
            ]
            calls.append(_call(call_id, f"Edit {name}", "edit", change.path, content))
        elif isinstance(change, CreateChange):
            name = workspace.display(change.path)
            content = [helpers.tool_diff_content(str(change.path), change.text, None)]
            calls.append(_call(call_id, f"Create {name}", "edit", change.path, content))
        elif isinstance(change, DeleteChange):
            name = workspace.display(change.path)
            old = _base_text(workspace, change.path)
            content = [helpers.tool_diff_content(str(change.path), "", old)]
            calls.append(_call(call_id, f"Delete {name}", "delete", change.path, content))
        else:
            title = f"Rename {workspace.display(change.old_path)} → "
            title += workspace.display(change.new_path)
            calls.append(_call(call_id, title, "move", change.new_path, []))
    return calls


def _call(
    call_id: str,
    title: str,
    kind: ToolKind,
    path: Path,
    content: Sequence[FileEditToolCallContent],
) -> ToolCallUpdate:
    return ToolCallUpdate(
        tool_call_id=call_id,
        title=title,
        kind=kind,
        status="pending",
        content=list(content),
        locations=[ToolCallLocation(path=str(path))],
    )


def _base_text(workspace: Workspace, path: Path) -> str | None:
    try:
        return workspace.base_text(path)
    except Exception:  # unreadable: the diff shows no old text
        return None


def permission_title(names: Sequence[str], runs: dict[Path, RunsOnMachine]) -> str:
    title = f"Apply GLM's change to {len(names)} file(s): {', '.join(names)}"
    if runs:
        listed = "; ".join(f"{run.name} ({run.reason})" for run in runs.values())
        title += f". Review first, these change what runs on your machine: {listed}"
    return title


async def ask_to_apply(
    conn: Client, session_id: str, title: str, calls: Sequence[ToolCallUpdate]
) -> bool:
    """ONE permission request for the whole change set; True only for Apply."""
    options = [
        PermissionOption(option_id=APPLY, name="Apply", kind="allow_once"),
        PermissionOption(option_id=DISCARD, name="Discard", kind="reject_once"),
    ]
    content = [item for call in calls for item in (call.content or [])]
    tool_call = ToolCallUpdate(
        tool_call_id=CHANGE_SET_ID, title=title, kind="edit", status="pending", content=content
    )
    response = await conn.request_permission(
        session_id=session_id, tool_call=tool_call, options=options
    )
    outcome = response.outcome
    return isinstance(outcome, AllowedOutcome) and outcome.option_id == APPLY


async def write_changes(
    conn: Client,
    session_id: str,
    workspace: Workspace,
    changes: Sequence[FileChange],
    *,
    client_writes: bool,
) -> Written:
    """Apply the change set in order (edits, deletes, renames, creates); a failure is noted
    and the rest still goes, so the user is told exactly which files are as GLM left them."""
    written = Written()
    for change in changes:
        name = changed_file_name(workspace, change)
        try:
            if isinstance(change, TextChange | CreateChange):
                text = change.new_text if isinstance(change, TextChange) else change.text
                if client_writes:
                    await conn.write_text_file(
                        session_id=session_id, path=str(change.path), content=text
                    )
                else:
                    write_atomically(change.path, text)
            elif isinstance(change, DeleteChange):
                os.unlink(change.path)
            else:
                if os.path.lexists(change.new_path):
                    raise FileExistsError(f"{name} exists")
                change.new_path.parent.mkdir(parents=True, exist_ok=True)
                os.rename(change.old_path, change.new_path)
        except Exception as exc:
            why = redact(str(exc) or type(exc).__name__)
            log.warning("writing %s failed: %s", name, why)
            written.failed.append((name, why))
        else:
            written.done.append(name)
    return written


def changed_file_name(workspace: Workspace, change: FileChange) -> str:
    """The file a change leaves, as people see it (a rename: its new name)."""
    path = change.new_path if isinstance(change, RenameChange) else change.path
    return workspace.display(path)


def write_atomically(path: Path, text: str) -> None:
    """Write whole or not at all: a temporary file beside it, then a rename (which replaces a
    link rather than writing through it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".glm")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
