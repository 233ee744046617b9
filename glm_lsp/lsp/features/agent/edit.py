"""The agent's result in LSP terms: from staged file changes to what ``lsp/features/apply.py``
sends, shaped for what the client declared (change annotations, plain ``changes``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from glm_lsp.agent.risky_changes import RunsOnMachine, risky_changes
from glm_lsp.lsp.features import apply
from glm_lsp.lsp.features.apply import ClientEditSupport, DocumentSnapshot, NewFile
from glm_lsp.workspace import (
    CreateChange,
    DeleteChange,
    FileChange,
    RenameChange,
    TextChange,
    Workspace,
)

_ANNOTATIONS = {
    "glm-create": types.ChangeAnnotation(
        label="GLM agent: create file", needs_confirmation=True, description="A new file"
    ),
    "glm-delete": types.ChangeAnnotation(
        label="GLM agent: delete file", needs_confirmation=True, description="Deletes a file"
    ),
    "glm-rename": types.ChangeAnnotation(
        label="GLM agent: rename file", needs_confirmation=True, description="Moves a file"
    ),
}
RUNS_LABEL = "GLM agent: changes what runs on your machine"


@dataclass(frozen=True)
class AgentParams:
    instruction: str
    uri: str | None = None
    range: types.Range | None = None


def parse_agent_params(args: Sequence[Any]) -> AgentParams:
    """``glm.agent``'s one object argument; ValueError says what is wrong."""
    raw = args[0] if len(args) == 1 and isinstance(args[0], dict) else None
    if raw is None:
        raise ValueError('expected one object argument {"instruction": ..., "uri"?, "range"?}')
    instruction = raw.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise ValueError("the instruction is missing")
    uri = raw.get("uri")
    return AgentParams(
        instruction.strip(), uri if isinstance(uri, str) else None, _range(raw.get("range"))
    )


def _range(raw: Any) -> types.Range | None:
    try:
        start, end = raw["start"], raw["end"]
        return types.Range(
            start=types.Position(line=int(start["line"]), character=int(start["character"])),
            end=types.Position(line=int(end["line"]), character=int(end["character"])),
        )
    except (TypeError, KeyError, ValueError):
        return None


_OPERATION_KIND = {CreateChange: "create", DeleteChange: "delete", RenameChange: "rename"}


def apply_problem(changes: Sequence[FileChange], support: ClientEditSupport) -> str | None:
    """Why this client cannot take the result, in words for people; None when it can."""
    needed = {_OPERATION_KIND[type(c)] for c in changes if type(c) in _OPERATION_KIND}
    if not needed:
        return None
    if not support.document_changes:
        return (
            "the result creates, deletes or renames files, which this editor does not accept "
            "in an edit (no workspaceEdit.documentChanges support); nothing was applied."
        )
    # A new file needs no declared operation: without CreateFile it is a text edit on a new
    # buffer (see apply.new_file_changes). Deleting and renaming have no such way round.
    missing = sorted(needed - support.resource_operations - {"create"})
    if missing:
        return (
            f"the result needs file operations this editor does not declare ({', '.join(missing)}"
            "); nothing was applied."
        )
    return None


def changes_for_apply(
    workspace: Workspace,
    changes: Sequence[FileChange],
    starts: Mapping[Path, DocumentSnapshot],
) -> list[apply.Change]:
    """The staged changes as ``lsp/features/apply.py`` changes, each text change measured
    against the document as the run saw it (open buffer with its version, else the disk)."""

    def uri(path: Path) -> str:
        return _uri(workspace, starts, path)

    result: list[apply.Change] = []
    for change in changes:
        if isinstance(change, TextChange):
            start = starts.get(change.path)
            version = start.version if start is not None else None
            snapshot = DocumentSnapshot(uri(change.path), version, change.old_text)
            result.append(apply.TextChange.whole_document(snapshot, change.new_text))
        elif isinstance(change, CreateChange):
            result.append(NewFile(uri(change.path), change.text))
        elif isinstance(change, DeleteChange):
            result.append(
                types.DeleteFile(
                    uri=uri(change.path),
                    options=types.DeleteFileOptions(ignore_if_not_exists=False),
                )
            )
        else:
            result.append(
                types.RenameFile(
                    old_uri=uri(change.old_path),
                    new_uri=uri(change.new_path),
                    options=types.RenameFileOptions(overwrite=False, ignore_if_exists=False),
                )
            )
    return result


