"""Which of a run's changes alter what runs on the user's machine (tasks, hooks, direnv, build
and package scripts: ``trust/risky_paths.py``), so that every front door names them and asks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from glm_lsp.trust.risky_paths import git_hooks_path, why_it_runs
from glm_lsp.workspace import (
    CreateChange,
    DeleteChange,
    FileChange,
    TextChange,
    Workspace,
    WorkspaceError,
)


@dataclass(frozen=True)
class RunsOnMachine:
    """A changed file that alters what runs on the user's machine, and why."""

    name: str  # as people see it, relative to the workspace
    reason: str


def risky_changes(workspace: Workspace, changes: Sequence[FileChange]) -> dict[Path, RunsOnMachine]:
    """The changed files that alter what runs, by real path, in change order."""
    hooks_paths: dict[Path, str | None] = {}
    found: dict[Path, RunsOnMachine] = {}

    def consider(path: Path, old_text: str | None, new_text: str | None) -> None:
        located = workspace.folder_and_relative(path)
        if located is None:
            return
        folder, relative = located
        if folder not in hooks_paths:
            hooks_paths[folder] = git_hooks_path(folder)
        reason = why_it_runs(
            relative,
            old_text=old_text,
            new_text=new_text,
            hooks_path=hooks_paths[folder],
            real_path=path,
        )
        if reason is not None:
            found[path] = RunsOnMachine(workspace.display(path), reason)

    for change in changes:
        if isinstance(change, TextChange):
            consider(change.path, change.old_text, change.new_text)
        elif isinstance(change, CreateChange):
            consider(change.path, None, change.text)
        elif isinstance(change, DeleteChange):
            consider(change.path, _text_of(workspace.base_text, change.path), None)
        else:
            text = _text_of(workspace.read_text, change.new_path)
            consider(change.old_path, text, None)
            consider(change.new_path, None, text)
    return found


def _text_of(read: Callable[[Path], str], path: Path) -> str | None:
    try:
        return read(path)
    except (WorkspaceError, OSError, ValueError):
        return None  # unreadable: a package.json then counts as changed (see risky_paths)
