"""Typeahead cache: typing through a shown suggestion costs no upstream call.

A suggestion is remembered with the line it was made for. When the user then types
characters that match its start, the rest of it is still the answer. Bounded per document
and in documents; the least recently used goes first.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

MAX_DOCUMENTS = 32
MAX_PER_DOCUMENT = 8


@dataclass(frozen=True)
class Anchor:
    """Where a suggestion was made: its line, and that line's text around the cursor."""

    line: int
    line_prefix: str
    line_suffix: str


@dataclass(frozen=True)
class _Entry:
    anchor: Anchor
    text: str


class TypeaheadCache:
    def __init__(
        self, max_documents: int = MAX_DOCUMENTS, max_per_document: int = MAX_PER_DOCUMENT
    ) -> None:
        self._max_documents = max_documents
        self._max_per_document = max_per_document
        self._documents: OrderedDict[str, deque[_Entry]] = OrderedDict()

    def remember(self, uri: str, anchor: Anchor, text: str) -> None:
        entries = self._documents.get(uri)
        if entries is None:
            entries = self._documents[uri] = deque(maxlen=self._max_per_document)
            while len(self._documents) > self._max_documents:
                self._documents.popitem(last=False)
        self._documents.move_to_end(uri)
        entries.appendleft(_Entry(anchor, text))

    def lookup(self, uri: str, anchor: Anchor) -> str | None:
        """The rest of a remembered suggestion the user has typed the start of."""
        entries = self._documents.get(uri)
        if not entries:
            return None
        self._documents.move_to_end(uri)
        for entry in entries:
            rest = _rest_after_typing(entry, anchor)
            if rest is not None:
                return rest
        return None

    def forget(self, uri: str) -> None:
        self._documents.pop(uri, None)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._documents.values())


def _rest_after_typing(entry: _Entry, now: Anchor) -> str | None:
    then = entry.anchor
    if now.line != then.line or now.line_suffix != then.line_suffix:
        return None
    if not now.line_prefix.startswith(then.line_prefix):
        return None
    typed = now.line_prefix[len(then.line_prefix) :]
    if not entry.text.startswith(typed):
        return None
    rest = entry.text[len(typed) :]
    return rest if rest.strip() else None
