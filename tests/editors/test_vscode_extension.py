"""The VS Code extension: its settings match the server's, and it packages to a working .vsix."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from glm_lsp.config import GlmSettings, parse_settings, settings_keys
from tests.editors.settings_shape import EDITORS, nest

VSCODE = EDITORS / "vscode"
VSIX = VSCODE / "glm-lsp.vsix"


def manifest() -> dict[str, Any]:
    return json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))


def contributed_settings() -> dict[str, dict[str, Any]]:
    sections = manifest()["contributes"]["configuration"]
    properties: dict[str, dict[str, Any]] = {}
    for section in sections if isinstance(sections, list) else [sections]:
        properties.update(section["properties"])
    return properties


def server_settings() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in contributed_settings().items() if k.startswith("glm.")}


def test_every_server_setting_is_contributed_with_the_same_default() -> None:
    contributed = {key: spec.get("default") for key, spec in server_settings().items()}
    assert contributed == settings_keys()


def test_every_setting_has_a_description() -> None:
    for key, spec in contributed_settings().items():
        assert spec.get("markdownDescription") or spec.get("description"), key


def test_contributed_defaults_are_valid_server_settings() -> None:
    """What VS Code sends for an untouched configuration parses with no warning."""
    section = nest({key: spec.get("default") for key, spec in server_settings().items()})
    settings, warnings = parse_settings({"glm": section})
    assert warnings == []
    assert settings == GlmSettings()


def test_enum_settings_list_the_allowed_values() -> None:
    spec = server_settings()["glm.actions.explainOutput"]
    assert spec["enum"] == ["auto", "document", "message"]
    _, warnings = parse_settings({"actions": {"explainOutput": spec["enum"][-1]}})
    assert warnings == []


def test_client_settings_stay_outside_the_server_section() -> None:
    """The server warns about nothing it receives: client-only keys live under glmLsp.*"""
    client_keys = set(contributed_settings()) - set(server_settings())
    assert client_keys and all(key.startswith("glmLsp.") for key in client_keys)


def test_commands_are_in_the_palette_under_glm() -> None:
    titles = {
        c["command"]: f"{c['category']}: {c['title']}"
        for c in manifest()["contributes"]["commands"]
    }
    assert titles["glmLsp.setApiKey"] == "GLM: Set API key"
    assert titles["glmLsp.agent"] == "GLM: Agent…"
    assert titles["glmLsp.refactor"] == "GLM: Refactor with instruction…"
    assert titles["glmLsp.status"] == "GLM: Show usage"
    # Server commands (glm.*) are registered by the language client itself: no clash.
    assert not any(command.startswith("glm.") for command in titles)


def test_api_key_is_never_a_setting() -> None:
    assert not any(
        "apikey" in key.lower().replace("apikeyenv", "") for key in contributed_settings()
    )


@pytest.fixture(scope="module")
def vsix() -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: cannot build the VS Code extension")
    if not (VSCODE / "node_modules").is_dir():
        pytest.skip("editors/vscode/node_modules is missing: run `npm ci` in editors/vscode first")
    VSIX.unlink(missing_ok=True)
    result = subprocess.run(
        ["npm", "run", "package"],
        cwd=VSCODE,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert VSIX.is_file()
    return VSIX


def test_vsix_holds_the_compiled_client(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        packaged = json.loads(archive.read("extension/package.json"))
        bundle = archive.read("extension/dist/extension.js").decode("utf-8")
    assert packaged["main"] == "./dist/extension.js"
    assert "extension/LICENSE.txt" in names or "extension/LICENSE" in names
    assert not any(name.startswith("extension/src/") for name in names)
    assert not any("node_modules" in name for name in names)  # bundled by esbuild
    # The bundle carries the language client and our commands, and not the `vscode` module.
    assert "glm.agent" in bundle and "glm.refactor" in bundle and "glm.status" in bundle
    assert "BIGMODEL_API_KEY" in bundle
    assert "workspace/executeCommand" in bundle
    assert 'require("vscode")' in bundle
