"""The agent's opening messages: rules first, then the instruction, file and listing."""

from __future__ import annotations

from pathlib import Path

from glm_lsp.agent.prompt import LISTING_LIMIT, CurrentFile, build_agent_messages
from glm_lsp.workspace import Workspace


def test_rules_first_then_instruction_selection_and_listing(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("one\ntwo\nthree\n")
    (tmp_path / "b.py").write_text("b\n")
    workspace = Workspace([tmp_path])
    current = CurrentFile(workspace.resolve("a.py"), 2, 3)
    system, user = build_agent_messages("split it", workspace, current)
    assert system["role"] == "system" and "edit_file for small changes" in system["content"]
    text = user["content"]
    assert text.startswith("Instruction: split it")
    assert "Selection (lines 2-3):\n```\ntwo\nthree\n```" in text
    assert text.endswith("Files (2):\na.py\nb.py")


def test_an_excluded_current_file_is_never_shown(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TOKEN=hunter2\n")
    workspace = Workspace([tmp_path])
    messages = build_agent_messages("x", workspace, CurrentFile(tmp_path / ".env", 1, 1))
    assert "hunter2" not in str(messages)


def test_long_listings_are_cut(tmp_path: Path) -> None:
    for n in range(LISTING_LIMIT + 5):
        (tmp_path / f"f{n:04}.py").write_text("")
    (_, user) = build_agent_messages("x", Workspace([tmp_path]))
    assert user["content"].endswith("... and 5 more (use list_files)")
