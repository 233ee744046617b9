"""``textDocument/codeAction``: the ``GLM: …`` menu (built in :mod:`.menu`,
imported on first use so answering ``initialize`` never waits for it)."""

from __future__ import annotations

from lsprotocol import types

from glm_lsp.lsp.features.agent.command import AGENT_COMMAND
from glm_lsp.lsp.server import GlmLanguageServer

KINDS = [
    types.CodeActionKind.QuickFix,
    types.CodeActionKind.RefactorRewrite,
    types.CodeActionKind.Source,
]


def register(server: GlmLanguageServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=KINDS)
    )
    def code_actions(
        ls: GlmLanguageServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | list[types.Command]:
        from glm_lsp.lsp.features.actions.menu import build_code_actions, filter_kinds

        document = ls.workspace.get_text_document(params.text_document.uri)
        actions = build_code_actions(
            params.text_document.uri,
            document.source,
            params.range,
            params.context.diagnostics,
            ls.settings.custom_actions,
            agent_available=AGENT_COMMAND in ls.protocol.fm.commands,
        )
        from glm_lsp.lsp.features.next_edit.handlers import predict_action

        actions += predict_action(ls, params)
        actions = filter_kinds(actions, params.context.only)
        if not ls.supports("text_document", "code_action", "code_action_literal_support"):
            return [action.command for action in actions if action.command]  # old clients
        return actions
