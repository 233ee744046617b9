"""Files whose change alters what runs on the user's machine.

An agent edit to ``.vscode/tasks.json``, a workflow, a git hook or the ``scripts`` of
``package.json`` is code that runs later, outside any review the user does of the diff in
front of them: the editor, ``make``, ``git commit`` or ``npm test`` runs it. Such changes get a
change annotation with ``needsConfirmation`` (``features/agent/edit.py``), or are named in the
agent's final message where the editor has no annotations.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any


@dataclass(frozen=True)
class RiskyPath:
    """One row of the table in docs/risky-paths.md."""

    family: str  # editor, build, package, test, git, shell, glm-lsp
    kind: str  # "folder": any folder of the path; "name": the file name (a glob)
    pattern: str  # lower case
    reason: str  # why changing it changes what runs: "make runs its recipes"


def _rows(family: str, kind: str, reason: str, *patterns: str) -> list[RiskyPath]:
    return [RiskyPath(family, kind, pattern, reason) for pattern in patterns]


# Files that a tool runs, or obeys, with no question asked: an edit to one is code that runs
# later. Lower case: compared with the lower-cased path (case-insensitive file systems).
RISKY_PATHS: list[RiskyPath] = [
    *_rows(
        "editor", "folder", "VS Code runs its tasks, launch configurations and settings", ".vscode"
    ),
    *_rows("editor", "folder", "JetBrains IDEs run its run configurations and settings", ".idea"),
    *_rows(
        "editor", "folder", "it defines the dev container and the commands it runs", ".devcontainer"
    ),
    *_rows("editor", "folder", "Helix starts the language servers it names", ".helix"),
    *_rows("editor", "folder", "Zed runs its tasks and settings", ".zed"),
    *_rows(
        "editor",
        "name",
        "it defines the dev container and the commands it runs",
        ".devcontainer.json",
    ),
    *_rows(
        "editor",
        "name",
        "Neovim or Vim runs it on opening the folder (exrc)",
        ".nvim.lua",
        ".nvimrc",
        ".exrc",
        ".vimrc",
    ),
    *_rows(
        "editor",
        "name",
        "Emacs evaluates its variables on opening a file",
        ".dir-locals.el",
        ".dir-locals-2.el",
    ),
    *_rows("build", "name", "make runs its recipes", "makefile", "gnumakefile", "*.mk"),
    *_rows(
        "build",
        "name",
        "CMake runs it when it configures",
        "cmakelists.txt",
        "*.cmake",
        "cmakepresets.json",
    ),
    *_rows(
        "build",
        "name",
        "Gradle runs it on every build",
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle",
        "settings.gradle.kts",
        "gradlew",
        "gradle-wrapper.properties",
    ),
    *_rows(
        "build",
        "name",
        "Maven runs its plugins on every build",
        "pom.xml",
        "maven-wrapper.properties",
    ),
    *_rows("build", "name", "cargo runs it before compiling", "build.rs"),
    *_rows(
        "build",
        "name",
        "the build runs it",
        "meson.build",
        "build.xml",
        "rakefile",
        "justfile",
        ".justfile",
        "taskfile.yml",
        "taskfile.yaml",
        "build.bazel",
        "workspace",
        "workspace.bazel",
        "module.bazel",
        ".bazelrc",
        "dockerfile",
        "containerfile",
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.yml",
        "compose.yaml",
    ),
    *_rows(
        "build",
        "name",
        "pip and build tools run its build backend and hooks",
        "setup.py",
        "pyproject.toml",
        "setup.cfg",
        "hatch_build.py",
    ),
    *_rows(
        "package",
        "name",
        "npm, yarn or pnpm obey it when they install or run",
        ".npmrc",
        ".yarnrc",
        ".yarnrc.yml",
        ".pnpmfile.cjs",
        "pnpm-workspace.yaml",
        "bunfig.toml",
        "deno.json",
        "deno.jsonc",
    ),
    *_rows(
        "package",
        "name",
        "pip installs what it names",
        "requirements*.txt",
        "constraints*.txt",
        "pipfile",
        "pip.conf",
        "uv.toml",
    ),
    *_rows(
        "package",
        "name",
        "the package manager runs its scripts or installs what it names",
        "composer.json",
        "gemfile",
        "cargo.toml",
        ".tool-versions",
        "mise.toml",
        ".mise.toml",
    ),
    *_rows("package", "folder", "cargo obeys its runner and wrapper settings", ".cargo"),
    *_rows("package", "folder", "Bundler obeys it", ".bundle"),
    *_rows("package", "folder", "yarn runs what it holds", ".yarn"),
    *_rows(
        "test",
        "name",
        "pytest runs it before the tests",
        "conftest.py",
        "pytest.ini",
        "tox.ini",
        "noxfile.py",
        ".coveragerc",
    ),
    *_rows(
        "test",
        "name",
        "the test runner loads it",
        "jest.config.*",
        "vitest.config.*",
        "vitest.workspace.*",
        "karma.conf.*",
        ".mocharc*",
        "playwright.config.*",
        "cypress.config.*",
        "phpunit.xml*",
        ".rspec",
    ),
    *_rows("git", "folder", "git runs it as a hook", ".husky", ".githooks", ".lefthook"),
    *_rows(
        "git",
        "name",
        "pre-commit runs its hooks on every commit",
        ".pre-commit-config.yaml",
        ".pre-commit-config.yml",
    ),
    *_rows("git", "name", "git runs its hooks", "lefthook.yml", ".lefthook.yml", "lefthook.yaml"),
    *_rows(
        "git", "name", "git obeys its filters and submodule URLs", ".gitattributes", ".gitmodules"
    ),
    *_rows("shell", "name", "direnv runs it on entering the folder", ".envrc", ".env.local.sh"),
    *_rows(
        "shell",
        "name",
        "the shell runs it at start",
        ".bashrc",
        ".bash_profile",
        ".bash_login",
        ".profile",
        ".zshrc",
        ".zshenv",
        ".zprofile",
        ".zlogin",
        "config.fish",
        ".inputrc",
    ),
]
WORKFLOWS = "GitHub Actions runs it"
HOOKS_PATH = "git runs it as a hook (core.hooksPath)"
PACKAGE_SCRIPTS = "npm runs its scripts"
PACKAGE_INSTALLS = "npm installs what it names, and runs their install scripts"
GLM_LSP_OWN = "glm-lsp reads it as your own settings or consent"
# package.json keys whose change runs code: its scripts, and any dependency (installing one
# runs its install scripts; a `file:` or git dependency is code from anywhere).
_PACKAGE_KEYS = (
    "scripts",
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
    "bundledDependencies",
    "overrides",
    "resolutions",
    "workspaces",
    "bin",
    "main",
    "packageManager",
    "pnpm",
    "husky",
    "lint-staged",
    "simple-git-hooks",
)


def glm_lsp_dirs() -> list[Path]:
    """glm-lsp's own config and state folders (real paths): a workspace that holds them
    (the home folder) must not let the agent write the user's consent or settings."""
    from platformdirs import user_config_dir

    from .consent import state_dir

    return [Path(os.path.realpath(p)) for p in (user_config_dir("glm-lsp"), state_dir())]


