"""What the next-edit feature keeps per server: the edit history (fed from the start, by
didOpen and didChange), the counters, and the engine (made on the first request)."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lsprotocol import types

from glm_lsp.lsp.server import GlmLanguageServer
from glm_lsp.next_edit.history import EditHistory, bare
from glm_lsp.next_edit.prompt import Diagnostic

if TYPE_CHECKING:
    from glm_lsp.next_edit.engine import NextEditEngine, NextEditRequest, NextEditStats
    from glm_lsp.next_edit.window import Window


_SEVERITY = {1: "error", 2: "warning", 3: "info", 4: "hint"}
MAX_DIAGNOSTICS = 50


@dataclass
class NextEditState:
    history: EditHistory = field(default_factory=EditHistory)
    client_has_ui: bool = False
    """The client asked textDocument/copilotInlineEdit: it shows next edits itself."""
    _diagnostics: dict[str, tuple[int, list[Diagnostic]]] = field(default_factory=dict)
    _engine: NextEditEngine | None = None

    def remember_diagnostics(
        self, uri: str, version: int, diagnostics: Sequence[types.Diagnostic]
    ) -> None:
        """The editor's diagnostics seen with a code action request (a server gets no other
        view of them), for the next-edit prompt while the document stays at ``version``."""
        kept = [
            Diagnostic(d.range.start.line, _SEVERITY.get(int(d.severity or 1), "error"), d.message)
            for d in list(diagnostics)[:MAX_DIAGNOSTICS]
        ]
        if kept or uri in self._diagnostics:
            self._diagnostics[uri] = (version, kept)

    def diagnostics(self, uri: str, version: int) -> list[Diagnostic]:
        found = self._diagnostics.get(uri)
        return found[1] if found is not None and found[0] == version else []

    def engine(self, ls: GlmLanguageServer) -> NextEditEngine:
        if self._engine is None:
            self._engine = new_engine(ls, self.history)
        return self._engine

    def running(self) -> NextEditEngine | None:
        """The engine if a request made it (closing a document must not load it)."""
        return self._engine

    def stats(self, ls: GlmLanguageServer) -> NextEditStats:
        return self.engine(ls).stats


def new_engine(ls: GlmLanguageServer, history: EditHistory) -> NextEditEngine:
    """The engine, with the server's documents and the workspace's definitions (the same
    gatherer completions use, around the window's cursor)."""
    from glm_lsp.lsp.features.context import completion_context
    from glm_lsp.next_edit.engine import NextEditEngine

    async def definitions(request: NextEditRequest, window: Window) -> str:
        lines = [bare(line) + "\n" for line in request.lines]
        offset = sum(len(line) for line in lines[: window.first + window.cursor_line])
        text = "".join(lines)
        return await completion_context(ls, request.uri, text, offset + window.cursor_column)

    def version(uri: str) -> int | None:
        document = ls.workspace.text_documents.get(uri)
        return None if document is None else document.version

    return NextEditEngine(ls, history, version, context=definitions)


_STATES: weakref.WeakKeyDictionary[GlmLanguageServer, NextEditState] = weakref.WeakKeyDictionary()


def state_of(ls: GlmLanguageServer) -> NextEditState:
    found = _STATES.get(ls)
    if found is None:
        found = _STATES[ls] = NextEditState()
    return found


def next_edit_counts(ls: GlmLanguageServer) -> dict[str, object]:
    """``{"shown", "accepted", "acceptRate"}`` for glm.status."""
    return state_of(ls).stats(ls).as_json()
