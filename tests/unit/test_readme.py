"""The README is the contract a newcomer follows: keep it true."""

from __future__ import annotations

import re
from pathlib import Path

from glm_lsp.config import settings_keys

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, flags=re.S)


def test_first_screen_gives_install_and_test_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:30])
    assert "glm-lsp doctor" in first_screen
    assert "pytest" in first_screen


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = next(block.strip() for block in _shell_blocks() if "pytest" in block)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_every_setting_is_documented() -> None:
    for key in settings_keys():
        short = key.removeprefix("glm.")
        assert f"`{short}`" in README, f"{short} missing from the README's settings table"
