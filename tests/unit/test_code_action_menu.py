from __future__ import annotations

from lsprotocol import types

from glm_lsp.config import CustomAction
from glm_lsp.lsp.features.actions.menu import build_code_actions, filter_kinds

TEXT = "x = 1\n\n\ndef f(a):\n    # glm: validate a\n    return a\n"
URI = "file:///ws/m.py"


def rng(l1: int, c1: int, l2: int, c2: int) -> types.Range:
    return types.Range(
        start=types.Position(line=l1, character=c1), end=types.Position(line=l2, character=c2)
    )


def commands(actions: list[types.CodeAction]) -> dict[str, types.Command]:
    return {a.title: a.command for a in actions if a.command is not None}


def test_without_the_agent_an_instruction_refactors_the_block_it_is_in() -> None:
    actions = build_code_actions(URI, TEXT, rng(4, 0, 4, 0), [], [], agent_available=False)
    command = commands(actions)["GLM: validate a"]
    assert command.command == "glm.refactor"
    assert command.arguments == [
        {
            "uri": URI,
            "range": {"start": {"line": 3, "character": 0}, "end": {"line": 6, "character": 0}},
            "instruction": "validate a",
        }
    ]


def test_a_whole_line_selection_does_not_reach_into_the_next_line() -> None:
    actions = build_code_actions(URI, TEXT, rng(3, 0, 4, 0), [], [], agent_available=True)
    assert "GLM: validate a" not in commands(actions)


def test_custom_actions_refactor_with_their_prompt() -> None:
    custom = [CustomAction(title="Use f-strings", prompt="Convert to f-strings")]
    actions = build_code_actions(URI, TEXT, rng(0, 0, 1, 0), [], custom, agent_available=False)
    command = commands(actions)["GLM: Use f-strings"]
    assert command.command == "glm.refactor"
    assert command.arguments is not None
    assert command.arguments[0]["instruction"] == "Convert to f-strings"


def test_only_filters_by_kind_hierarchy() -> None:
    actions = build_code_actions(URI, TEXT, rng(0, 0, 1, 0), [], [], agent_available=False)
    assert [a.title for a in filter_kinds(actions, ["refactor"])] == ["GLM: Refactor"]
    assert filter_kinds(actions, None) == actions


def test_fix_only_for_diagnostics_touching_the_range() -> None:
    far = types.Diagnostic(range=rng(5, 0, 5, 5), message="far away")
    near = types.Diagnostic(range=rng(0, 4, 0, 5), message="here")
    actions = build_code_actions(URI, TEXT, rng(0, 0, 0, 5), [far, near], [], agent_available=False)
    fix = next(a for a in actions if a.title == "GLM: Fix")
    assert list(fix.diagnostics or []) == [near]
