"""What the next-edit feature keeps per server: the edit history (fed from the start, by
didOpen and didChange), the counters, and the engine (made on the first request)."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from glm_lsp.lsp.server import GlmLanguageServer
from glm_lsp.next_edit.history import EditHistory

if TYPE_CHECKING:
    from glm_lsp.next_edit.engine import NextEditEngine, NextEditStats


@dataclass
class NextEditState:
    history: EditHistory = field(default_factory=EditHistory)
    _engine: NextEditEngine | None = None

    def engine(self, ls: GlmLanguageServer) -> NextEditEngine:
        if self._engine is None:
            from glm_lsp.lsp.features.next_edit.wire import new_engine

            self._engine = new_engine(ls, self.history)
        return self._engine

    def stats(self, ls: GlmLanguageServer) -> NextEditStats:
        return self.engine(ls).stats


_STATES: weakref.WeakKeyDictionary[GlmLanguageServer, NextEditState] = weakref.WeakKeyDictionary()


def state_of(ls: GlmLanguageServer) -> NextEditState:
    found = _STATES.get(ls)
    if found is None:
        found = _STATES[ls] = NextEditState()
    return found


def next_edit_counts(ls: GlmLanguageServer) -> dict[str, object]:
    """``{"shown", "accepted", "acceptRate"}`` for glm.status."""
    return state_of(ls).stats(ls).as_json()
