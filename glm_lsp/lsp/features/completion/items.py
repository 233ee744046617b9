"""The LSP shapes of a suggestion (inline items, completion items with a ``textEdit``) and
the engine the handlers in :mod:`.handlers` delegate to."""

from __future__ import annotations

import re

from lsprotocol import types

from glm_lsp.completion.cursor import Cursor, cursor_at, leading_whitespace
from glm_lsp.completion.engine import CompletionEngine, CompletionRequest
from glm_lsp.context.target import language_id, path_for_model
from glm_lsp.lsp.features.apply import uri_to_path
from glm_lsp.lsp.folders import is_excluded_document, workspace_root
from glm_lsp.lsp.server import GlmLanguageServer

DETAIL = "GLM suggestion"
_WORD_BEFORE = re.compile(r"\w*$")


def new_engine(server: GlmLanguageServer) -> CompletionEngine:
    """The engine (debounce, supersede, typeahead cache) the server keeps for its life."""
    from glm_lsp.lsp.features.context import completion_context

    async def context(request: CompletionRequest) -> str:
        cursor = request.cursor
        return await completion_context(
            server, request.uri, cursor.before + cursor.after, len(cursor.before)
        )

    return CompletionEngine(
        server, lambda uri: server.workspace.get_text_document(uri).version, context=context
    )


async def complete_inline(
    ls: GlmLanguageServer, engine: CompletionEngine, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    if is_excluded_document(ls, params.text_document.uri):
        return types.InlineCompletionList(items=[])
    automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
    request = completion_request(ls, params.text_document.uri, params.position, automatic)
    text = await engine.complete(request)
    return inline_completion_list(text, params.position)


async def complete_items(
    ls: GlmLanguageServer, engine: CompletionEngine, params: types.CompletionParams
) -> types.CompletionList:
    if is_excluded_document(ls, params.text_document.uri):
        return types.CompletionList(is_incomplete=False, items=[])
    kind = params.context.trigger_kind if params.context else None
    automatic = kind not in (None, types.CompletionTriggerKind.Invoked)
    request = completion_request(ls, params.text_document.uri, params.position, automatic)
    text = await engine.complete(request)
    snippets = ls.supports("text_document", "completion", "completion_item", "snippet_support")
    return completion_list(text, params.position, request.cursor, snippets=snippets)


def completion_request(
    ls: GlmLanguageServer, uri: str, position: types.Position, automatic: bool
) -> CompletionRequest:
    document = ls.workspace.get_text_document(uri)
    cursor = cursor_at(
        display_path(ls, uri),
        language_id(uri, document.language_id),
        document.source,
        document.offset_at_position(position),
    )
    return CompletionRequest(uri, document.version, position.line, cursor, automatic)


def display_path(ls: GlmLanguageServer, uri: str) -> str:
    """The path the model is shown: relative to the workspace folder when inside one."""
    path = uri_to_path(uri)
    return uri if path is None else path_for_model(path, workspace_root(ls, path))


def inline_completion_list(
    text: str | None, position: types.Position
) -> types.InlineCompletionList:
    if not text:
        return types.InlineCompletionList(items=[])
    at_cursor = types.Range(start=position, end=position)
    return types.InlineCompletionList(
        items=[types.InlineCompletionItem(insert_text=text, range=at_cursor)]
    )


def completion_list(
    text: str | None, position: types.Position, cursor: Cursor, *, snippets: bool
) -> types.CompletionList:
    """One item replacing nothing, inserting at the cursor. Incomplete, so each keystroke
    asks again (answered from the typeahead cache while the user types through it).

    Editors that expand snippets (Neovim, Helix) insert a snippet's text in full and indent
    its lines like the cursor's line, while Neovim inserts only the first word of a plain
    text item: so when snippets are supported the item is an escaped snippet with
    indentation relative to the cursor's line."""
    if not text:
        return types.CompletionList(is_incomplete=True, items=[])
    typed_word = _WORD_BEFORE.search(cursor.line_prefix)
    # The word being typed and its rest ("return sum(values)", not "urn sum(values)"): the
    # menu shows the label, the edit inserts only the rest.
    label = (typed_word.group(0) if typed_word else "") + first_line(text)
    new_text, text_format, mode = _insertion(text, cursor, snippets=snippets)
    at_cursor = types.Range(start=position, end=position)
    item = types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Text,
        detail=DETAIL,
        documentation=text if "\n" in text else None,
        # A client filtering by the word before the cursor must find that word here.
        filter_text=label,
        sort_text="0",
        preselect=True,
        insert_text_format=text_format,
        insert_text_mode=mode,
        text_edit=types.TextEdit(range=at_cursor, new_text=new_text),
    )
    return types.CompletionList(is_incomplete=True, items=[item])


def _insertion(
    text: str, cursor: Cursor, *, snippets: bool
) -> tuple[str, types.InsertTextFormat, types.InsertTextMode]:
    if snippets:
        snippet = escape_snippet(relative_to_line_indent(text, cursor))
        return snippet, types.InsertTextFormat.Snippet, types.InsertTextMode.AdjustIndentation
    return text, types.InsertTextFormat.PlainText, types.InsertTextMode.AsIs


def first_line(text: str) -> str:
    """The first line with content (a suggestion may start with a line break)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), text.strip())


def relative_to_line_indent(text: str, cursor: Cursor) -> str:
    base = leading_whitespace(cursor.line_prefix + cursor.line_suffix)
    lines = text.split("\n")
    rest = [
        line[len(base) :] if line.startswith(base) else line.lstrip(" \t") for line in lines[1:]
    ]
    return "\n".join([lines[0], *rest])


def escape_snippet(text: str) -> str:
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")
