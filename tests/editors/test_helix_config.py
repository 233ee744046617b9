"""editors/helix/languages.toml: the command and the settings match the server's."""

from __future__ import annotations

import re
import sys
from typing import Any

from glm_lsp.config import GlmSettings, parse_settings, settings_keys
from tests.editors.settings_shape import EDITORS, flatten

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LANGUAGES = EDITORS / "helix" / "languages.toml"


def config() -> dict[str, Any]:
    return tomllib.loads(LANGUAGES.read_text(encoding="utf-8"))


def server_entry() -> dict[str, Any]:
    return config()["language-server"]["glm-lsp"]


def test_the_server_is_started_as_glm_lsp() -> None:
    assert server_entry()["command"] == "glm-lsp"


def test_every_key_is_a_server_setting_with_its_default() -> None:
    written = flatten(server_entry()["config"]["glm"])
    defaults = settings_keys()
    assert {key: defaults.get(key, "<unknown key>") for key in written} == written


def test_keys_left_out_are_those_toml_cannot_write_and_each_is_shown_in_a_comment() -> None:
    """TOML has no null: keys whose default is "none" appear as commented examples."""
    written = flatten(server_entry()["config"]["glm"])
    missing = {key for key in settings_keys() if key not in written}
    assert missing == {key for key, value in settings_keys().items() if value is None}
    text = LANGUAGES.read_text(encoding="utf-8")
    for key in missing:
        leaf = key.rsplit(".", 1)[-1]
        assert re.search(rf"^# {leaf} = ", text, re.MULTILINE), f"{key} has no commented example"


def test_the_config_parses_as_server_settings_without_warnings() -> None:
    settings, warnings = parse_settings(server_entry()["config"])  # Helix sends {"glm": {...}}
    assert warnings == []
    assert settings == GlmSettings()


def test_every_language_entry_keeps_glm_lsp_after_its_own_servers() -> None:
    languages = config()["language"]
    assert languages
    for language in languages:
        servers = language["language-servers"]
        assert servers[-1] == "glm-lsp", language["name"]
        assert len(servers) > 1, f"{language['name']}: the language's own servers were dropped"


def test_no_api_key_in_the_file() -> None:
    text = LANGUAGES.read_text(encoding="utf-8")
    assert not re.search(r"^\s*[A-Z_]*API_KEY\s*=", text, re.MULTILINE)
