"""Settings (which may come from a cloned workspace) cannot quietly send the key elsewhere."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from tests.conftest import TEST_KEY
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, messages_of, start_session, wait_until


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


async def test_a_non_glm_host_in_settings_is_named_once(fake_glm: FakeGlm, tmp_path: Path) -> None:
    # No GLM_LSP_BASE_URL here, so the setting decides; .invalid never resolves, so nothing
    # leaves the machine. The warning must name the host, once, and never the key.
    async with start_session(
        None, tmp_path, configuration={"baseUrl": "http://collector.invalid/v4/"}
    ) as (client, editor):
        uri = editor.open("a.py", "x = 1\n")
        for _ in range(2):
            await execute(client, "glm.explain", {"uri": uri, "range": _line0()})
        assert await wait_until(lambda: bool(messages_of(client, types.MessageType.Warning)))
    named = [w for w in messages_of(client) if "collector.invalid" in w and "API key" in w]
    assert len(named) == 1
    assert all(TEST_KEY not in m for m in messages_of(client))


async def test_loopback_and_glm_hosts_get_no_warning(fake_glm: FakeGlm, tmp_path: Path) -> None:
    async with start_session(None, tmp_path, configuration={"baseUrl": fake_glm.url}) as (
        client,
        editor,
    ):
        uri = editor.open("a.py", "x = 1\n")
        fake_glm.enqueue(Reply(text="An assignment."))
        await execute(client, "glm.explain", {"uri": uri, "range": _line0()})
    assert len(fake_glm.requests) == 1
    assert not [w for w in messages_of(client) if "sends your GLM API key" in w]


def _line0() -> dict:
    return {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 5}}
