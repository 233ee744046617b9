"""Open documents kept the way LSP defines them.

pygls splits a document with ``str.splitlines``, which also breaks at form feed, U+2028 and
other separators LSP does not count, so a keystroke after one of them lands on the wrong line
of the server's copy (and a later edit built from that copy overwrites what the user typed);
it also rebuilds the whole text line by line on every keystroke (30 ms per change in a 5 MB
file). Here a change re-splits only the lines it touches, with LSP's line endings, and the
full text is joined again only when someone reads it. Positions are UTF-16 (the server always
negotiates UTF-16, the encoding ``edits.py`` speaks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace


class LspTextDocument(TextDocument):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lines: list[str] | None = None

    @property
    def source(self) -> str:
        if self._source is None and self._lines is not None:
            self._source = "".join(self._lines)
        return str(super().source)

    @property
    def lines(self) -> Sequence[str]:
        if self._lines is None:
            from glm_lsp.text import split_lines  # with the first document, not at start

            self._lines = split_lines(self.source)
        return self._lines

    def _apply_full_change(self, change: types.TextDocumentContentChangeEvent) -> None:
        super()._apply_full_change(change)
        self._lines = None

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        # Loaded with the first edit, not at start (initialize waits for nothing it needs).
        from glm_lsp.lsp.edits import LineIndex
        from glm_lsp.text import split_lines

        self.lines  # noqa: B018 - makes sure _lines is filled
        lines = self._lines
        assert lines is not None
        start, end = sorted(
            (change.range.start, change.range.end), key=lambda p: (p.line, p.character)
        )
        # One line either side: a lone "\r" and a "\n" that meet become one line ending.
        first = max(0, min(start.line, len(lines)) - 1)
        last = min(end.line + 1, len(lines) - 1)
        block = "".join(lines[first : last + 1])
        begin, stop = LineIndex(block).offsets(
            types.Range(start=_shifted(start, first), end=_shifted(end, first))
        )
        lines[first : last + 1] = split_lines(block[:begin] + change.text + block[stop:])
        self._source = None


def _shifted(position: types.Position, lines_up: int) -> types.Position:
    return types.Position(line=position.line - lines_up, character=position.character)


class LspWorkspace(Workspace):
    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return LspTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self.position_codec,
        )
