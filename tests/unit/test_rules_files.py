"""Project rules files on a real folder: what reaches the system prompt, in what order,
within 8 KB, and what is never read."""

from __future__ import annotations

from pathlib import Path

from glm_lsp.config import DEFAULT_RULES_FILES
from glm_lsp.context.rules import RULES_LIMIT_BYTES, read_rules, with_rules
from glm_lsp.workspace import Workspace


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ws"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_the_three_files_in_order(tmp_path: Path) -> None:
    root = folder(
        tmp_path,
        {
            ".github/copilot-instructions.md": "third rule\n",
            "CLAUDE.md": "second rule\n",
            "AGENTS.md": "first rule\n",
        },
    )
    rules = read_rules(Workspace([root]), DEFAULT_RULES_FILES)
    assert rules.index("## AGENTS.md\nfirst rule") < rules.index("## CLAUDE.md\nsecond rule")
    assert rules.index("second rule") < rules.index("## .github/copilot-instructions.md\nthird")


def test_missing_files_and_an_empty_list_give_nothing(tmp_path: Path) -> None:
    root = folder(tmp_path, {"AGENTS.md": "rule\n"})
    assert read_rules(Workspace([root]), []) == ""
    assert read_rules(Workspace([root]), ["NOPE.md"]) == ""
    assert with_rules("system", "") == "system"


def test_excluded_git_and_outside_paths_are_never_read(tmp_path: Path) -> None:
    root = folder(
        tmp_path,
        {".env": "SECRET=1\n", "id.pem": "SECRET=2\n", ".git/config": "SECRET=3\n"},
    )
    (tmp_path / "outside.md").write_text("SECRET=4\n", encoding="utf-8")
    (root / "link.md").symlink_to(tmp_path / "outside.md")
    names = [".env", "id.pem", ".git/config", "../outside.md", str(tmp_path / "outside.md")]
    assert read_rules(Workspace([root]), [*names, "link.md"]) == ""


def test_at_most_8_kb_together(tmp_path: Path) -> None:
    root = folder(tmp_path, {"AGENTS.md": "a" * 6000 + "\n", "CLAUDE.md": "é" * 6000 + "\n"})
    rules = read_rules(Workspace([root]), DEFAULT_RULES_FILES)
    assert len(rules.encode("utf-8")) <= RULES_LIMIT_BYTES
    assert "a" * 6000 in rules and "é" * 100 in rules  # the second file is cut, not dropped


def test_open_buffer_text_is_what_the_agent_reads(tmp_path: Path) -> None:
    root = folder(tmp_path, {"AGENTS.md": "on disk\n"})
    workspace = Workspace([root], open_buffers={root / "AGENTS.md": "unsaved rule\n"})
    assert "unsaved rule" in read_rules(workspace, ["AGENTS.md"])
