"""Settings (which may come from a cloned workspace) cannot quietly send the key elsewhere.

A foreign host is reached through a recording HTTP proxy on 127.0.0.1 (``HTTP_PROXY`` in the
server's environment, as a user behind a corporate proxy): the name never resolves, so every
request the server makes to it, warm-up included, shows up in the recorder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.conftest import TEST_KEY
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, fresh_state_dir, messages_of, start_session, wait_until
from tests.proxy_recorder import ProxyRecorder

FOREIGN = "llm.example.test"
FOREIGN_URL = f"http://{FOREIGN}/api/paas/v4/"
SUBJECT = f"http://{FOREIGN}:80"  # consent is kept by scheme, host and port
QUESTION = f"Send your GLM API key to {SUBJECT} unencrypted?"
REFACTORED = "```python\nx = 2\n```"


@pytest.fixture
def proxy(fake_glm: FakeGlm) -> Iterator[ProxyRecorder]:
    with ProxyRecorder(fake_glm.port) as recorder:
        yield recorder


async def _refactor(client: Any, uri: str) -> Any:
    return await execute(client, "glm.refactor", {"uri": uri, "range": _whole_line0()})


@pytest.mark.parametrize("source", ["initializationOptions", "workspace/configuration"])
async def test_a_foreign_host_gets_nothing_before_allow_and_works_after(
    fake_glm: FakeGlm, proxy: ProxyRecorder, tmp_path: Path, source: str
) -> None:
    settings = {"baseUrl": FOREIGN_URL}
    state = fresh_state_dir()
    async with start_session(
        None,  # no GLM_LSP_BASE_URL: the setting decides
        tmp_path,
        init_options={"glm": settings} if source == "initializationOptions" else None,
        configuration=settings if source == "workspace/configuration" else None,
        extra_env={**proxy.env(), "GLM_LSP_STATE_DIR": state},
    ) as (client, editor):
        # Asked as soon as the settings are read; the user closes the question (null).
        assert await wait_until(lambda: len(editor.questions) == 1)
        assert editor.questions[0].message.startswith(QUESTION)
        assert [a.title for a in editor.questions[0].actions or []] == ["Allow", "Don't allow"]
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text=REFACTORED))
        assert await _refactor(client, uri) == {"applied": False}
        assert editor.text(uri) == "x = 1\n"
        assert proxy.requests == [], "a request went out before the user agreed"
        assert not fake_glm.requests and not fake_glm.other_requests
        errors = messages_of(client, types.MessageType.Error)
        assert any(f"not sent to {SUBJECT}" in e for e in errors), errors

        editor.message_answer = "Allow"
        assert await _refactor(client, uri) == {"applied": True}
        assert editor.text(uri) == "x = 2\n"
    assert len(editor.questions) == 3  # at start, then by each refactor until allowed
    posts = [r for r in proxy.requests if r.method == "POST"]
    assert [r.target for r in posts] == [FOREIGN_URL + "chat/completions"]
    assert posts[0].headers["authorization"] == f"Bearer {TEST_KEY}"
    assert len(fake_glm.requests) == 1  # and it reached the upstream behind the proxy
    consent = json.loads((Path(state) / "consent.json").read_text())
    assert consent["allowed"]["key-host"] == [SUBJECT]
    assert list(tmp_path.iterdir()) == []  # nothing written into the workspace
    assert all(TEST_KEY not in m for m in messages_of(client))


async def test_dont_allow_sends_nothing_not_even_the_warm_up(
    fake_glm: FakeGlm, proxy: ProxyRecorder, tmp_path: Path
) -> None:
    async with start_session(
        None,
        tmp_path,
        configuration={"baseUrl": FOREIGN_URL},
        extra_env=proxy.env(),
        message_answer="Don't allow",
    ) as (client, editor):
        assert await wait_until(lambda: len(editor.questions) == 1)  # at start
        uri = editor.open("a.py", "def f():\n    return 1\n")
        fake_glm.enqueue(Reply(text=REFACTORED), Reply(text="    return 2"))
        assert await _refactor(client, uri) == {"applied": False}
        assert len(editor.questions) == 2  # the refactor asks again
        completions = await _inline_completion(client, uri)
    assert completions == []
    assert len(editor.questions) == 2  # never while typing
    assert editor.text(uri) == "def f():\n    return 1\n"
    assert proxy.requests == []
    assert not fake_glm.requests and not fake_glm.other_requests
    assert any("Don't allow" in m for m in messages_of(client, types.MessageType.Error))


async def test_allow_is_remembered_per_host_in_the_state_directory(
    fake_glm: FakeGlm, proxy: ProxyRecorder, tmp_path: Path
) -> None:
    env = {**proxy.env(), "GLM_LSP_STATE_DIR": fresh_state_dir()}
    async with start_session(
        None,
        tmp_path,
        configuration={"baseUrl": FOREIGN_URL},
        extra_env=env,
        message_answer="Allow",
    ) as (_client, editor):
        # Allowed at start: the warm-up now goes there, through the proxy.
        assert await wait_until(lambda: any(r.method == "GET" for r in proxy.requests))
    assert [r.target for r in proxy.requests] == [FOREIGN_URL + "models"]
    assert len(editor.questions) == 1

    async with start_session(
        None, tmp_path, configuration={"baseUrl": FOREIGN_URL}, extra_env=env
    ) as (client, editor):
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text=REFACTORED))
        assert await _refactor(client, uri) == {"applied": True}
    assert editor.questions == []  # the next session remembers
    assert len(fake_glm.requests) == 1

    other = "http://other.example.test:8080/v4/"  # another host (or port) is asked about anew
    async with start_session(None, tmp_path, configuration={"baseUrl": other}, extra_env=env) as (
        _client,
        editor,
    ):
        assert await wait_until(lambda: len(editor.questions) == 1)
    assert editor.questions[0].message.startswith(
        "Send your GLM API key to http://other.example.test:8080 unencrypted?"
    )


async def test_a_foreign_host_arriving_by_a_settings_change_is_asked_about_too(
    fake_glm: FakeGlm, proxy: ProxyRecorder, tmp_path: Path
) -> None:
    # Loopback first (the proxy variables apply to it too, so the proxy sees its warm-up).
    async with start_session(
        None, tmp_path, configuration={"baseUrl": fake_glm.url}, extra_env=proxy.env()
    ) as (client, editor):
        assert editor.questions == []
        client.set_configuration({"baseUrl": FOREIGN_URL}, section="glm")  # as an editor would
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"glm": {"baseUrl": FOREIGN_URL}})
        )
        assert await wait_until(lambda: len(editor.questions) == 1)
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text=REFACTORED))
        assert await _refactor(client, uri) == {"applied": False}
    assert editor.questions[0].message.startswith(QUESTION)
    assert not [r for r in proxy.requests if FOREIGN in r.target] and not fake_glm.requests


async def test_a_client_that_cannot_ask_sends_nothing_and_says_why(
    fake_glm: FakeGlm, proxy: ProxyRecorder, tmp_path: Path
) -> None:
    async with start_session(
        None,
        tmp_path,
        configuration={"baseUrl": FOREIGN_URL},
        extra_env=proxy.env(),
        show_message_request=False,
    ) as (client, editor):
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text=REFACTORED))
        assert await _refactor(client, uri) == {"applied": False}
    assert proxy.requests == [] and not fake_glm.requests
    said = [m for m in messages_of(client) if "cannot ask" in m and "GLM_LSP_BASE_URL" in m]
    assert said, messages_of(client)


async def test_glm_lsp_base_url_from_the_environment_asks_nothing(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    # The environment's endpoint wins over the setting, and it is the user's own choice.
    async with start_session(fake_glm, tmp_path, configuration={"baseUrl": FOREIGN_URL}) as (
        client,
        editor,
    ):
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text=REFACTORED))
        assert await _refactor(client, uri) == {"applied": True}
        assert editor.text(uri) == "x = 2\n"
    assert editor.questions == []
    assert fake_glm.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"


async def test_loopback_and_glm_hosts_ask_nothing(fake_glm: FakeGlm, tmp_path: Path) -> None:
    async with start_session(None, tmp_path, configuration={"baseUrl": fake_glm.url}) as (
        client,
        editor,
    ):
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text="An assignment."))
        await execute(client, "glm.explain", {"uri": uri, "range": _line0()})
    assert len(fake_glm.requests) == 1
    assert editor.questions == []
    assert not [m for m in messages_of(client) if "API key" in m]


async def test_api_key_env_cannot_name_another_secret(fake_glm: FakeGlm, tmp_path: Path) -> None:
    extra = {"AWS_SECRET_ACCESS_KEY": "aws-secret-value-123"}
    async with start_session(
        fake_glm, tmp_path, configuration={"apiKeyEnv": "AWS_SECRET_ACCESS_KEY"}, extra_env=extra
    ) as (client, editor):
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text="An assignment."))
        await execute(client, "glm.explain", {"uri": uri, "range": _line0()})
    warnings = messages_of(client, types.MessageType.Warning)
    assert any("apiKeyEnv" in w and "GLM key variable" in w for w in warnings)
    assert fake_glm.requests, "the explain request never reached the fake"
    assert fake_glm.requests[-1].headers["authorization"] == f"Bearer {TEST_KEY}"
    assert all("aws-secret-value-123" not in str(r.headers) for r in fake_glm.requests)


async def _inline_completion(client: Any, uri: str) -> list[str]:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    items = result.items if isinstance(result, types.InlineCompletionList) else result or []
    return [item.insert_text for item in items]


def _line0() -> dict[str, Any]:
    return {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 5}}


def _whole_line0() -> dict[str, Any]:
    return {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}


@pytest.mark.parametrize("source", ["baseUrl", "GLM_LSP_BASE_URL"])
async def test_a_base_url_without_a_scheme_stops_the_feature_and_sends_nothing(
    fake_glm: FakeGlm, proxy: ProxyRecorder, tmp_path: Path, source: str
) -> None:
    """A self-hoster's `gpu-box:8000/v1/` never falls back to the public API."""
    bad = "gpu-box:8000/v1/"
    in_settings = source == "baseUrl"
    env = {**proxy.env(), "GLM_LSP_STATE_DIR": fresh_state_dir()}
    if not in_settings:
        env["GLM_LSP_BASE_URL"] = bad
    async with start_session(
        None,
        tmp_path,
        configuration={"baseUrl": bad} if in_settings else None,
        extra_env=env,
        message_answer="Allow",
    ) as (client, editor):
        uri = editor.open("a.py", "def f():\n    return 1\n")
        fake_glm.enqueue(Reply(text=REFACTORED), Reply(text="    return 2"))
        assert await _refactor(client, uri) == {"applied": False}
        assert await _inline_completion(client, uri) == []
        named = "glm.baseUrl" if in_settings else "GLM_LSP_BASE_URL"
        said = messages_of(client)
        assert any(f"{named} is '{bad}'" in m and "http://gpu-box:8000/v1/" in m for m in said)
        assert not any("UnsupportedProtocol" in m for m in said), said
    assert editor.questions == []  # nothing to allow: nothing is sent anywhere
    assert editor.text(uri) == "def f():\n    return 1\n"
    assert proxy.requests == [], [r.target for r in proxy.requests]
    assert not fake_glm.requests and not fake_glm.other_requests


