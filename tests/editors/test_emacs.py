"""Real Emacs (batch mode) with eglot and editors/emacs, the real glm-lsp and the fake GLM.

Each test runs one scenario of tests/editors/emacs_driver.el: Emacs opens the sample
workspace, does what a user does (select, pick a code action from eglot's menu, M-x a
glm-lsp command) and reports buffer texts and *Messages* as JSON.

Needs `emacs` with eglot (Debian 12: `apt-get install emacs-nox elpa-eglot`). Without them
the tests skip, except under CI=true, where a missing editor is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_KEY
from tests.editors.neovim_session import SAMPLE_WORKSPACE, VENV_BIN, find_executable
from tests.editors.sample_scripts import (
    NEW_TEST_TEXT,
    script_edit_and_create_agent,
    script_type_hints_agent,
)
from tests.editors.settings_shape import EDITORS
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import KEY_VARIABLES

DRIVER = Path(__file__).resolve().parent / "emacs_driver.el"
REFACTORED = "def total(values):\n    return sum(values)\n"


@cache
def emacs_problem() -> str | None:
    """Why Emacs with eglot cannot run here, or None."""
    emacs = shutil.which("emacs")
    if emacs is None:
        return "emacs not installed (apt-get install emacs-nox elpa-eglot)"
    probe = subprocess.run(
        [emacs, "--batch", "--eval", "(require 'eglot)"], capture_output=True, timeout=60
    )
    if probe.returncode != 0:
        return "eglot not available to emacs (apt-get install elpa-eglot, or Emacs 29+)"
    return None


@pytest.fixture(autouse=True)
def require_emacs() -> None:
    problem = emacs_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the Emacs tests: {problem}")
    pytest.skip(problem)


def run_scenario(fake: FakeGlm, tmp_path: Path, scenario: str) -> dict[str, Any]:
    """Run one driver scenario in a fresh copy of the sample workspace; its JSON result."""
    workspace = tmp_path / "workspace"
    shutil.copytree(SAMPLE_WORKSPACE, workspace)
    result_file = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES}
    env.update(
        HOME=str(tmp_path),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        GLM_LSP_STATE_DIR=str(tmp_path / "state"),
        GLM_LSP_BASE_URL=fake.url,
        BIGMODEL_API_KEY=TEST_KEY,
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        GLM_TEST_SERVER=find_executable("glm-lsp") or "glm-lsp",
        GLM_TEST_WORKSPACE=str(workspace),
        GLM_TEST_SCENARIO=scenario,
        GLM_TEST_RESULT=str(result_file),
        GLM_TEST_LOG=str(tmp_path / "glm-lsp.log"),  # the server's own log, for a failure's why
    )
    argv = ["emacs", "--batch", "-L", str(EDITORS / "emacs"), "-l", str(DRIVER)]
    done = subprocess.run(
        [*argv, "-f", "glm-test-main"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
        start_new_session=True,
    )
    assert result_file.exists(), f"emacs wrote no result ({done.returncode}):\n{done.stderr}"
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    assert "error" not in result, f"{result['error']}\n--- *Messages*\n{result['messages']}"
    return result


def test_refactor_code_action_on_a_region_replaces_it(fake_glm: FakeGlm, tmp_path: Path) -> None:
    fake_glm.enqueue(Reply(text=f"Here:\n```python\n{REFACTORED}```"))
    result = run_scenario(fake_glm, tmp_path, "refactor")
    assert result["calc"].startswith(
        '"""A tiny calculator module: the sample the Neovim tests edit."""\n\n\n' + REFACTORED
    )
    assert result["calc"].endswith("\n\ndef add(a, b):\n    return a + b\n")
    assert "result = result + value" in fake_glm.requests[0].text()  # the region was sent
    assert result["applied_edits"] == 1


def test_refactor_slower_than_eglots_timeout_applies_once_with_no_timed_out(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """eglot waits 10 s for a request; this reply takes 15 s."""
    fake_glm.enqueue(Reply(text=f"```python\n{REFACTORED}```", first_token_delay=15))
    result = run_scenario(fake_glm, tmp_path, "refactor")
    assert REFACTORED in result["calc"]
    assert result["applied_edits"] == 1
    assert len(fake_glm.requests) == 1
    assert "timed out" not in result["messages"].lower(), result["messages"]
    assert "failed" not in result["messages"].lower(), result["messages"]
    assert "GLM: Refactor – Done" in result["messages"]  # its progress reached Emacs


def test_agent_command_edits_two_buffers(fake_glm: FakeGlm, tmp_path: Path) -> None:
    script_type_hints_agent(fake_glm)
    result = run_scenario(fake_glm, tmp_path, "agent")
    assert "def add(a: float, b: float) -> float:" in result["calc"]
    assert "def clamp(value: float, low: float, high: float) -> float:" in result["util"]
    assert result["applied_edits"] == 1  # one WorkspaceEdit for both files
    assert "add type hints to add and clamp" in fake_glm.requests[0].text()


def test_agent_edits_one_file_and_creates_another(fake_glm: FakeGlm, tmp_path: Path) -> None:
    """eglot 1.9 takes documentChanges but no CreateFile: the new file still arrives."""
    script_edit_and_create_agent(fake_glm)
    result = run_scenario(fake_glm, tmp_path, "agent-create")
    assert "def add(a: float, b: float) -> float:" in result["calc"]
    assert result["created"] == NEW_TEST_TEXT
    assert result["applied_edits"] == 1  # one WorkspaceEdit for both files
    assert "nothing was applied" not in result["messages"]


def test_the_agents_refusal_stays_in_warnings(fake_glm: FakeGlm, tmp_path: Path) -> None:
    """Deleting a file needs a resource operation eglot 1.9 does not declare: the run is
    refused, and the reason goes to *Warnings*, which stays until read (in the echo area a
    user saw it go after 0.7 s)."""
    fake_glm.enqueue(
        Reply(tool_calls=[{"name": "delete_file", "arguments": {"path": "util.py"}}]),
        Reply(text="Removed util.py."),
    )
    result = run_scenario(fake_glm, tmp_path, "agent-refused")
    warnings = result["warnings"]
    assert "glm-lsp" in warnings and "(delete); nothing was applied." in warnings, warnings


def test_explain_goes_to_a_help_buffer_not_the_echo_area(fake_glm: FakeGlm, tmp_path: Path) -> None:
    explanation = "It adds up **every value** and returns the sum."
    fake_glm.enqueue(Reply(text=explanation))
    result = run_scenario(fake_glm, tmp_path, "explain")
    assert explanation in result["explanation"]
    assert result["explanation"].startswith("# calc.py, lines 4-8")
    assert result["explanation_mode"] in ("help-mode", "gfm-view-mode")
    assert explanation not in result["messages"]


def test_status_command_shows_usage_in_a_buffer(fake_glm: FakeGlm, tmp_path: Path) -> None:
    result = run_scenario(fake_glm, tmp_path, "status")
    assert "model glm-5.1, key set" in result["status"]
    assert "requests" in result["status"]


def test_next_edit_overlays_jump_apply_and_typing_dismisses(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    from tests.editors.next_edit_script import next_edit_model

    model = next_edit_model(fake_glm)
    model.old, model.new = "values", "items"
    renamed = [
        "def total(items):",
        "    result = 0",
        "    for value in items:",
        "        result = result + value",
        "    return result",
    ]
    original = (SAMPLE_WORKSPACE / "calc.py").read_text(encoding="utf-8")

    def rename_after_first(body: dict[str, Any]) -> Reply:
        if model.asked == 1:  # the second suggestion renames `result`
            model.old, model.new = "result", "acc"
        return model(body)

    fake_glm.responder = rename_after_first
    result = run_scenario(fake_glm, tmp_path, "next-edit")

    replaced, inserted = result["shown"]
    assert "values" in replaced and "items" in inserted  # overlays read back from Emacs
    line, text = result["after_jump"]
    assert line == 6 and "for value in values:" in text  # jumped, nothing applied yet
    assert "\n".join(renamed) in result["accepted"]
    assert result["second"] is not None
    overlays, text = result["dismissed"]
    assert overlays is None  # typing on dismissed it
    second_rename = (
        original.replace("def total(values)", "def total(items)")
        .replace("for value in values", "for value in items")
        .replace("    result = 0", "    acc = 0")
    )
    assert text == second_rename + "# end\n"  # the suggestion was not applied
    assert "-def total(values):" in fake_glm.requests[0].text()
