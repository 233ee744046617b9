"""`glm-lsp doctor` against the fake upstream, as a person would run it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import TEST_KEY
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import server_env


def run_doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glm_lsp", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_doctor_success(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(text="pong"))
    result = run_doctor(server_env(fake_glm))
    assert result.returncode == 0, result.stderr
    assert "glm-5.1 answered in" in result.stdout
    assert "quota" in result.stdout and ("2x now" in result.stdout or "3x now" in result.stdout)
    assert len(fake_glm.requests) == 1
    assert fake_glm.requests[0].body["max_tokens"] == 16
    assert TEST_KEY not in result.stdout + result.stderr


def test_doctor_without_key_says_how_to_set_it(fake_glm: FakeGlm) -> None:
    result = run_doctor(server_env(fake_glm, key=None))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "no API key: set BIGMODEL_API_KEY or ZAI_API_KEY" in result.stderr
    assert fake_glm.requests == []


def test_doctor_rejected_key(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(status=401, error_code="1002", error_message="invalid token"))
    result = run_doctor(server_env(fake_glm))
    assert result.returncode == 1
    assert "GLM rejected the API key" in result.stderr
    assert TEST_KEY not in result.stdout + result.stderr
    assert len(fake_glm.requests) == 1


def test_doctor_malformed_key(fake_glm: FakeGlm) -> None:
    result = run_doctor(server_env(fake_glm, key="not-a-key"))
    assert result.returncode == 1
    assert "does not look like <id>.<secret>" in result.stderr
    assert fake_glm.requests == []


def test_doctor_unreachable_endpoint() -> None:
    fake = FakeGlm().start()
    fake.stop()
    result = run_doctor(server_env(fake))
    assert result.returncode == 1
    assert "Cannot reach GLM" in result.stderr


def test_doctor_no_balance(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(Reply(status=429, error_code="1113", error_message="balance"))
    result = run_doctor(server_env(fake_glm))
    assert result.returncode == 1
    assert "no balance" in result.stderr
