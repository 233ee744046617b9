"""The README is the contract a newcomer follows: keep it true."""

from __future__ import annotations

import json
import re
from pathlib import Path

from glm_lsp.config import parse_settings, settings_keys

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def test_first_screen_gives_install_and_test_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:30])
    assert "glm-lsp doctor" in first_screen
    assert "pytest" in first_screen


def _readme_test_command() -> str:
    return next(block.strip() for block in _shell_blocks() if "pytest" in block)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert any(line.startswith(_readme_test_command()) for line in ci.splitlines())


def test_the_test_command_installs_the_editor_tools_first() -> None:
    """One script installs what the editor tests drive, and it runs before pytest does."""
    command = _readme_test_command()
    install = "tests/install_test_tools.sh"
    assert (ROOT / install).is_file()
    assert install in command and command.index(install) < command.index("pytest")


def test_ci_fails_when_pytest_collects_nothing() -> None:
    """pytest's exit status 5 (no tests) is turned into a failure, never a silent pass."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert '"$status" -eq 5' in ci and "exit 1" in ci


def test_every_setting_is_documented() -> None:
    for key in settings_keys():
        short = key.removeprefix("glm.")
        assert f"`{short}`" in README, f"{short} missing from the README's settings table"


def _complete_example() -> dict[str, object]:
    block = README.split("A complete `initializationOptions`", 1)[1]
    text = re.search(r"```json\n(.*?)```", block, flags=re.S)
    assert text, "the complete initializationOptions example is gone"
    example: dict[str, object] = json.loads(text[1])["glm"]
    return example


def _leaves(section: dict[str, object], prefix: str = "glm") -> dict[str, object]:
    leaves: dict[str, object] = {}
    for key, value in section.items():
        if isinstance(value, dict) and value:  # a section ({} is a value: mcpServers)
            leaves.update(_leaves(value, f"{prefix}.{key}"))
        else:
            leaves[f"{prefix}.{key}"] = value
    return leaves


def test_the_complete_initialization_options_are_complete_and_valid() -> None:
    example = _complete_example()
    assert set(_leaves(example)) == set(settings_keys())
    settings, warnings = parse_settings({"glm": example})
    assert warnings == []
    # The completion model is the one the README recommends, not an older one.
    assert settings.completion.model == "glm-4.7-flash"
    assert "set `completion.model` to `glm-4.7-flash`" in README


def test_the_neovim_log_command_exists_in_plain_neovim() -> None:
    """`:LspLog` comes from nvim-lspconfig; the plugin does not need it."""
    troubleshooting = README.split("### Troubleshooting", 1)[1].split("\n\n**", 2)[1]
    neovim_row = next(line for line in troubleshooting.splitlines() if line.startswith("| Neovim"))
    assert "vim.lsp.log.get_filename()" in neovim_row
    assert not neovim_row.split("|")[3].strip().startswith("`:LspLog`")
