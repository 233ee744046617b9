"""Why a changed file runs on the machine: the reason a user reads, glm-lsp's own folders,
and a hooks folder that is the workspace root (trust/risky_paths.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glm_lsp.trust.risky_paths import (
    GLM_LSP_OWN,
    HOOKS_PATH,
    PACKAGE_INSTALLS,
    PACKAGE_SCRIPTS,
    RISKY_PATHS,
    RiskyPath,
    git_hooks_path,
    why_it_runs,
)


def _package(**fields: object) -> str:
    return json.dumps({"name": "app", **fields})


OLD = _package(scripts={"test": "jest"}, dependencies={"x": "1.0.0"})


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        (_package(scripts={"test": "sh evil"}, dependencies={"x": "1.0.0"}), PACKAGE_SCRIPTS),
        (_package(scripts={"test": "jest"}, dependencies={"x": "file:../x"}), PACKAGE_INSTALLS),
        (
            _package(scripts={"test": "jest"}, dependencies={"x": "1.0.0"}, bin="run.js"),
            PACKAGE_INSTALLS,
        ),
        ("{broken", PACKAGE_SCRIPTS),  # unreadable: it may be scripts, never assumed harmless
        (_package(scripts={"test": "jest"}, dependencies={"x": "1.0.0"}, version="2"), None),
    ],
)
def test_package_json_says_whether_its_scripts_or_its_installs_changed(
    new: str, reason: str | None
) -> None:
    assert why_it_runs("package.json", old_text=OLD, new_text=new) == reason


def test_a_package_json_read_again_after_it_was_unreadable_names_its_scripts() -> None:
    assert why_it_runs("package.json", old_text="{broken", new_text=OLD) == PACKAGE_SCRIPTS


def test_each_row_says_its_family_kind_pattern_and_reason() -> None:
    assert RiskyPath("build", "name", "makefile", "make runs its recipes") in RISKY_PATHS
    assert RiskyPath("editor", "folder", ".vscode", RISKY_PATHS[0].reason) == RISKY_PATHS[0]
    assert {row.family for row in RISKY_PATHS} == {
        "editor",
        "build",
        "package",
        "test",
        "git",
        "shell",
    }
    assert {row.kind for row in RISKY_PATHS} == {"folder", "name"}
    assert all(row.pattern == row.pattern.lower() and row.reason for row in RISKY_PATHS)


@pytest.fixture
def own_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """glm-lsp's config and state folders, inside a workspace that is the home folder."""
    config, state = tmp_path / ".config", tmp_path / ".local" / "state" / "glm-lsp"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("GLM_LSP_STATE_DIR", str(state))
    return config / "glm-lsp", state


def test_glm_lsps_own_settings_and_consent_are_flagged(
    tmp_path: Path, own_folders: tuple[Path, Path]
) -> None:
    config, state = own_folders
    for path in (config / "settings.json", state / "consent.json", state):
        relative = path.relative_to(tmp_path).as_posix()
        assert why_it_runs(relative, old_text="{}", new_text="{}", real_path=path) == GLM_LSP_OWN


def test_a_neighbour_of_glm_lsps_folders_is_not(
    tmp_path: Path, own_folders: tuple[Path, Path]
) -> None:
    config, _ = own_folders
    for path in (config.parent / "other" / "settings.json", config.parent / "glm-lsp-x" / "a"):
        relative = path.relative_to(tmp_path).as_posix()
        assert why_it_runs(relative, old_text="{}", new_text="{}", real_path=path) is None


def _git_config(root: Path, text: str) -> None:
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text(text)


def test_hooks_run_from_the_workspace_root(tmp_path: Path) -> None:
    _git_config(tmp_path, "[core]\n\thooksPath = .\n")
    hooks = git_hooks_path(tmp_path)
    assert hooks == "."

    def why(path: str) -> str | None:
        return why_it_runs(path, old_text=None, new_text="x", hooks_path=hooks)

    assert why("pre-commit") == HOOKS_PATH
    assert why("Post-Checkout") == HOOKS_PATH  # case-insensitive file systems
    assert why("app.py") is None
    assert why("src/pre-commit") is None  # git runs the root's hooks only


def test_a_hooks_folder_whose_name_starts_or_ends_with_x(tmp_path: Path) -> None:
    _git_config(tmp_path, '[core]\n\thooksPath = "Xhooks-X"\n')
    hooks = git_hooks_path(tmp_path)
    assert hooks == "Xhooks-X"
    assert why_it_runs("Xhooks-X/pre-push", old_text=None, new_text="x", hooks_path=hooks)
    assert why_it_runs("hooks-X/pre-push", old_text=None, new_text="x", hooks_path=hooks) is None
