"""What a code action command works on: its one object argument, resolved against the
document as it is when the work starts (the snapshot every result is later rebased from)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter

from glm_lsp.context.target import (
    enclosing_block,
    excerpt_around,
    language_id,
    path_for_model,
    uri_path,
)
from glm_lsp.lsp.diagnostics import describe_diagnostic
from glm_lsp.lsp.edits import LineIndex, lines_range
from glm_lsp.lsp.features.apply import DocumentSnapshot, snapshot, uri_to_path
from glm_lsp.lsp.folders import workspace_root
from glm_lsp.lsp.server import GlmLanguageServer
from glm_lsp.prompts import CodeRequest
from glm_lsp.text import split_lines

_converter = get_converter()


class ArgumentError(ValueError):
    """A command argument a person has to fix; the message says how."""


@dataclass(frozen=True)
class ActionArguments:
    uri: str
    range: types.Range | None = None
    instruction: str | None = None
    diagnostics: tuple[types.Diagnostic, ...] = ()


def parse_arguments(command: str, args: tuple[Any, ...]) -> ActionArguments:
    """``{uri, range?, instruction?, diagnostics?}``: the ONE object argument every glm
    command takes (so Helix, Neovim and VS Code can call them directly)."""
    raw = args[0] if len(args) == 1 else None
    if not isinstance(raw, dict) or not isinstance(raw.get("uri"), str):
        raise ArgumentError(f"{command} takes one object argument: {{uri, range}}")
    try:
        range_ = _converter.structure(raw["range"], types.Range) if raw.get("range") else None
        diagnostics = tuple(
            _converter.structure(d, types.Diagnostic) for d in raw.get("diagnostics") or ()
        )
    except Exception as exc:
        raise ArgumentError(f"{command}: bad range or diagnostics argument ({exc})") from exc
    instruction = raw.get("instruction")
    return ActionArguments(
        uri=raw["uri"],
        range=range_,
        instruction=instruction if isinstance(instruction, str) and instruction.strip() else None,
        diagnostics=diagnostics,
    )


def block_range(
    text: str, line: int, uri: str | None = None, *, load_grammar: bool = True
) -> types.Range:
    """The whole lines of the block around ``line`` (enclosing definition, else the line),
    from the syntax tree when the file's language has a grammar (``load_grammar``: loading
    it now if needed; the code action menu, asked at every cursor move, never waits for
    that)."""
    lines = [line_text.rstrip("\r\n") for line_text in split_lines(text)]
    path = None if uri is None else str(uri_path(uri))
    first, last = enclosing_block(lines, line, path, load_grammar=load_grammar)
    return lines_range(text, first, last)


@dataclass(frozen=True)
class ActionTarget:
    document: DocumentSnapshot
    range: types.Range
    start: int  # str offsets of the range in document.text
    end: int
    language: str
    path: Path | None
    root: Path | None

    @property
    def selection(self) -> str:
        return self.document.text[self.start : self.end]

    @property
    def starts_at_line_start(self) -> bool:
        text = self.document.text
        return self.start == 0 or text[self.start - 1] in "\r\n"

    @property
    def display_path(self) -> str:
        return self.document.uri if self.path is None else path_for_model(self.path, self.root)


def resolve_target(server: GlmLanguageServer, arguments: ActionArguments) -> ActionTarget:
    document = snapshot(server, arguments.uri)
    if not document.exists:
        raise ArgumentError(f"{arguments.uri} is neither open nor on disk")
    range_ = arguments.range
    if range_ is None or range_.start == range_.end:
        line = range_.start.line if range_ is not None else 0
        range_ = block_range(document.text, line, arguments.uri)
    start, end = LineIndex(document.text).offsets(range_)
    path = uri_to_path(arguments.uri)
    return ActionTarget(
        document=document,
        range=range_,
        start=start,
        end=end,
        language=language_id(arguments.uri, document.language_id),
        path=path,
        root=workspace_root(server, path),
    )


def code_request(target: ActionTarget, diagnostics: tuple[types.Diagnostic, ...]) -> CodeRequest:
    text = target.document.text
    first_line = text.count("\n", 0, target.start)
    last_line = text.count("\n", 0, max(target.start, target.end - 1))
    return CodeRequest(
        language=target.language,
        path=target.display_path,
        excerpt=excerpt_around(text, target.start, target.end),
        selection=target.selection,
        first_line=first_line,
        last_line=last_line,
        diagnostics=tuple(describe_diagnostic(d) for d in diagnostics),
    )
