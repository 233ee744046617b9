"""The agent's result in LSP terms: arguments, what a client can take, annotations."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from glm_lsp.agent.session import remove_line
from glm_lsp.lsp.features.agent.edit import (
    ClientEditSupport,
    apply_problem,
    changed_names,
    changes_for_apply,
    parse_agent_params,
    prepare_for_client,
)
from glm_lsp.lsp.features.agent.run import agent_title
from glm_lsp.lsp.features.apply import DocumentSnapshot, NewFile, TextChange, build_workspace_edit
from glm_lsp.workspace import Workspace

FULL = ClientEditSupport(True, frozenset({"create", "rename", "delete"}), True)


def test_parse_agent_params() -> None:
    params = parse_agent_params(
        [
            {
                "instruction": "  rename it ",
                "uri": "file:///w/a.py",
                "range": {"start": {"line": 2, "character": 0}, "end": {"line": 3, "character": 0}},
            }
        ]
    )
    assert params.instruction == "rename it" and params.uri == "file:///w/a.py"
    assert params.range is not None and params.range.end.line == 3
    assert parse_agent_params([{"instruction": "x"}]).range is None
    for bad in ([], [{"instruction": " "}], ["rename"], [{"uri": "file:///a"}]):
        with pytest.raises(ValueError):
            parse_agent_params(bad)


def test_title_says_when_the_quota_is_tripled() -> None:
    assert agent_title("rename helper", peak=False) == "GLM agent: rename helper"
    assert agent_title("rename helper", peak=True).endswith("(peak hours: 3× quota)")
    assert len(agent_title("x" * 200, peak=False)) < 70


@pytest.fixture
def staged(tmp_path: Path) -> Workspace:
    (tmp_path / "a.py").write_text("a = 1\n")
    (tmp_path / "b.py").write_text("b = 1\n")
    (tmp_path / "c.py").write_text("c = 1\n")
    workspace = Workspace([tmp_path], open_buffers={tmp_path / "a.py": "a = 1  # unsaved\n"})
    workspace.write(workspace.resolve("a.py"), "a = 2  # unsaved\n")
    workspace.delete(workspace.resolve("b.py"))
    workspace.rename(workspace.resolve("c.py"), workspace.resolve("d.py"))
    workspace.write(workspace.resolve("new.py"), "new\n")
    return workspace


def test_changes_for_apply_carry_the_start_version_and_text(
    staged: Workspace, tmp_path: Path
) -> None:
    a_uri = (tmp_path / "a.py").as_uri()
    starts = {(tmp_path / "a.py").resolve(): DocumentSnapshot(a_uri, 7, "a = 1  # unsaved\n")}
    changes = changes_for_apply(staged, staged.changes(), starts)
    text_change = changes[0]
    assert isinstance(text_change, TextChange)
    assert text_change.start == DocumentSnapshot(a_uri, 7, "a = 1  # unsaved\n")
    assert isinstance(changes[1], types.DeleteFile) and changes[1].uri.endswith("/b.py")
    assert isinstance(changes[2], types.RenameFile) and changes[2].new_uri.endswith("/d.py")
    assert isinstance(changes[3], NewFile) and changes[3].text == "new\n"

    edit = build_workspace_edit(changes, lambda uri: _as_now(uri, starts))
    prepare_for_client(edit, FULL)
    assert edit.change_annotations is not None
    ids = {
        type(c).__name__: c.annotation_id
        for c in edit.document_changes or []
        if not isinstance(c, types.TextDocumentEdit)
    }
    assert ids == {
        "DeleteFile": "glm-delete",
        "RenameFile": "glm-rename",
        "CreateFile": "glm-create",
    }
    assert all(a.needs_confirmation for a in edit.change_annotations.values())
    assert changed_names(staged, staged.changes()) == ["a.py", "b.py", "c.py → d.py", "new.py"]


def _as_now(uri: str, starts: dict[Path, DocumentSnapshot]) -> DocumentSnapshot:
    for start in starts.values():
        if start.uri == uri:
            return start
    path = Path(uri.removeprefix("file://"))
    exists = path.is_file()
    return DocumentSnapshot(uri, None, path.read_text() if exists else "", exists=exists)


def test_no_annotations_when_the_client_has_none(staged: Workspace, tmp_path: Path) -> None:
    a_uri = (tmp_path / "a.py").as_uri()
    # The editor still holds a.py's unsaved text, as when the run started.
    starts = {(tmp_path / "a.py").resolve(): DocumentSnapshot(a_uri, 7, "a = 1  # unsaved\n")}
    edit = build_workspace_edit(
        changes_for_apply(staged, staged.changes(), starts), lambda u: _as_now(u, starts)
    )
    prepare_for_client(edit, ClientEditSupport(True, FULL.resource_operations, False))
    assert edit.change_annotations is None
    assert all(getattr(c, "annotation_id", None) is None for c in edit.document_changes or [])


def test_plain_changes_for_a_client_without_document_changes(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a = 1\n")
    workspace = Workspace([tmp_path])
    workspace.write(workspace.resolve("a.py"), "a = 2\n")
    support = ClientEditSupport(False, frozenset(), False)
    assert apply_problem(workspace.changes(), support) is None
    edit = build_workspace_edit(
        changes_for_apply(workspace, workspace.changes(), {}), lambda u: _as_now(u, {})
    )
    prepare_for_client(edit, support)
    assert edit.document_changes is None
    assert edit.changes is not None
    (edits,) = edit.changes.values()
    assert [e.new_text for e in edits] == ["2"]


def test_apply_problem_names_what_the_client_lacks(staged: Workspace) -> None:
    changes = staged.changes()
    assert apply_problem(changes, FULL) is None
    no_document_changes = apply_problem(changes, ClientEditSupport(False, frozenset(), False))
    assert no_document_changes is not None and "documentChanges" in no_document_changes
    partial = apply_problem(changes, ClientEditSupport(True, frozenset({"create"}), True))
    assert partial is not None and "(delete, rename)" in partial


def test_client_edit_support_from_capabilities() -> None:
    capabilities = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=True,
                resource_operations=[types.ResourceOperationKind.Create],
            )
        )
    )
    assert ClientEditSupport.of(capabilities) == ClientEditSupport(
        True, frozenset({"create"}), False
    )
    assert ClientEditSupport.of(types.ClientCapabilities()) == ClientEditSupport(
        False, frozenset(), False
    )


def test_remove_line_takes_the_copy_nearest_the_comment() -> None:
    text = "# glm: x\na\n# glm: x\nb\n"
    assert remove_line(text, "# glm: x", near=2) == "# glm: x\na\nb\n"
    assert remove_line(text, "# glm: x", near=0) == "a\n# glm: x\nb\n"
    assert remove_line("a\r\n# glm: x\r\nb", "# glm: x", near=1) == "a\r\nb"
    assert remove_line(text, "# glm: y", near=0) == text


def test_resource_operations_alone_mean_document_changes() -> None:
    """Neovim 0.11 declares resourceOperations and leaves documentChanges out."""
    capabilities = types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(
                resource_operations=[
                    types.ResourceOperationKind.Rename,
                    types.ResourceOperationKind.Create,
                    types.ResourceOperationKind.Delete,
                ]
            )
        )
    )
    assert ClientEditSupport.of(capabilities) == ClientEditSupport(
        True, FULL.resource_operations, False
    )


def test_a_new_file_needs_no_create_operation(tmp_path: Path) -> None:
    """eglot 1.9 takes documentChanges but no CreateFile: the new file is a text edit alone."""
    (tmp_path / "a.py").write_text("a = 1\n")
    workspace = Workspace([tmp_path])
    workspace.write(workspace.resolve("a.py"), "a = 2\n")
    workspace.write(workspace.resolve("new.py"), "b = 1\n")
    eglot = ClientEditSupport(True, frozenset(), False)
    assert apply_problem(workspace.changes(), eglot) is None
    edit = build_workspace_edit(
        changes_for_apply(workspace, workspace.changes(), {}),
        lambda u: _as_now(u, {}),
        create_files=eglot.creates_files,
    )
    assert not any(isinstance(c, types.CreateFile) for c in edit.document_changes or [])
    new_file = (tmp_path / "new.py").as_uri()
    (created,) = [
        c
        for c in edit.document_changes or []
        if isinstance(c, types.TextDocumentEdit) and c.text_document.uri == new_file
    ]
    assert [e.new_text for e in created.edits] == ["b = 1\n"]
