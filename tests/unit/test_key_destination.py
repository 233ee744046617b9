"""Which endpoints get the key without a question (DESIGN.md: the key goes only where the user
sent it)."""

from __future__ import annotations

import pytest

from glm_lsp.config import GlmSettings
from glm_lsp.trust.consent import Answer
from glm_lsp.trust.key_destination import (
    GlmKeyHostNotAllowedError,
    consent_question,
    host_needing_consent,
    host_subject,
    is_trusted_host,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://open.bigmodel.cn/api/paas/v4/",
        "https://open.bigmodel.cn/api/coding/paas/v4/",
        "https://api.z.ai/api/paas/v4/",
        "https://api.z.ai/api/coding/paas/v4/",
        "https://eu.api.z.ai/v4/",
        "https://bigmodel.cn/v4/",
        "https://OPEN.BigModel.cn./v4/",
        "http://127.0.0.1:8000/v1/",
        "http://127.9.9.9:8000/v1/",
        "http://localhost:8000/v1/",
        "http://gpu.localhost/v1/",
        "http://[::1]:8000/v1/",
    ],
)
def test_glm_and_loopback_hosts_need_no_question(url: str) -> None:
    assert host_needing_consent(GlmSettings(baseUrl=url), environ={}) is None


@pytest.mark.parametrize(
    ("url", "subject"),
    [
        ("https://llm.example.com/v1/", "https://llm.example.com:443"),
        ("http://llm.example.com:8080/v1/", "http://llm.example.com:8080"),
        ("https://bigmodel.cn.example.com/v4/", "https://bigmodel.cn.example.com:443"),
        ("https://notz.ai/v4/", "https://notz.ai:443"),
        ("https://z.ai.evil.test/v4/", "https://z.ai.evil.test:443"),
        ("http://10.0.0.5:8000/v1/", "http://10.0.0.5:8000"),
        ("http://[2001:db8::1]:8000/v1/", "http://[2001:db8::1]:8000"),
        ("http://localhost.evil.test/v1/", "http://localhost.evil.test:80"),
        ("http://open.bigmodel.cn/api/paas/v4/", "http://open.bigmodel.cn:80"),  # clear text
    ],
)
def test_any_other_host_from_settings_needs_consent(url: str, subject: str) -> None:
    assert host_needing_consent(GlmSettings(baseUrl=url), environ={}) == subject


@pytest.mark.parametrize("host", ["127.evil.test", "127.0.0.1.evil.test", "localhost.evil.test"])
def test_a_name_that_only_looks_local_is_not_trusted(host: str) -> None:
    assert not is_trusted_host(host)
    assert host_needing_consent(GlmSettings(baseUrl=f"http://{host}/v1/"), environ={}) == host


def test_the_environments_endpoint_is_the_users_choice() -> None:
    settings = GlmSettings(baseUrl="https://llm.example.com/v1/")
    environ = {"GLM_LSP_BASE_URL": "https://x.test/"}
    assert host_needing_consent(settings, environ=environ) is None
    blank = {"GLM_LSP_BASE_URL": " "}
    assert host_needing_consent(settings, environ=blank) == "https://llm.example.com:443"


def test_plain_http_off_this_machine_always_asks() -> None:
    settings = GlmSettings()
    environ = {"GLM_LSP_BASE_URL": "http://x.test:8000/"}  # even the user's own choice
    assert host_needing_consent(settings, environ=environ) == "http://x.test:8000"
    assert "unencrypted" in consent_question("http://x.test:8000")
    assert "unencrypted" not in consent_question("https://x.test:8000")


def test_the_default_endpoint_needs_no_question() -> None:
    assert host_needing_consent(GlmSettings(), environ={}) is None


def test_hosts_are_compared_case_insensitively() -> None:
    assert is_trusted_host("API.Z.AI")
    assert host_subject("HTTP://LLM.Example.COM:9/v1/") == "http://llm.example.com:9"
    assert host_subject("https://h.test:9/") != host_subject("http://h.test:9/")


def test_the_question_and_the_reasons_name_the_host() -> None:
    assert consent_question("llm.example.com").startswith(
        "Send your GLM API key to llm.example.com?"
    )
    for answer in (None, *Answer):
        message = GlmKeyHostNotAllowedError("llm.example.com", answer).user_message
        assert "not sent to llm.example.com" in message
    unsupported = GlmKeyHostNotAllowedError("h.test", Answer.UNSUPPORTED).user_message
    assert "cannot ask" in unsupported and "GLM_LSP_BASE_URL" in unsupported


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("gpu-box:8000/v1/", "must start with http:// or https://"),
        ("http:/gpu-box/v1/", "must start with http:// or https://"),
        ("https:///v1/", "names no host"),
        ("http://gpu-box:port/v1/", "port is not a number"),
        ("http://gpu-box:8000/v1/", None),
    ],
)
def test_a_base_url_that_is_no_url_keeps_its_value_and_says_why(url: str, why: str | None) -> None:
    settings = GlmSettings(baseUrl=url)
    assert settings.base_url == url  # never replaced by the default host
    problem = settings.base_url_problem(environ={})
    if why is None:
        assert problem is None
    else:
        assert problem is not None and why in problem and problem.startswith("glm.baseUrl is")
        assert host_needing_consent(settings, environ={}) is None  # nothing to ask about
