"""When a GLM command's request is answered: the commandReply setting by client."""

from __future__ import annotations

import pytest

from glm_lsp.config import parse_settings
from glm_lsp.lsp.features.command_reply import answers_at_once


@pytest.mark.parametrize(
    ("client_name", "at_once"),
    [
        ("helix", True),  # 20-s request timeout
        ("Eglot", True),  # eglot >= 1.12 names itself; ~10 s
        ("emacs", True),  # lsp-mode; 10 s
        ("Visual Studio Code", False),
        ("Neovim", False),
        (None, False),  # eglot 1.9 sends no clientInfo: editors/emacs sets atOnce
    ],
)
def test_auto_answers_at_once_only_for_clients_with_short_timeouts(
    client_name: str | None, at_once: bool
) -> None:
    assert answers_at_once("auto", client_name) is at_once


@pytest.mark.parametrize("client_name", ["helix", "Neovim", None])
def test_an_explicit_setting_wins_for_every_client(client_name: str | None) -> None:
    assert answers_at_once("atOnce", client_name) is True
    assert answers_at_once("whenDone", client_name) is False


def test_the_setting_parses_and_rejects_unknown_values() -> None:
    settings, warnings = parse_settings({"commandReply": "atOnce"})
    assert settings.command_reply == "atOnce" and warnings == []
    settings, warnings = parse_settings({"commandReply": "later"})
    assert settings.command_reply == "auto"
    assert any("commandReply" in w for w in warnings)
