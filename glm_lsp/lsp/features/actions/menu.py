"""The ``GLM: …`` code action menu, built from plain inputs. Instant — no model call; each
action carries the command (one object argument) that does the work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from lsprotocol.converters import get_converter

from glm_lsp.context.target import instruction_comments, instruction_target, uri_path
from glm_lsp.lsp.edits import lines_range
from glm_lsp.lsp.features.actions.names import EXPLAIN, FIX, GENERATE_TESTS, REFACTOR
from glm_lsp.lsp.features.actions.target import block_range
from glm_lsp.lsp.features.agent.command import AGENT_COMMAND as AGENT
from glm_lsp.text import split_lines

if TYPE_CHECKING:
    from glm_lsp.config import CustomAction


_converter = get_converter()


def _touches(diagnostic: types.Range, selection: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(diagnostic.start) <= key(selection.end) and key(selection.start) <= key(
        diagnostic.end
    )


def _action(
    title: str, kind: str, command: str, argument: dict[str, Any], **extra: Any
) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=kind,
        command=types.Command(title=title, command=command, arguments=[argument]),
        **extra,
    )


def build_code_actions(
    uri: str,
    text: str,
    selection: types.Range,
    diagnostics: Sequence[types.Diagnostic],
    custom_actions: Sequence[CustomAction],
    *,
    agent_available: bool,
) -> list[types.CodeAction]:
    """Explain, Refactor, Generate tests; Fix when diagnostics touch the range; one action
    per custom action; one per ``glm:`` instruction comment in the range. An empty range
    means the block around the cursor."""
    target = (
        selection
        if selection.start != selection.end
        else block_range(text, selection.start.line, uri, load_grammar=False)
    )
    argument = {"uri": uri, "range": _converter.unstructure(target)}
    rewrite, source = types.CodeActionKind.RefactorRewrite, types.CodeActionKind.Source
    actions = [
        _action("GLM: Explain", types.CodeActionKind.Empty, EXPLAIN, argument),
        _action("GLM: Refactor", rewrite, REFACTOR, argument),
        _action("GLM: Generate tests", source, GENERATE_TESTS, argument),
    ]
    touching = [d for d in diagnostics if _touches(d.range, selection)]
    if touching:
        fix_argument = {**argument, "diagnostics": _converter.unstructure(touching)}
        actions.insert(
            0,
            _action(
                "GLM: Fix",
                types.CodeActionKind.QuickFix,
                FIX,
                fix_argument,
                diagnostics=touching,
                is_preferred=False,
            ),
        )
    for custom in custom_actions:
        custom_argument = {**argument, "instruction": custom.prompt}
        actions.append(_action(f"GLM: {custom.title}", rewrite, REFACTOR, custom_argument))
    actions.extend(_instruction_actions(uri, text, selection, agent_available=agent_available))
    return actions


def _instruction_actions(
    uri: str, text: str, selection: types.Range, *, agent_available: bool
) -> list[types.CodeAction]:
    """``GLM: <instruction>`` for each ``glm:`` comment line in the range: the agent when it
    is there, else a refactor of the block the comment is about."""
    lines = [line.rstrip("\r\n") for line in split_lines(text)]
    last = selection.end.line
    if selection.end.character == 0 and last > selection.start.line:
        last -= 1  # a selection of whole lines ends at the start of the next one
    actions = []
    for comment in instruction_comments(lines, selection.start.line, last):
        title = f"GLM: {comment.instruction}"
        rewrite = types.CodeActionKind.RefactorRewrite
        if agent_available:
            comment_range = lines_range(text, comment.line, comment.line)
            argument = {
                "instruction": comment.instruction,
                "uri": uri,
                "range": _converter.unstructure(comment_range),
            }
            actions.append(_action(title, rewrite, AGENT, argument))
        else:
            first, end = instruction_target(
                lines, comment.line, str(uri_path(uri)), load_grammar=False
            )
            argument = {
                "uri": uri,
                "range": _converter.unstructure(lines_range(text, first, end)),
                "instruction": comment.instruction,
            }
            actions.append(_action(title, rewrite, REFACTOR, argument))
    return actions


def filter_kinds(
    actions: list[types.CodeAction], only: Sequence[str] | None
) -> list[types.CodeAction]:
    """Honour ``context.only`` (hierarchical: ``refactor`` includes ``refactor.rewrite``)."""
    if not only:
        return actions
    return [
        action
        for action in actions
        if action.kind and any(action.kind == k or action.kind.startswith(f"{k}.") for k in only)
    ]
