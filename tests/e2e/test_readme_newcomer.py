"""The README followed literally, as a newcomer does, in a fresh copy of the checkout.

Each step runs the README's own command (read from README.md) and checks the result the README
promises: install and `doctor`, the fake-GLM recipe (`python tests/fake_glm.py --script
replies.json` with the example from its `--help`, then `glm-lsp doctor`), and an editor started
from that shell: the first refactor gets the script's first reply, the agent the next ones.
The venv running these tests stands in for `pip install .` (the step is checked, not run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types

from tests.lsp_harness import KEY_VARIABLES, execute, messages_of, start_session

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXPORT = re.compile(r"^export ([A-Z_]+)=(\S+)$")
CALC = (
    "def total(values):\n"
    "    result = 0\n"
    "    for value in values:\n"
    "        result = result + value\n"
    "    return result\n"
    "\n"
    "\n"
    "def add(a, b):\n"
    "    return a + b\n"
)


def _install_command() -> str:
    """The first shell block: install into ./.venv, then doctor."""
    return re.findall(r"```sh\n(.*?)```", README, flags=re.S)[0].strip()


def _fake_command() -> str:
    found = re.search(r"`(python tests/fake_glm\.py --script replies\.json)`", README)
    assert found, "the README's fake-GLM recipe is gone"
    return found[1]


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh checkout (the tracked files as they are now), with the README's ./.venv being
    the venv that runs these tests: no pip install here."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    checkout = tmp_path / "glm-lsp"
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = checkout / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (checkout / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return checkout


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES}
    env.pop("GLM_LSP_BASE_URL", None)
    return env | extra


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def fake_from_readme(clone: Path) -> Iterator[dict[str, str]]:
    """The recipe's fake, started from the clone with the example script of its --help; the
    environment it printed. `--port 0`: a free port, so parallel runs do not collide."""
    shown = _shell(f"{_fake_command().split(' --script')[0]} --help", clone, _clean_env())
    assert shown.returncode == 0, shown.stderr
    example = re.search(r"^  \[\n.*?^  \]$", shown.stdout, re.MULTILINE | re.DOTALL)
    assert example, "the fake's --help has no example script"
    (clone / "replies.json").write_text(example[0], encoding="utf-8")
    command = _fake_command().replace("python ", f"{sys.executable} ", 1) + " --port 0"
    process = subprocess.Popen(
        command.split(), cwd=clone, env=_clean_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        printed: dict[str, str] = {}
        for _ in range(2):
            match = EXPORT.match(process.stdout.readline().strip())
            assert match, "the fake did not print its two `export` lines"
            printed[match[1]] = match[2]
        yield printed
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_install_then_doctor_as_the_first_screen_says(
    clone: Path, fake_from_readme: dict[str, str]
) -> None:
    steps = [step.strip() for step in _install_command().split("&&")]
    assert steps[:2] == ["python3 -m venv .venv", ".venv/bin/pip install ."]  # the fixture's job
    doctor = steps[2].replace("<id.secret>", fake_from_readme["BIGMODEL_API_KEY"])
    env = _clean_env(GLM_LSP_BASE_URL=fake_from_readme["GLM_LSP_BASE_URL"])
    result = _shell(doctor, clone, env)
    assert result.returncode == 0, result.stderr
    assert "ok: glm-lsp is ready" in result.stdout


async def test_the_fake_recipe_doctor_then_an_editor_gets_the_scripted_replies_in_order(
    clone: Path, fake_from_readme: dict[str, str], tmp_path: Path
) -> None:
    # "paste them into a shell, then `glm-lsp doctor` passes"
    env = _clean_env(**fake_from_readme)
    env["PATH"] = f"{clone / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    result = _shell("glm-lsp doctor", clone, env)
    assert result.returncode == 0, result.stderr
    assert "ok: glm-lsp is ready" in result.stdout

    # "an editor started from that shell talks to the fake": the script's replies, in order.
    script = json.loads((clone / "replies.json").read_text(encoding="utf-8"))
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "calc.py").write_text(CALC, encoding="utf-8")
    async with start_session(
        None,
        workspace,
        key=fake_from_readme["BIGMODEL_API_KEY"],
        extra_env={"GLM_LSP_BASE_URL": fake_from_readme["GLM_LSP_BASE_URL"]},
    ) as (client, editor):
        uri = editor.open("calc.py", CALC)
        whole_total = {"start": {"line": 0, "character": 0}, "end": {"line": 5, "character": 0}}
        refactored = await execute(client, "glm.refactor", {"uri": uri, "range": whole_total})
        assert refactored == {"applied": True}, messages_of(client)
        assert editor.text(uri).startswith("def total(values):\n    return sum(values)\n")
        assert "sum(values)" in script[0]

        agent = await execute(client, "glm.agent", {"instruction": "swap the operands of add"})
        assert agent["applied"] is True, messages_of(client)
        assert editor.text(uri).endswith("def add(a, b):\n    return b + a\n")
        said = messages_of(client, types.MessageType.Info)
        assert any(script[2]["text"] in m for m in said), said
