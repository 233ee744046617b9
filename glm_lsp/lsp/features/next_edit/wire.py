"""Copilot's NES wire shape <-> the next-edit engine: reading (loose) params into a request,
building the ``{edits: [...]}`` result."""

from __future__ import annotations

import logging
import time
from typing import Any

from glm_lsp.context.target import language_id
from glm_lsp.lsp.features.completion.items import display_path
from glm_lsp.lsp.features.next_edit.state import state_of
from glm_lsp.lsp.folders import is_excluded_document
from glm_lsp.lsp.server import GlmLanguageServer
from glm_lsp.next_edit.engine import NextEditRequest, Outcome
from glm_lsp.next_edit.prompt import Diagnostic
from glm_lsp.next_edit.window import utf16_to_column

log = logging.getLogger(__name__)
ACCEPT_COMMAND = "glm.nextEditAccepted"
INVOKED = 1  # InlineCompletionTriggerKind.Invoked: asked for, no debounce


class BadRequest(Exception):
    """Params the server cannot use: answered with no edit and a log line, never an error."""


def plain(value: Any) -> Any:
    """pygls hands a custom method's params over as namedtuples: back to dicts and lists."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def next_edit_request(
    ls: GlmLanguageServer,
    raw: Any,
    diagnostics: list[Diagnostic] | None = None,
    *,
    received_at: float = 0.0,
) -> NextEditRequest:
    params = plain(raw)
    if not isinstance(params, dict):
        raise BadRequest("params are not an object")
    document_id = params.get("textDocument")
    position = params.get("position")
    if not isinstance(document_id, dict) or not isinstance(document_id.get("uri"), str):
        raise BadRequest("no textDocument.uri")
    uri = document_id["uri"]
    version = document_id.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadRequest(f"no textDocument.version for {uri}")
    if is_excluded_document(ls, uri):  # a secret's text never goes upstream
        raise BadRequest(f"{uri} is excluded (glm.agent.exclude)")
    document = ls.workspace.text_documents.get(uri)
    if document is None:
        raise BadRequest(f"{uri} is not open")
    if document.version != version:
        raise BadRequest(f"{uri} is at version {document.version}, the request at {version}")
    if not isinstance(position, dict):
        raise BadRequest("no position")
    line, character = position.get("line"), position.get("character")
    if not isinstance(line, int) or not isinstance(character, int) or line < 0 or character < 0:
        raise BadRequest(f"bad position {position!r}")
    lines = list(document.lines) or [""]
    if line >= len(lines):
        raise BadRequest(f"position line {line} is past the end ({len(lines)} lines)")
    text = lines[line].rstrip("\r\n")
    column = utf16_to_column(text, character)
    context = params.get("context")
    kind = context.get("triggerKind") if isinstance(context, dict) else None
    return NextEditRequest(
        uri=uri,
        version=version,
        path=display_path(ls, uri),
        language=language_id(uri, document.language_id),
        lines=lines,
        line=line,
        column=len(text) if column is None else column,
        automatic=kind != INVOKED,
        diagnostics=diagnostics
        if diagnostics is not None
        else state_of(ls).diagnostics(uri, version),
        received_at=received_at,
    )


def edits_result(request: NextEditRequest, outcome: Outcome) -> dict[str, Any]:
    """The answer, in copilot-language-server's shape; the server's own time goes to the
    debug log (benchmarks/next_edit.py reads it)."""
    if outcome.sent_at and outcome.last_token_at:
        log.debug(
            "next edit timing: request->send %.2f ms, last token->result %.2f ms",
            (outcome.sent_at - request.received_at) * 1000,
            (time.perf_counter() - outcome.last_token_at) * 1000,
        )
    edit = outcome.edit
    if edit is None:
        return {"edits": []}
    return {
        "edits": [
            {
                "text": edit.text,
                "textDocument": {"uri": request.uri, "version": request.version},
                "range": {
                    "start": {"line": edit.start_line, "character": edit.start_character},
                    "end": {"line": edit.end_line, "character": edit.end_character},
                },
                "command": {
                    "title": "Accept next edit",
                    "command": ACCEPT_COMMAND,
                    "arguments": [outcome.id],
                },
            }
        ]
    }
