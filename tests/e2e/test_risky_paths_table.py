"""One file per family of docs/risky-paths.md, edited by the agent through the real server:
each edit asks for confirmation (a change annotation with needsConfirmation), although it
is a plain text edit of a file that already exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_agent import agent, make_workspace, play_model, tools
from tests.e2e.test_agent_risky_files import _annotations_by_file
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, start_session

STATE = ".local/state/glm-lsp"  # the state folder, inside a workspace that is the home folder

# family -> (path, its text, the agent's old_text, new_text)
FAMILIES = {
    "editor": (".helix/languages.toml", 'command = "pylsp"\n', "pylsp", "./run-me"),
    "build": ("setup.py", "from setuptools import setup\nsetup()\n", "setup()", "setup(x=1)"),
    "package": (".yarnrc.yml", "nodeLinker: node-modules\n", "node-modules", "pnp"),
    "package.json": (
        "package.json",
        json.dumps({"name": "app", "dependencies": {"x": "1.0.0"}}),
        '"1.0.0"',
        '"file:../x"',
    ),
    "test": ("conftest.py", "import pytest\n", "import pytest", "import os, pytest"),
    "git": (".gitattributes", "*.txt text\n", "text", "filter=run"),
    "shell": (".zshrc", "export A=1\n", "A=1", "A=2"),
    "glm-lsp": (f"{STATE}/consent.json", '{"allowed": {}}\n', "{}", '{"check": ["x"]}'),
}


@pytest.mark.parametrize("family", FAMILIES)
async def test_each_family_asks_before_it_changes(
    fake_glm: FakeGlm, tmp_path: Path, family: str
) -> None:
    path, text, old, new = FAMILIES[family]
    root = make_workspace(tmp_path, {"app.py": "x = 1\n", path: text})
    play_model(
        fake_glm,
        tools(("edit_file", {"path": path, "old_text": old, "new_text": new})),
        Reply(text="Done."),
    )
    state = {"GLM_LSP_STATE_DIR": str(root / STATE)}  # as when the workspace is $HOME
    async with start_session(fake_glm, root, extra_env=state) as (client, editor):
        result = await execute(client, "glm.agent", agent(f"change {path}"))

    assert result["runsOnMachine"] == [path], result
    (params,) = editor.applied_edits
    annotations = params.edit.change_annotations or {}
    (annotation_id,) = _annotations_by_file(params)[path.rsplit("/", 1)[-1]]
    assert annotation_id is not None and annotations[annotation_id].needs_confirmation
