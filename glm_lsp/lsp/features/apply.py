"""Sending results to the editor with ``workspace/applyEdit`` without losing what the user typed.

A result is computed from a snapshot of each document taken when the work started. At the end
the snapshot is compared with the document now: unchanged → the edit carries the snapshot's
version; changed elsewhere → the edit is rebased onto the new text and version; changed where
the result goes → nothing at all is applied and the user is told why.

The agent reuses this for its multi-file result: one :class:`TextChange` per document (via
:meth:`TextChange.whole_document`), plus :class:`NewFile` or raw lsprotocol resource
operations, all in ONE ``WorkspaceEdit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.uris import to_fs_path

from glm_lsp.lsp.edits import (
    full_range,
    rebase_edits,
    rebase_range,
    replacement_edits,
)
from glm_lsp.lsp.server import GlmLanguageServer

log = logging.getLogger(__name__)

ResourceOperation = types.CreateFile | types.RenameFile | types.DeleteFile
DocumentChange = types.TextDocumentEdit | ResourceOperation


@dataclass(frozen=True)
class DocumentSnapshot:
    """A document's text and version (None when it is not open in the editor)."""

    uri: str
    version: int | None
    text: str
    exists: bool = True
    language_id: str | None = None


def uri_to_path(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


def snapshot(server: GlmLanguageServer, uri: str) -> DocumentSnapshot:
    """The editor's buffer when the document is open, else the file on disk."""
    document = server.workspace.text_documents.get(unquote(uri))
    if document is not None:
        return DocumentSnapshot(uri, document.version, document.source, True, document.language_id)
    path = uri_to_path(uri)
    if path is None or not path.is_file():
        return DocumentSnapshot(uri, None, "", exists=False)
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        return DocumentSnapshot(uri, None, handle.read())


@dataclass(frozen=True)
class TextChange:
    """Replace ``target`` (a range of ``start.text``) with ``new_text``.

    ``strict``: the whole target must still be unchanged to rebase (a refactor of a
    selection the model saw). Not strict: each minimal edit is rebased on its own, so the
    user's edits anywhere the result does not touch are kept (a whole-document rewrite).
    """

    start: DocumentSnapshot
    target: types.Range
    new_text: str
    strict: bool = True

    @classmethod
    def whole_document(cls, start: DocumentSnapshot, new_text: str) -> TextChange:
        return cls(start, full_range(start.text), new_text, strict=False)


@dataclass(frozen=True)
class NewFile:
    """Create ``uri`` (it must not exist) holding ``text``."""

    uri: str
    text: str


Change = TextChange | NewFile | ResourceOperation


@dataclass(frozen=True)
class ClientEditSupport:
    """What the client declared it takes in ``workspace/applyEdit``."""

    document_changes: bool
    resource_operations: frozenset[str]
    change_annotations: bool

    @classmethod
    def of(cls, capabilities: types.ClientCapabilities | None) -> ClientEditSupport:
        workspace = capabilities.workspace if capabilities else None
        edit = workspace.workspace_edit if workspace else None
        if edit is None:
            return cls(False, frozenset(), False)
        operations = frozenset(str(kind.value) for kind in edit.resource_operations or ())
        # Resource operations exist only inside documentChanges: a client that declares them
        # takes documentChanges even when it leaves that flag out (Neovim 0.11 does).
        return cls(
            bool(edit.document_changes) or bool(operations),
            operations,
            edit.change_annotation_support is not None,
        )

    @property
    def creates_files(self) -> bool:
        return "create" in self.resource_operations


class EditConflict(Exception):
    """The user changed the text a result was going to replace: apply nothing."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(reason)
        self.uri = uri
        self.reason = reason


def _path_for_people(uri: str) -> str:
    path = uri_to_path(uri)
    return path.name if path else uri


def rebased_edit(change: TextChange, current: DocumentSnapshot) -> types.TextDocumentEdit | None:
    """The change as a versioned TextDocumentEdit on ``current``; None when nothing changes."""
    start = change.start
    edits = replacement_edits(start.text, change.target, change.new_text)
    if not edits or current.text == start.text:
        return _document_edit(current.uri, current.version, edits) if edits else None
    name = _path_for_people(start.uri)
    if change.strict:
        # Re-target the whole range, then diff against the text now: an insertion at the
        # target's end stays inside it, before anything the user typed right after it.
        target = rebase_range(start.text, change.target, current.text)
        if target is None:
            raise EditConflict(
                start.uri,
                f"{name} changed where the result goes while GLM was working; nothing was "
                "applied. Run the action again.",
            )
        edits = replacement_edits(current.text, target, change.new_text)
    else:
        moved = rebase_edits(start.text, edits, current.text, whole_lines=True)
        if moved is None:
            raise EditConflict(
                start.uri,
                f"{name} was edited in the same places while GLM was working; nothing was applied.",
            )
        edits = moved
    return _document_edit(current.uri, current.version, edits)


def _document_edit(
    uri: str, version: int | None, edits: Sequence[types.TextEdit]
) -> types.TextDocumentEdit:
    return types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=list(edits),
    )


def new_file_changes(
    new_file: NewFile, current: DocumentSnapshot, *, create: bool = True
) -> list[DocumentChange]:
    """A CreateFile and the text to put in it; only the text edit when the client takes no
    CreateFile (eglot 1.9): editors open a new buffer for a path that does not exist, and
    saving it creates the file."""
    if current.exists:
        raise EditConflict(
            new_file.uri, f"{_path_for_people(new_file.uri)} appeared meanwhile; nothing applied."
        )
    insert = types.TextEdit(range=full_range(""), new_text=new_file.text)
    if not create:
        return [_document_edit(new_file.uri, None, [insert])]
    return [
        types.CreateFile(
            uri=new_file.uri,
            options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
        ),
        _document_edit(new_file.uri, None, [insert]),
    ]


def build_workspace_edit(
    changes: Sequence[Change],
    current: Callable[[str], DocumentSnapshot],
    *,
    create_files: bool = True,
) -> types.WorkspaceEdit:
    """One WorkspaceEdit for all ``changes`` against the documents as they are now
    (``current(uri)``); raises :class:`EditConflict` when any of them cannot be placed.
    ``create_files``: the client takes CreateFile (else a new file is a text edit only)."""
    document_changes: list[DocumentChange] = []
    for change in changes:
        if isinstance(change, TextChange):
            edit = rebased_edit(change, current(change.start.uri))
            if edit is not None:
                document_changes.append(edit)
        elif isinstance(change, NewFile):
            document_changes.extend(
                new_file_changes(change, current(change.uri), create=create_files)
            )
        else:
            document_changes.append(change)
    return types.WorkspaceEdit(document_changes=document_changes)


def _versions(edit: types.WorkspaceEdit) -> dict[str, int | None]:
    return {
        change.text_document.uri: change.text_document.version
        for change in edit.document_changes or ()
        if isinstance(change, types.TextDocumentEdit)
    }


async def send_workspace_edit(
    server: GlmLanguageServer, edit: types.WorkspaceEdit, label: str
) -> types.ApplyWorkspaceEditResult:
    return await server.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=label)
    )


async def apply_changes(
    server: GlmLanguageServer,
    label: str,
    changes: Sequence[Change],
    *,
    prepare: Callable[[types.WorkspaceEdit], None] | None = None,
) -> bool:
    """Apply ``changes`` as one edit; tells the user and returns False when nothing was
    applied. ``prepare`` may decorate the edit (e.g. change annotations) before sending.
    One retry when the editor refused because a document moved on in the meantime."""
    creates = ClientEditSupport.of(server.client_capabilities).creates_files
    for attempt in range(2):
        try:
            edit = build_workspace_edit(
                changes, lambda uri: snapshot(server, uri), create_files=creates
            )
        except EditConflict as conflict:
            server.show_warning(f"{label}: {conflict.reason}")
            return False
        if not edit.document_changes:
            server.show_info(f"{label}: no changes.")
            return True
        if prepare is not None:
            prepare(edit)
        sent_versions = _versions(edit)
        result = await send_workspace_edit(server, edit, label)
        if result.applied:
            return True
        moved_on = any(snapshot(server, uri).version != v for uri, v in sent_versions.items())
        if not (moved_on and attempt == 0):
            reason = f": {result.failure_reason}" if result.failure_reason else ""
            server.show_warning(f"{label}: the editor did not apply the change{reason}.")
            return False
        log.info("%s: document changed while the edit was in flight; retrying once", label)
    return False  # pragma: no cover - the loop always returns
