"""The real glm-lsp process: initialize, settings, status, no-key behaviour."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from tests.fake_glm import FakeGlm
from tests.lsp_harness import execute, messages_of, start_session, wait_until


async def test_initialize_with_settings_and_status(fake_glm: FakeGlm, tmp_path: Path) -> None:
    options = {"glm": {"model": "glm-test-model", "maxRetries": 1}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, _):
        status = await execute(client, "glm.status", {})
        assert status["model"] == "glm-test-model"
        assert status["requests"] == 0
        assert "quotaMultiplier" not in status  # the fake is pay-per-token: no plan quota
        assert status["plan"] == "tokens"
        assert status["hasKey"] is True
        assert client.messages and "GLM usage: 0 requests" in client.messages[-1].message


async def test_invalid_setting_warns_and_server_keeps_answering(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    options = {"model": "glm-5.1", "completion": {"debounceMs": "soon"}, "maxRetries": -4}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, _):
        assert await wait_until(lambda: len(messages_of(client, types.MessageType.Warning)) >= 2)
        warnings = messages_of(client, types.MessageType.Warning)
        assert any("completion.debounceMs" in w for w in warnings)
        assert any("maxRetries" in w for w in warnings)
        status = await execute(client, "glm.status", {})
        assert status["model"] == "glm-5.1"


async def test_workspace_configuration_overrides_and_reloads(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    async with start_session(
        fake_glm,
        tmp_path,
        init_options={"model": "from-init"},
        configuration={"model": "from-config"},
    ) as (client, _):
        status = await execute(client, "glm.status", {})
        assert status["model"] == "from-config"
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"glm": {"model": "changed"}})
        )
        await wait_until(lambda: False, 0.2)
        status = await execute(client, "glm.status", {})
        assert status["model"] == "changed"


async def test_starts_without_key(fake_glm: FakeGlm, tmp_path: Path) -> None:
    async with start_session(fake_glm, tmp_path, key=None) as (client, _):
        status = await execute(client, "glm.status", {})
        assert status["hasKey"] is False
        assert len(fake_glm.requests) == 0


async def test_capabilities_advertise_incremental_sync_and_status(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    async with start_session(fake_glm, tmp_path) as (_, editor):
        assert editor.init_result is not None
        caps = editor.init_result.capabilities
        assert caps.text_document_sync is not None
        sync = caps.text_document_sync
        kind = sync.change if isinstance(sync, types.TextDocumentSyncOptions) else sync
        assert kind == types.TextDocumentSyncKind.Incremental
        assert caps.execute_command_provider is not None
        assert "glm.status" in caps.execute_command_provider.commands
        assert editor.init_result.server_info is not None
        assert editor.init_result.server_info.name == "glm-lsp"


async def test_misspelled_keys_are_named_with_the_setting_meant(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    options = {"modle": "glm-4.7", "completion": {"debounce": 50, "debounceMs": -5}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, _):
        assert await wait_until(lambda: len(messages_of(client, types.MessageType.Warning)) >= 3)
        warnings = messages_of(client, types.MessageType.Warning)
        assert "Unknown glm setting 'modle' (did you mean 'model'?): it is ignored." in warnings
        assert (
            "Unknown glm setting 'completion.debounce' (did you mean 'completion.debounceMs'?)"
            ": it is ignored." in warnings
        )
        # In plain words, naming the default that is kept.
        assert (
            "glm setting 'completion.debounceMs' is -5, but it must be at least 0; keeping the "
            "default (150)." in warnings
        )
