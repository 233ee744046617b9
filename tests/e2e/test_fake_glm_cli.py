"""The README's "try it without a key" step: `python tests/fake_glm.py`, then `glm-lsp doctor`
with exactly the environment the fake prints."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_glm import FakeGlm, Reply, _replies_from_file
from tests.lsp_harness import KEY_VARIABLES

FAKE = Path(__file__).resolve().parents[1] / "fake_glm.py"
EXPORT = re.compile(r"^export ([A-Z_]+)=(\S+)$")


@pytest.fixture
def fake_process() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """The fake started as a person would (on a free port); the variables it printed."""
    process = subprocess.Popen(
        [sys.executable, str(FAKE), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed: dict[str, str] = {}
        for _ in range(2):  # the two export lines come first, flushed at once
            match = EXPORT.match(process.stdout.readline().strip())
            assert match, "the fake did not print `export VAR=value` lines"
            printed[match[1]] = match[2]
        yield process, printed
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_doctor_passes_with_exactly_the_environment_the_fake_prints(
    fake_process: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    _, printed = fake_process
    assert set(printed) == {"GLM_LSP_BASE_URL", "BIGMODEL_API_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES} | printed
    result = subprocess.run(
        [sys.executable, "-m", "glm_lsp", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ok: glm-lsp is ready" in result.stdout
    # Obviously fake, and not the shape the repository's real-key check looks for.
    assert not re.search(r"[0-9a-f]{32}\.[A-Za-z0-9]{16}", printed["BIGMODEL_API_KEY"])
    assert "fake" in printed["BIGMODEL_API_KEY"]


def test_help_documents_the_script_format_with_an_example_that_loads(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(FAKE), "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    example = re.search(r"^  \[\n.*?^  \]$", result.stdout, re.MULTILINE | re.DOTALL)
    assert example, f"no JSON example in --help:\n{result.stdout}"
    script = tmp_path / "replies.json"
    script.write_text(example[0], encoding="utf-8")
    replies = _replies_from_file(str(script))  # what --script does with it
    assert len(replies) == 3
    assert replies[0] == Reply(text=json.loads(example[0])[0])
    assert replies[1].tool_calls[0]["name"] == "edit_file"
    assert replies[2].first_token_delay == 2


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ('[{"txet": "hello"}]', "reply 1 of {path}: unknown field 'txet' (did you mean 'text'?)"),
        ('[{"text": "hello",', "the script {path} is not valid JSON"),
        (None, "cannot read the script {path}: No such file or directory"),
    ],
    ids=["mistyped field", "bad JSON", "missing file"],
)
def test_a_bad_script_gets_one_line_not_a_traceback(
    tmp_path: Path, script: str | None, said: str
) -> None:
    path = tmp_path / "replies.json"
    if script is not None:
        path.write_text(script, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(FAKE), "--script", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert said.format(path=path) in result.stderr


def test_a_port_in_use_gets_one_line_not_a_traceback() -> None:
    with FakeGlm() as taken:
        result = subprocess.run(
            [sys.executable, str(FAKE), "--port", str(taken.port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert result.stderr == (
        f"fake_glm: port {taken.port} is in use; choose another with --port (0: any)\n"
    )
