"""Which endpoints get the key without a question (DESIGN.md: the key goes only where the user
sent it)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from glm_lsp.config import GlmSettings
from glm_lsp.trust.asker import AskUnsupported
from glm_lsp.trust.consent import ALLOW, DONT_ALLOW, KEY_HOST, Answer, ConsentStore
from glm_lsp.trust.key_destination import (
    GlmKeyHostNotAllowedError,
    KeyDestination,
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
    settings = GlmSettings(baseUrl=f"https://{host}/v1/")
    assert host_needing_consent(settings, environ={}) == f"https://{host}:443"


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


def test_a_subject_names_a_port_only_when_it_knows_one() -> None:
    assert host_subject("https://api.example.com/v4/") == "https://api.example.com:443"
    assert host_subject("ws://h.test/") == "ws://h.test"  # no default port it knows
    assert host_subject("http://[::1]/v1") == "http://[::1]:80"
    assert host_subject("file:///etc/passwd") == "file://"  # no host: none made up


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


def test_a_trailing_dot_is_the_same_local_name() -> None:
    assert is_trusted_host("localhost.") and is_trusted_host("gpu.localhost.")


def test_the_process_environment_is_read_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = GlmSettings(baseUrl="https://llm.example.com/v1/")
    monkeypatch.setenv("GLM_LSP_BASE_URL", "https://llm.example.com/v1/")
    assert host_needing_consent(settings) is None
    monkeypatch.delenv("GLM_LSP_BASE_URL")
    assert host_needing_consent(settings) == "https://llm.example.com:443"


def test_a_port_that_is_not_a_number_is_the_schemes_default_in_the_subject() -> None:
    assert host_subject("http://llm.example.com:99999/v1/") == "http://llm.example.com:80"


def test_the_reasons_in_full() -> None:
    # What the user reads when the key was not sent, for each answer.
    head = "your GLM API key was not sent to h.test (glm.baseUrl)"
    assert GlmKeyHostNotAllowedError("h.test", Answer.DECLINED).user_message.endswith(
        f"{head}: you chose Don't allow. Remove the setting to use GLM."
    )
    assert GlmKeyHostNotAllowedError("h.test", Answer.UNSUPPORTED).user_message.endswith(
        f"{head}: this editor cannot ask you to allow it (no window/showMessageRequest). "
        "If you trust h.test, set GLM_LSP_BASE_URL to that URL in the environment glm-lsp "
        "starts from; otherwise remove the setting."
    )
    for answer in (None, Answer.DISMISSED):
        assert GlmKeyHostNotAllowedError("h.test", answer).user_message.endswith(
            f'{head}: it is sent there only once you answer Allow to "Send your GLM API key '
            'to h.test?". Run a GLM action to be asked again, or remove the setting.'
        )


# -- the gate ---------------------------------------------------------------------------------

OTHER = GlmSettings(baseUrl="https://llm.example.com:8443/v1/")


class Person:
    """An asker that answers as told and remembers what it was asked."""

    def __init__(self, answer: str | Exception | None) -> None:
        self.answer = answer
        self.asked: list[tuple[str, list[str]]] = []

    async def ask(self, question: str, actions: Sequence[str]) -> str | None:
        self.asked.append((question, list(actions)))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture(autouse=True)
def _no_endpoint_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLM_LSP_BASE_URL", raising=False)


def test_the_gate_stops_an_unknown_host_until_it_is_allowed(tmp_path: Path) -> None:
    store = ConsentStore(tmp_path / "consent.json")
    gate = KeyDestination(store)
    with pytest.raises(GlmKeyHostNotAllowedError) as info:
        gate.check(OTHER)
    assert (info.value.host, info.value.answer) == ("https://llm.example.com:8443", None)
    gate.check(GlmSettings())  # GLM itself: no question, no refusal
    store.remember(KEY_HOST, "https://llm.example.com:8443")
    gate.check(OTHER)


async def test_allow_lets_the_key_go_and_is_remembered(tmp_path: Path) -> None:
    gate = KeyDestination(ConsentStore(tmp_path / "consent.json"))
    person = Person(ALLOW)
    await gate.confirm(OTHER, person, has_key=True)
    assert person.asked == [
        (
            "Send your GLM API key to https://llm.example.com:8443? The glm.baseUrl setting "
            "names this host, which is not a GLM host; workspace settings can set it.",
            [ALLOW, DONT_ALLOW],
        )
    ]
    assert gate.answers == {"https://llm.example.com:8443": Answer.ALLOWED}
    gate.check(OTHER)
    assert ConsentStore(tmp_path / "consent.json").allowed(KEY_HOST, "https://llm.example.com:8443")


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        (DONT_ALLOW, Answer.DECLINED),
        (None, Answer.DISMISSED),
        (AskUnsupported("no showMessageRequest"), Answer.UNSUPPORTED),
    ],
)
async def test_any_other_answer_keeps_the_key_and_the_gate_says_why(
    tmp_path: Path, said: str | Exception | None, answer: Answer
) -> None:
    gate = KeyDestination(ConsentStore(tmp_path / "consent.json"))
    with pytest.raises(GlmKeyHostNotAllowedError) as info:
        await gate.confirm(OTHER, Person(said), has_key=True)
    assert (info.value.host, info.value.answer) == ("https://llm.example.com:8443", answer)
    assert gate.answers == {"https://llm.example.com:8443": answer}
    with pytest.raises(GlmKeyHostNotAllowedError) as later:
        gate.check(OTHER)  # the gate remembers this session's answer, to say why
    assert later.value.answer is answer
    assert not (tmp_path / "consent.json").exists()


async def test_no_question_without_a_key_or_for_a_known_host(tmp_path: Path) -> None:
    gate = KeyDestination(ConsentStore(tmp_path / "consent.json"))
    person = Person(DONT_ALLOW)
    await gate.confirm(OTHER, person, has_key=False)  # the "no key" message comes instead
    await gate.confirm(GlmSettings(), person, has_key=True)
    assert person.asked == []
    assert gate.answers == {}


def test_the_environment_given_is_the_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # The process's GLM_LSP_BASE_URL must not stand in for the environment passed in: here
    # the settings' URL is no URL, so nothing is sent and nothing is asked.
    monkeypatch.setenv("GLM_LSP_BASE_URL", "http://127.0.0.1:9/v1/")
    settings = GlmSettings(baseUrl="http://llm.example.com:port/v1/")
    assert host_needing_consent(settings, environ={}) is None
