"""Files whose change alters what runs on the user's machine.

An agent edit to ``.vscode/tasks.json``, a workflow, a git hook or the ``scripts`` of
``package.json`` is code that runs later, outside any review the user does of the diff in
front of them: the editor, ``make``, ``git commit`` or ``npm test`` runs it. Such changes get a
change annotation with ``needsConfirmation`` (``features/agent/edit.py``), or are named in the
agent's final message where the editor has no annotations.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

# Folders (anywhere in the path) and what runs from them.
_FOLDERS = {
    ".vscode": "VS Code runs its tasks, launch configurations and settings",
    ".idea": "JetBrains IDEs run its run configurations and settings",
    ".devcontainer": "it defines the dev container and the commands it runs",
    ".husky": "git runs it as a hook",
    ".githooks": "git runs it as a hook",
    ".lefthook": "git runs it as a hook",
}
# File names (in any folder) and what runs them.
_FILES = {
    ".envrc": "direnv runs it on entering the folder",
    ".devcontainer.json": "it defines the dev container and the commands it runs",
    ".pre-commit-config.yaml": "pre-commit runs its hooks on every commit",
    ".pre-commit-config.yml": "pre-commit runs its hooks on every commit",
    "lefthook.yml": "git runs its hooks",
    ".lefthook.yml": "git runs its hooks",
    "makefile": "make runs its recipes",
    "gnumakefile": "make runs its recipes",
}
WORKFLOWS = "GitHub Actions runs it"
HOOKS_PATH = "git runs it as a hook (core.hooksPath)"
PACKAGE_SCRIPTS = "npm runs its scripts"


def why_it_runs(
    relative: str,
    *,
    old_text: str | None,
    new_text: str | None,
    hooks_path: str | None = None,
) -> str | None:
    """Why changing this workspace-relative path (POSIX) from ``old_text`` to ``new_text``
    (None: absent) changes what runs on the machine; None when it does not."""
    path = PurePosixPath(relative.lower())
    folders = path.parts[:-1]
    for folder in folders:
        if folder in _FOLDERS:
            return _FOLDERS[folder]
    if any(a == ".github" and b == "workflows" for a, b in itertools.pairwise(folders)):
        return WORKFLOWS
    if hooks_path and _below(relative, hooks_path):
        return HOOKS_PATH
    name = path.name
    if name in _FILES:
        return _FILES[name]
    if name == "package.json" and _scripts(old_text) != _scripts(new_text):
        return PACKAGE_SCRIPTS
    return None


def _below(relative: str, folder: str) -> bool:
    folder = folder.strip("/")
    return bool(folder) and (relative == folder or relative.startswith(folder + "/"))


def _scripts(text: str | None) -> Any:
    """The ``scripts`` of a package.json text; unreadable JSON compares unequal to anything
    (a change that cannot be read is not assumed harmless)."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return object()
    return data.get("scripts") if isinstance(data, dict) else None


_HOOKS_PATH = re.compile(r"^\s*hookspath\s*=\s*(.*?)\s*$", re.IGNORECASE)
_SECTION = re.compile(r"^\s*\[\s*([^\]\s\"]+)")


def git_hooks_path(root: Path) -> str | None:
    """``core.hooksPath`` of the repository at ``root``, relative to it (POSIX), when it
    points inside it; read from ``.git/config`` directly (no git process for this)."""
    try:
        text = (root / ".git" / "config").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    section = ""
    found: str | None = None
    for line in text.splitlines():
        header = _SECTION.match(line)
        if header:
            section = header.group(1).lower()
            continue
        match = _HOOKS_PATH.match(line)
        if section == "core" and match:
            found = match.group(1).strip('"')  # the last one wins, as in git
    if not found:
        return None
    target = Path(found).expanduser()
    if not target.is_absolute():
        target = root / target
    try:
        relative = target.resolve().relative_to(root.resolve())
    except ValueError:
        return None  # outside the workspace: the agent cannot write there anyway
    return relative.as_posix() if relative.parts else None
