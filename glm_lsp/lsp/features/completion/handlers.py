"""Inline completions: ``textDocument/inlineCompletion`` when the client declares it,
``textDocument/completion`` items with a ``textEdit`` at the cursor otherwise (Helix,
Neovim 0.11). Registration only: the shapes are in :mod:`.items` and the work in
:mod:`glm_lsp.completion.engine`, both imported on the first request so answering
``initialize`` never waits for them."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from glm_lsp.lsp.server import GlmLanguageServer

# Neovim 0.11 asks for completion items automatically only after these.
TRIGGER_CHARACTERS = [" ", ".", "(", "[", "{", ",", ":", "="]


def register(server: GlmLanguageServer) -> None:
    engines: list[Any] = []  # the one CompletionEngine, made on the first request

    def engine() -> Any:
        if not engines:
            from glm_lsp.lsp.features.completion.items import new_engine

            engines.append(new_engine(server))
        return engines[0]

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: GlmLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        from glm_lsp.lsp.features.completion.items import complete_inline

        await ls.wait_configured()
        return await complete_inline(ls, engine(), params)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS),
    )
    async def completion(
        ls: GlmLanguageServer, params: types.CompletionParams
    ) -> types.CompletionList:
        from glm_lsp.lsp.features.completion.items import complete_items

        await ls.wait_configured()
        return await complete_items(ls, engine(), params)


def adjust_capabilities(
    client: types.ClientCapabilities, server_caps: types.ServerCapabilities
) -> None:
    """Advertise one way to complete: inline when the client can show it, else items."""
    if client.text_document is not None and client.text_document.inline_completion is not None:
        server_caps.completion_provider = None
    else:
        server_caps.inline_completion_provider = None
