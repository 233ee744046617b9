"""`glm-lsp doctor` against the fake upstream, as a person would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
    fake_glm.enqueue(Reply(text="pong"), Reply(text="a + b"))
    result = run_doctor(server_env(fake_glm))
    assert result.returncode == 0, result.stderr
    assert "provider zai (auto: a GLM endpoint)" in result.stdout
    assert f"endpoint {fake_glm.url} (from GLM_LSP_BASE_URL)" in result.stdout  # which one
    assert "glm-5.1 answered in" in result.stdout
    assert "complete glm-5.1: first token after" in result.stdout
    assert "quota" not in result.stdout  # the multiplier is the Coding Plan's, not this API's
    ping, completion = fake_glm.requests  # no model list, no tool probe on GLM's own API
    assert ping.body["max_tokens"] == 16 and ping.body["thinking"] == {"type": "disabled"}
    assert completion.body["thinking"] == {"type": "disabled"}
    assert TEST_KEY not in result.stdout + result.stderr


def test_doctor_shows_the_quota_multiplier_for_the_coding_plan(fake_glm: FakeGlm) -> None:
    coding = f"http://127.0.0.1:{fake_glm.port}/api/coding/paas/v4/"
    result = run_doctor(server_env(fake_glm, GLM_LSP_BASE_URL=coding))
    assert result.returncode == 0, result.stderr
    assert "2x now" in result.stdout or "3x now" in result.stdout
    assert fake_glm.requests[0].path == "/api/coding/paas/v4/chat/completions"


def test_doctor_says_when_a_faster_completion_model_would_help(fake_glm: FakeGlm) -> None:
    # The completion request's first token comes after 1.5 s: a lower bound, safe under load.
    fake_glm.enqueue(Reply(text="pong"), Reply(text="a + b", first_token_delay=1.5))
    result = run_doctor(server_env(fake_glm))
    assert result.returncode == 0, result.stderr
    assert "a faster completion model would help" in result.stdout
    assert "glm.completion.model to glm-4.7-flash" in result.stdout


def test_doctor_without_key_says_how_to_set_it(fake_glm: FakeGlm) -> None:
    result = run_doctor(server_env(fake_glm, key=None))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "no API key: set BIGMODEL_API_KEY or ZAI_API_KEY" in result.stderr
    assert fake_glm.requests == []


def test_doctor_rejected_key(fake_glm: FakeGlm) -> None:
    # The fake quotes the key it got, as some servers do: doctor must not repeat it.
    fake_glm.enqueue(Reply(status=401, error_code="1002", error_message="invalid key {key}"))
    result = run_doctor(server_env(fake_glm))
    assert result.returncode == 1
    assert "GLM rejected the API key" in result.stderr
    assert "invalid key" in result.stderr  # GLM's own words are shown, the key is not
    for secret in (TEST_KEY, *TEST_KEY.split(".")):
        assert secret not in result.stdout + result.stderr
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


# -- a self-hosted GLM on vLLM ------------------------------------------------------------------


def run_vllm_doctor(fake: FakeGlm, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "glm_lsp", "doctor", "--provider", "vllm", *extra],
        env=server_env(fake, key="any-text-vllm-accepts"),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_doctor_against_vllm_lists_models_and_checks_tool_calling() -> None:
    with FakeGlm(dialect="vllm") as fake:
        fake.models = ["glm-5.1", "glm-4.7-flash"]
        call = {"name": "report_ready", "arguments": {}}
        fake.enqueue(Reply(text="pong"), Reply(tool_calls=[call]), Reply(text="a + b"))
        result = run_vllm_doctor(fake)
    assert result.returncode == 0, result.stderr
    assert "provider vllm (--provider)" in result.stdout
    assert "models   glm-5.1, glm-4.7-flash" in result.stdout
    assert "tools    ok" in result.stdout
    assert "/v1/models" in fake.other_requests
    ping, probe, completion = fake.requests
    assert probe.body["tool_choice"] == "auto" and probe.body["tools"]
    for sent in (ping, probe, completion):
        assert sent.body["chat_template_kwargs"] == {"enable_thinking": False}
        assert "thinking" not in sent.body


def test_doctor_against_vllm_without_tool_parsing_prints_the_flags() -> None:
    with FakeGlm(dialect="vllm") as fake:
        fake.auto_tool_choice = False
        result = run_vllm_doctor(fake)
    assert result.returncode == 1
    assert "tools    OFF" in result.stdout
    assert "--enable-auto-tool-choice --tool-call-parser glm47" in result.stdout
    (reason,) = result.stderr.strip().splitlines()
    assert "the agent cannot work" in reason and "--enable-auto-tool-choice" in reason


def test_doctor_says_when_the_configured_model_is_not_served() -> None:
    with FakeGlm(dialect="vllm") as fake:
        fake.models = ["zai-org/GLM-5.1-FP8"]
        result = run_vllm_doctor(fake)
    assert result.returncode == 1
    assert "models   zai-org/GLM-5.1-FP8" in result.stdout
    assert "does not serve glm-5.1; it serves zai-org/GLM-5.1-FP8" in result.stderr
    assert fake.requests == []  # nothing sent to a model that is not there


def test_doctor_notices_a_self_hosted_glm_thinking_under_the_wrong_provider() -> None:
    with FakeGlm(dialect="vllm") as fake:
        fake.default_reply = Reply(reasoning="Let me think.", text="pong")
        result = subprocess.run(
            [sys.executable, "-m", "glm_lsp", "doctor"],  # provider auto: openai for /v1/
            env=server_env(fake, key="any-text-vllm-accepts"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    assert "provider openai (auto: not a GLM host" in result.stdout
    assert "set glm.provider to vllm or sglang" in result.stdout


def test_doctor_names_a_base_url_without_a_scheme(fake_glm: FakeGlm) -> None:
    result = run_doctor(server_env(fake_glm, GLM_LSP_BASE_URL="gpu-box:8000/v1/"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "GLM_LSP_BASE_URL is 'gpu-box:8000/v1/'" in result.stderr
    assert "http://gpu-box:8000/v1/" in result.stderr
    assert "UnsupportedProtocol" not in result.stderr
    assert fake_glm.requests == []


def test_doctor_reads_the_users_settings_file_as_acp_does(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """An ACP user's only settings are the settings file: doctor checks what it names."""
    import json

    config = tmp_path / "xdg"
    (config / "glm-lsp").mkdir(parents=True)
    settings = {"glm": {"baseUrl": fake_glm.url, "model": "glm-4.7"}}
    (config / "glm-lsp" / "settings.json").write_text(json.dumps(settings))
    env = server_env(fake_glm, XDG_CONFIG_HOME=str(config))
    del env["GLM_LSP_BASE_URL"]
    fake_glm.models = ["glm-4.7"]
    result = run_doctor(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"settings {config / 'glm-lsp' / 'settings.json'}" in result.stdout
    assert f"endpoint {fake_glm.url} (from {config / 'glm-lsp' / 'settings.json'})" in result.stdout
    assert fake_glm.requests[0].body["model"] == "glm-4.7"