def _uri(workspace: Workspace, starts: Mapping[Path, DocumentSnapshot], path: Path) -> str:
    start = starts.get(path)
    return start.uri if start is not None else workspace.client_path(path).as_uri()


def files_that_run(
    workspace: Workspace,
    changes: Sequence[FileChange],
    starts: Mapping[Path, DocumentSnapshot],
) -> dict[str, RunsOnMachine]:
    """The changes that alter what runs on the machine (``agent/risky_changes.py``), by the
    URI the edit names them with."""
    found = risky_changes(workspace, changes)
    return {_uri(workspace, starts, path): run for path, run in found.items()}


def runs_note(runs: Mapping[str, RunsOnMachine], support: ClientEditSupport) -> str:
    """For the final message, when the editor applied such files without asking."""
    if not runs or (support.document_changes and support.change_annotations):
        return ""
    listed = "; ".join(f"{run.name} ({run.reason})" for run in runs.values())
    return (
        " Review before you run anything: this editor cannot ask for confirmation, and these "
        f"files change what runs on your machine: {listed}."
    )


def prepare_for_client(
    edit: types.WorkspaceEdit,
    support: ClientEditSupport,
    runs: Mapping[str, RunsOnMachine] | None = None,
) -> None:
    """Annotate file operations, and every change to a file in ``runs`` (even a plain text
    edit), with needsConfirmation when the client supports annotations; use plain
    ``changes`` when it takes no ``documentChanges`` (text-only results)."""
    document_changes = edit.document_changes or []
    if not support.document_changes:
        edit.changes = {
            change.text_document.uri: [e for e in change.edits if isinstance(e, types.TextEdit)]
            for change in document_changes
            if isinstance(change, types.TextDocumentEdit)
        }
        edit.document_changes = None
        return
    if not support.change_annotations:
        return
    runs = runs or {}
    run_ids = {uri: f"glm-runs-{index}" for index, uri in enumerate(runs)}
    annotations = {
        run_ids[uri]: types.ChangeAnnotation(
            label=RUNS_LABEL, needs_confirmation=True, description=f"{run.name}: {run.reason}"
        )
        for uri, run in runs.items()
    }
    used: set[str] = set()
    for change in document_changes:
        if isinstance(change, types.TextDocumentEdit):
            annotation = run_ids.get(change.text_document.uri)
            if annotation is None:
                continue
            change.edits = [_annotated(e, annotation) for e in change.edits]
            used.add(annotation)
            continue
        if isinstance(change, types.CreateFile):
            change.annotation_id = run_ids.get(change.uri, "glm-create")
        elif isinstance(change, types.DeleteFile):
            change.annotation_id = run_ids.get(change.uri, "glm-delete")
        else:
            change.annotation_id = (
                run_ids.get(change.new_uri) or run_ids.get(change.old_uri) or "glm-rename"
            )
        used.add(change.annotation_id)
    if used:
        annotations.update(_ANNOTATIONS)
        edit.change_annotations = {key: annotations[key] for key in sorted(used)}


def _annotated(
    edit: types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit, annotation: str
) -> types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit:
    if isinstance(edit, types.TextEdit):
        return types.AnnotatedTextEdit(
            range=edit.range, new_text=edit.new_text, annotation_id=annotation
        )
    return edit


def changed_names(workspace: Workspace, changes: Sequence[FileChange]) -> list[str]:
    """The files a person would say changed: "a.py", "old.py → new.py", one entry each."""
    names: dict[Path, str] = {}
    for change in changes:
        if isinstance(change, RenameChange):
            old = names.pop(change.old_path, workspace.display(change.old_path))
            names[change.new_path] = f"{old} → {workspace.display(change.new_path)}"
        else:
            names.setdefault(change.path, workspace.display(change.path))
    return list(names.values())
