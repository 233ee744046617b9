"""``textDocument/copilotInlineEdit`` and friends: registration and thin handlers. The work
is in :mod:`glm_lsp.next_edit` (the engine) and :mod:`.wire` (the wire shapes)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from glm_lsp.lsp.server import GlmLanguageServer

if TYPE_CHECKING:
    from glm_lsp.lsp.features.next_edit.state import NextEditState

log = logging.getLogger(__name__)

INLINE_EDIT = "textDocument/copilotInlineEdit"
DID_SHOW = "textDocument/didShowInlineEdit"
DID_FOCUS = "textDocument/didFocus"
ACCEPTED = "glm.nextEditAccepted"
PREDICT = "glm.predictNextEdit"
PREDICT_TITLE = "GLM: Predict next edit"
NO_EDITS: dict[str, Any] = {"edits": []}


def state_of(ls: GlmLanguageServer) -> NextEditState:
    """The feature's state; its module (and the engine's history and prompt) load with the
    first document, not with ``initialize``."""
    from glm_lsp.lsp.features.next_edit.state import state_of as loaded_state_of

    return loaded_state_of(ls)


def register(server: GlmLanguageServer) -> None:
    server.on_document_open.append(lambda ls, uri: _opened(ls, uri))

    @server.feature(INLINE_EDIT)
    async def inline_edit(ls: GlmLanguageServer, params: Any) -> dict[str, Any]:
        from glm_lsp.lsp.features.next_edit.wire import BadRequest, edits_result, next_edit_request

        received_at = time.perf_counter()
        state_of(ls).client_has_ui = True  # it renders next edits: no code action needed
        await ls.wait_configured()
        try:
            request = next_edit_request(ls, params, received_at=received_at)
            outcome = await state_of(ls).engine(ls).suggest(request)
        except BadRequest as exc:
            log.info("next edit: no suggestion: %s", exc)
            return NO_EDITS
        except Exception:  # never an error in the editor for a suggestion
            log.exception("next edit failed unexpectedly")
            return NO_EDITS
        if outcome.edit is None:
            log.info("next edit: no suggestion for %s: %s", request.uri, outcome.reason)
        return edits_result(request, outcome)

    @server.feature(DID_SHOW)
    def did_show(ls: GlmLanguageServer, params: Any) -> None:
        from glm_lsp.lsp.features.next_edit.wire import plain

        data = plain(params)
        item = data.get("item") if isinstance(data, dict) else None
        command = item.get("command") if isinstance(item, dict) else None
        arguments = (command.get("arguments") if isinstance(command, dict) else None) or [None]
        state_of(ls).stats(ls).mark_shown(arguments[0])

    @server.feature(DID_FOCUS)
    def did_focus(ls: GlmLanguageServer, params: Any) -> None:
        from glm_lsp.lsp.features.next_edit.wire import plain

        data = plain(params)
        document_id = data.get("textDocument") if isinstance(data, dict) else None
        uri = document_id.get("uri") if isinstance(document_id, dict) else None
        engine = state_of(ls).running()
        if isinstance(uri, str) and engine is not None:
            engine.supersede_all_but(uri)

    @server.command(ACCEPTED)
    def accepted(ls: GlmLanguageServer, *args: Any) -> None:
        state_of(ls).stats(ls).mark_accepted(args[0] if args else None)

    @server.command(PREDICT)
    async def predict(ls: GlmLanguageServer, *args: Any) -> dict[str, Any] | None:
        from glm_lsp.lsp.features.command_reply import reply
        from glm_lsp.lsp.features.next_edit.predict import predict_and_apply

        # Answered at once where the client's timeout is short (Helix), like every command.
        return await reply(ls, lambda: predict_and_apply(ls, args[0] if args else None))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: GlmLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        _changed(ls, params)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: GlmLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        state = state_of(ls)
        state.history.closed(params.text_document.uri)
        if (engine := state.running()) is not None:
            engine.supersede(params.text_document.uri)


def _opened(ls: GlmLanguageServer, uri: str) -> None:
    from glm_lsp.lsp.features.completion.items import display_path  # preloaded at didOpen

    document = ls.workspace.text_documents.get(uri)
    if document is not None:
        state_of(ls).history.opened(uri, display_path(ls, uri), document.lines)


def _changed(ls: GlmLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    from glm_lsp.next_edit.history import LineChange

    uri = params.text_document.uri
    document = ls.workspace.text_documents.get(uri)
    if document is None:
        return
    changes = params.content_changes
    hint = None
    if len(changes) == 1 and isinstance(changes[0], types.TextDocumentContentChangePartial):
        span = changes[0].range
        hint = LineChange(min(span.start.line, span.end.line), max(span.start.line, span.end.line))
    state_of(ls).history.changed(uri, document.lines, hint)


def adjust_capabilities(
    client: types.ClientCapabilities, server_caps: types.ServerCapabilities
) -> None:
    """Clients that render Copilot's NES look for this before they ask."""
    experimental = server_caps.experimental if isinstance(server_caps.experimental, dict) else {}
    server_caps.experimental = {**experimental, "nextEditSuggestions": True}


def predict_action(ls: GlmLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """The code action for clients with no next-edit UI: offered while nextEdit is on, until
    the client asks copilotInlineEdit itself. The diagnostics the client sends with it are
    kept for the next-edit prompt."""
    uri, position = params.text_document.uri, params.range.start
    state = state_of(ls)
    document = ls.workspace.text_documents.get(uri)
    if document is not None and document.version is not None:
        state.remember_diagnostics(uri, document.version, params.context.diagnostics)
    if not ls.settings.next_edit.enabled or state.client_has_ui:
        return []
    argument = {"uri": uri, "position": {"line": position.line, "character": position.character}}
    command = types.Command(title=PREDICT_TITLE, command=PREDICT, arguments=[argument])
    kind = types.CodeActionKind.RefactorRewrite
    return [types.CodeAction(title=PREDICT_TITLE, kind=kind, command=command)]
