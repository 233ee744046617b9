"""``glm.predictNextEdit {uri, position}``: the code action for clients with no next-edit
UI. Asks once (no debounce) and applies the edit through workspace/applyEdit, versioned, so
an edit for a document that changed meanwhile is refused by the editor."""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from glm_lsp.lsp.features.next_edit.state import state_of
from glm_lsp.lsp.features.next_edit.wire import INVOKED, BadRequest, next_edit_request, plain
from glm_lsp.lsp.server import GlmLanguageServer

log = logging.getLogger(__name__)


async def predict_and_apply(ls: GlmLanguageServer, argument: Any) -> dict[str, Any]:
    data = plain(argument)
    if not isinstance(data, dict) or not isinstance(data.get("uri"), str):
        return {"applied": False, "reason": "glm.predictNextEdit needs {uri, position}"}
    document = ls.workspace.text_documents.get(data["uri"])
    params = {
        "textDocument": {"uri": data["uri"], "version": document.version if document else None},
        "position": data.get("position"),
        "context": {"triggerKind": INVOKED},
    }
    try:
        request = next_edit_request(ls, params)
    except BadRequest as exc:
        log.info("predict next edit: %s", exc)
        return {"applied": False, "reason": str(exc)}
    engine = state_of(ls).engine(ls)
    outcome = await engine.suggest(request)
    edit = outcome.edit
    if edit is None:
        ls.show_info(f"GLM: no next edit ({outcome.reason})")
        return {"applied": False, "reason": outcome.reason}
    text_edit = types.TextEdit(
        range=types.Range(
            start=types.Position(line=edit.start_line, character=edit.start_character),
            end=types.Position(line=edit.end_line, character=edit.end_character),
        ),
        new_text=edit.text,
    )
    change = types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(
            uri=request.uri, version=request.version
        ),
        edits=[text_edit],
    )
    result = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(
            edit=types.WorkspaceEdit(document_changes=[change]), label="GLM: next edit"
        )
    )
    if result.applied:
        engine.stats.mark_accepted(outcome.id)
    return {"applied": bool(result.applied)}
