"""`glm-lsp doctor` against a fake that behaves as GLM does now: whether the completion
model's thinking really turns off (and the setting to change when it does not), and the
Coding Plan's quota."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_KEY
from tests.e2e.test_doctor import run_doctor
from tests.fake_glm import QUOTA_PATH, FakeGlm
from tests.lsp_harness import server_env

FIX = "set glm.completion.model to glm-4.7, whose thinking turns off"


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("refuse", "refuses thinking off (400 / 1210; now sent reasoning_effort 'low')"),
        ("ignore", "ignores thinking off (reasoning arrived anyway)"),
    ],
)
def test_doctor_names_the_setting_when_thinking_does_not_turn_off(
    fake_glm: FakeGlm, mode: str, why: str
) -> None:
    fake_glm.always_thinking = mode
    result = run_doctor(server_env(fake_glm))
    assert result.returncode == 0, result.stderr
    assert f"thinking does not turn off: glm-5.1 {why}" in result.stdout
    assert FIX in result.stdout
    assert TEST_KEY not in result.stdout + result.stderr


def test_doctor_says_nothing_of_thinking_when_it_turns_off(fake_glm: FakeGlm) -> None:
    result = run_doctor(server_env(fake_glm))
    assert result.returncode == 0, result.stderr
    assert "thinking does not turn off" not in result.stdout


def test_doctor_shows_the_coding_plan_quota(fake_glm: FakeGlm) -> None:
    coding = f"http://127.0.0.1:{fake_glm.port}/api/coding/paas/v4/"
    result = run_doctor(server_env(fake_glm, GLM_LSP_BASE_URL=coding, TZ="UTC"))
    assert result.returncode == 0, result.stderr
    assert "5-hour 42% used, resets 2026-12-01 10:42 UTC" in result.stdout
    assert "weekly 17% used, resets 2026-12-06 16:00 UTC" in result.stdout
    assert fake_glm.other_requests.count(QUOTA_PATH) == 1


def test_doctor_quota_unknown_is_no_failure(fake_glm: FakeGlm) -> None:
    fake_glm.quota_status = 500
    coding = f"http://127.0.0.1:{fake_glm.port}/api/coding/paas/v4/"
    result = run_doctor(server_env(fake_glm, GLM_LSP_BASE_URL=coding))
    assert result.returncode == 0, result.stderr
    assert "quota unknown" in result.stdout