async def test_allow_for_https_does_not_send_the_key_over_http(
    fake_glm: FakeGlm, proxy: ProxyRecorder, tmp_path: Path
) -> None:
    """The user allowed https://llm.example.test:8443 (remembered as today, and as glm-lsp
    once remembered it, by host and port only); a setting now says http on that port."""
    state = Path(fresh_state_dir())
    allowed = {"key-host": [f"https://{FOREIGN}:8443", f"{FOREIGN}:8443"]}
    (state / "consent.json").write_text(json.dumps({"allowed": allowed}))
    plain = f"http://{FOREIGN}:8443/api/paas/v4/"
    async with start_session(
        None,
        tmp_path,
        configuration={"baseUrl": plain},
        extra_env={**proxy.env(), "GLM_LSP_STATE_DIR": str(state)},
    ) as (client, editor):
        assert await wait_until(lambda: len(editor.questions) == 1)
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text=REFACTORED))
        assert await _refactor(client, uri) == {"applied": False}
    assert editor.questions[0].message.startswith(
        f"Send your GLM API key to http://{FOREIGN}:8443 unencrypted?"
    )
    assert proxy.requests == [] and not fake_glm.requests


async def test_plain_http_from_the_environment_asks_too(
    fake_glm: FakeGlm, proxy: ProxyRecorder, tmp_path: Path
) -> None:
    """GLM_LSP_BASE_URL is the user's own choice of host, but plain http off this machine
    still asks: the key would cross the network in clear text."""
    async with start_session(
        None, tmp_path, extra_env={**proxy.env(), "GLM_LSP_BASE_URL": FOREIGN_URL}
    ) as (client, editor):
        assert await wait_until(lambda: len(editor.questions) == 1)
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text=REFACTORED))
        editor.message_answer = "Allow"
        assert await _refactor(client, uri) == {"applied": True}
    assert editor.questions[0].message.startswith(QUESTION)
    assert "unencrypted" in editor.questions[0].message
    assert [r.method for r in proxy.requests if r.method == "POST"] == ["POST"]