def why_it_runs(
    relative: str,
    *,
    old_text: str | None,
    new_text: str | None,
    hooks_path: str | None = None,
    real_path: Path | None = None,
) -> str | None:
    """Why changing this workspace-relative path (POSIX) from ``old_text`` to ``new_text``
    (None: absent) changes what runs on the machine; None when it does not. ``real_path``
    (absolute) is also compared with glm-lsp's own folders."""
    path = PurePosixPath(relative.lower())
    folders = path.parts[:-1]
    name = path.name
    if real_path is not None and any(
        real_path == own or real_path.is_relative_to(own) for own in glm_lsp_dirs()
    ):
        return GLM_LSP_OWN
    for row in RISKY_PATHS:
        if row.kind == "folder" and row.pattern in folders:
            return row.reason
    if any(a == ".github" and b == "workflows" for a, b in itertools.pairwise(folders)):
        return WORKFLOWS
    if hooks_path and _in_hooks_folder(relative, hooks_path):
        return HOOKS_PATH
    for row in RISKY_PATHS:
        if row.kind == "name" and fnmatch.fnmatchcase(name, row.pattern):
            return row.reason
    if name == "package.json":
        before, after = _package_runs(old_text), _package_runs(new_text)
        if before != after:
            scripts = not isinstance(before, dict) or not isinstance(after, dict)
            if scripts or before.get("scripts") != after.get("scripts"):
                return PACKAGE_SCRIPTS
            return PACKAGE_INSTALLS
    return None


# The hooks git runs (githooks(5)): what a hooks folder that is the workspace root holds.
GIT_HOOK_NAMES = frozenset(
    [
        "applypatch-msg",
        "pre-applypatch",
        "post-applypatch",
        "pre-commit",
        "pre-merge-commit",
        "prepare-commit-msg",
        "commit-msg",
        "post-commit",
        "pre-rebase",
        "post-checkout",
        "post-merge",
        "pre-push",
        "pre-receive",
        "update",
        "proc-receive",
        "post-receive",
        "post-update",
        "reference-transaction",
        "push-to-checkout",
        "pre-auto-gc",
        "post-rewrite",
        "sendemail-validate",
        "fsmonitor-watchman",
        "p4-changelist",
        "p4-prepare-changelist",
        "p4-post-changelist",
        "p4-pre-submit",
        "post-index-change",
    ]
)


def _in_hooks_folder(relative: str, folder: str) -> bool:
    folder = folder.strip("/")
    if folder == ".":  # `hooksPath = .`: the root's files named as hooks run
        return relative.lower() in GIT_HOOK_NAMES  # (a hook's name has no "/")
    return relative == folder or relative.startswith(folder + "/")


def _package_runs(text: str | None) -> Any:
    """The parts of a package.json text that decide what runs (:data:`_PACKAGE_KEYS`);
    unreadable JSON compares unequal to anything (a change that cannot be read is not
    assumed harmless)."""
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return object()
    if not isinstance(data, dict):
        return {}
    return {key: data[key] for key in _PACKAGE_KEYS if data.get(key) is not None}


_HOOKS_PATH = re.compile(r"^\s*hookspath\s*=\s*(.*?)\s*$", re.IGNORECASE)
_SECTION = re.compile(r"^\s*\[\s*([^\]\s\"]+)")


def git_hooks_path(root: Path) -> str | None:
    """``core.hooksPath`` of the repository at ``root``, relative to it (POSIX; ``.`` for the
    root itself), when it points inside it; read from ``.git/config`` directly (no git process
    for this)."""
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
    return relative.as_posix()
