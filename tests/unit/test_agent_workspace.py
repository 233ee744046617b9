"""The agent's workspace overlay: confinement, what reads see, what staging amounts to."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from glm_lsp.workspace import (
    HUGE_FILE_BYTES,
    CreateChange,
    DeleteChange,
    RenameChange,
    TextChange,
    Workspace,
    WorkspaceError,
)

SECRET = "s3cr3t-DO-NOT-LEAK"


def make_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    make_tree(
        root,
        {
            "a.py": "def helper():\n    return 1\n",
            "b.py": "from a import helper\n",
            "pkg/mod.py": "x = 1\n",
            ".env": f"TOKEN={SECRET}\n",
            ".git/config": f"[remote] url = https://{SECRET}@example.com\n",
            "server.pem": SECRET,
            "build/out.py": "generated\n",
            "pkg/cache.log": "log\n",
            ".gitignore": "build/\n",
            "pkg/.gitignore": "*.log\n",
        },
    )
    (tmp_path / "outside.txt").write_text(SECRET)
    return root


# --- confinement ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "../outside.txt",
        "pkg/../../outside.txt",
        ".git/config",
        "pkg/../.git/config",
        ".env",
        ".env.local",
        "server.pem",
        "deploy/id_rsa",
        "",
        "   ",
    ],
)
def test_paths_off_limits_are_refused(tree: Path, raw: str) -> None:
    with pytest.raises(WorkspaceError):
        Workspace([tree]).resolve(raw)


def test_absolute_path_outside_is_refused_inside_is_allowed(tree: Path) -> None:
    workspace = Workspace([tree])
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        workspace.resolve(str(tree.parent / "outside.txt"))
    assert workspace.resolve(str(tree / "a.py")) == (tree / "a.py").resolve()


def test_dot_dot_that_stays_inside_is_fine(tree: Path) -> None:
    assert Workspace([tree]).resolve("pkg/../a.py") == (tree / "a.py").resolve()


def test_symlink_leading_outside_is_refused(tree: Path) -> None:
    (tree / "innocent.txt").symlink_to(tree.parent / "outside.txt")
    (tree / "linked_dir").symlink_to(tree.parent, target_is_directory=True)
    workspace = Workspace([tree])
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        workspace.resolve("innocent.txt")
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        workspace.resolve("linked_dir/outside.txt")


def test_symlink_to_an_excluded_file_is_refused(tree: Path) -> None:
    (tree / "settings.txt").symlink_to(tree / ".env")
    with pytest.raises(WorkspaceError, match=r"agent\.exclude"):
        Workspace([tree]).resolve("settings.txt")


def test_custom_exclude_patterns(tree: Path) -> None:
    workspace = Workspace([tree], exclude=["pkg/"])
    with pytest.raises(WorkspaceError, match=r"agent\.exclude"):
        workspace.resolve("pkg/mod.py")
    # .git/ stays off limits even when the user's exclude list forgets it.
    with pytest.raises(WorkspaceError, match=r"\.git/"):
        workspace.resolve(".git/config")


def test_second_folder_is_reachable_by_absolute_path(tmp_path: Path, tree: Path) -> None:
    other = tmp_path / "other"
    make_tree(other, {"c.py": "c\n"})
    workspace = Workspace([tree, other])
    path = workspace.resolve(str(other / "c.py"))
    assert workspace.read_text(path) == "c\n"
    assert workspace.display(path) == (other / "c.py").as_posix()


# --- reads see buffers and staged edits --------------------------------------------------


def test_open_buffer_text_wins_over_disk(tree: Path) -> None:
    workspace = Workspace([tree], open_buffers={tree / "a.py": "unsaved\n"})
    assert workspace.read_text(workspace.resolve("a.py")) == "unsaved\n"


def test_reads_see_staged_writes_deletes_and_renames(tree: Path) -> None:
    before = snapshot(tree)
    workspace = Workspace([tree])
    a, b, c = (workspace.resolve(n) for n in ("a.py", "b.py", "c.py"))
    workspace.write(a, "new a\n")
    workspace.delete(b)
    workspace.rename(a, c)
    assert workspace.read_text(c) == "new a\n"
    for gone in (a, b):
        assert not workspace.exists(gone)
        with pytest.raises(WorkspaceError):
            workspace.read_text(gone)
    assert snapshot(tree) == before  # staged only: the disk is untouched


def test_binary_and_huge_files_are_described_not_read(tree: Path) -> None:
    (tree / "logo.png").write_bytes(b"\x89PNG\r\n\x00\x00binary")
    with (tree / "dump.txt").open("wb") as handle:
        handle.truncate(HUGE_FILE_BYTES + 1)
    workspace = Workspace([tree])
    with pytest.raises(WorkspaceError, match="binary file"):
        workspace.read_text(workspace.resolve("logo.png"))
    with pytest.raises(WorkspaceError, match="too large"):
        workspace.read_text(workspace.resolve("dump.txt"))


def test_rename_onto_an_existing_file_is_refused(tree: Path) -> None:
    workspace = Workspace([tree])
    with pytest.raises(WorkspaceError, match="already exists"):
        workspace.rename(workspace.resolve("a.py"), workspace.resolve("b.py"))


# --- listing ----------------------------------------------------------------------------


def listed(workspace: Workspace, start: str | None = None) -> list[str]:
    top = None if start is None else workspace.resolve(start)
    return [workspace.display(p) for p in workspace.files_under(top)]


def test_listing_honours_gitignore_and_exclude(tree: Path) -> None:
    names = listed(Workspace([tree]))
    assert names == [".gitignore", "a.py", "b.py", "pkg/.gitignore", "pkg/mod.py"]


def test_listing_shows_staged_files_and_hides_deleted_ones(tree: Path) -> None:
    workspace = Workspace([tree])
    workspace.write(workspace.resolve("pkg/new.py"), "new\n")
    workspace.delete(workspace.resolve("pkg/mod.py"))
    assert listed(workspace, "pkg") == ["pkg/.gitignore", "pkg/new.py"]


def test_listing_skips_symlinks(tree: Path) -> None:
    (tree / "innocent.txt").symlink_to(tree.parent / "outside.txt")
    assert "innocent.txt" not in listed(Workspace([tree]))


# --- what the staged state amounts to -------------------------------------------------


def test_changes_for_edit_create_delete(tree: Path) -> None:
    workspace = Workspace([tree], open_buffers={tree / "a.py": "unsaved\n"})
    a, b, new = (workspace.resolve(n) for n in ("a.py", "b.py", "new.py"))
    workspace.write(a, "edited\n")
    workspace.delete(b)
    workspace.write(new, "fresh\n")
    assert workspace.changes() == [
        TextChange(a, "unsaved\n", "edited\n"),
        DeleteChange(b),
        CreateChange(new, "fresh\n"),
    ]


def test_edit_then_rename_edits_the_original_before_moving_it(tree: Path) -> None:
    workspace = Workspace([tree])
    a, c = workspace.resolve("a.py"), workspace.resolve("c.py")
    workspace.write(a, "changed\n")
    workspace.rename(a, c)
    assert workspace.changes() == [
        TextChange(a, "def helper():\n    return 1\n", "changed\n"),
        RenameChange(a, c),
    ]


def test_unchanged_writes_and_created_then_deleted_files_amount_to_nothing(tree: Path) -> None:
    workspace = Workspace([tree])
    a, tmp = workspace.resolve("a.py"), workspace.resolve("tmp.py")
    workspace.write(a, workspace.read_text(a))
    workspace.write(tmp, "x")
    workspace.delete(tmp)
    assert workspace.changes() == []


def test_delete_then_write_again_is_an_edit(tree: Path) -> None:
    workspace = Workspace([tree])
    b = workspace.resolve("b.py")
    workspace.delete(b)
    workspace.write(b, "again\n")
    assert workspace.changes() == [TextChange(b, "from a import helper\n", "again\n")]


def test_rename_then_recreate_the_old_name(tree: Path) -> None:
    workspace = Workspace([tree])
    a, c = workspace.resolve("a.py"), workspace.resolve("c.py")
    workspace.rename(a, c)
    workspace.write(a, "shim\n")
    # The editor cannot create a.py while a.py still exists: a.py is edited, c.py created.
    old = "def helper():\n    return 1\n"
    assert workspace.changes() == [TextChange(a, old, "shim\n"), CreateChange(c, old)]


def test_rename_chain_moves_the_last_link_first(tree: Path) -> None:
    workspace = Workspace([tree])
    a, b, c = (workspace.resolve(n) for n in ("a.py", "b.py", "c.py"))
    workspace.rename(b, c)
    workspace.rename(a, b)
    assert workspace.changes() == [RenameChange(b, c), RenameChange(a, b)]


def test_swap_goes_through_a_temporary_name(tree: Path) -> None:
    workspace = Workspace([tree])
    a, b, t = (workspace.resolve(n) for n in ("a.py", "b.py", "t.py"))
    workspace.rename(a, t)
    workspace.rename(b, a)
    workspace.rename(t, b)
    changes = workspace.changes()
    assert all(isinstance(c, RenameChange) for c in changes)
    # Replaying the renames on a dict must end with the contents swapped.
    files = {a: "A", b: "B"}
    for change in changes:
        assert isinstance(change, RenameChange)
        assert change.new_path not in files
        files[change.new_path] = files.pop(change.old_path)
    assert files == {a: "B", b: "A"}


def test_delete_then_rename_onto_the_freed_name(tree: Path) -> None:
    workspace = Workspace([tree])
    a, b = workspace.resolve("a.py"), workspace.resolve("b.py")
    workspace.delete(a)
    workspace.rename(b, a)
    assert workspace.changes() == [DeleteChange(a), RenameChange(b, a)]


def test_client_path_keeps_the_folder_as_the_editor_named_it(tmp_path: Path, tree: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(tree, target_is_directory=True)
    workspace = Workspace([alias])
    real = workspace.resolve("a.py")
    assert real == Path(os.path.realpath(tree / "a.py"))
    assert workspace.client_path(real) == alias / "a.py"
    assert workspace.display(real) == "a.py"


def test_preload_reads_ahead_and_the_run_keeps_that_snapshot(tree: Path) -> None:
    workspace = Workspace([tree])
    assert workspace.preload(threading.Event()) == 5  # .gitignore x2, a.py, b.py, pkg/mod.py
    (tree / "a.py").write_text("changed on disk meanwhile\n")
    assert workspace.read_text(workspace.resolve("a.py")) == "def helper():\n    return 1\n"


def test_preload_stops_when_told(tree: Path) -> None:
    stop = threading.Event()
    stop.set()
    assert Workspace([tree]).preload(stop) == 0
