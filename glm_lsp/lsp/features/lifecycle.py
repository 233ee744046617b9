"""Initialize, configuration (initializationOptions, workspace/configuration, changes), shutdown."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from glm_lsp.log import attach_client_logging, secrets_from_environment
from glm_lsp.lsp.server import GlmLanguageServer, preload_implementations

log = logging.getLogger(__name__)

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


def register(server: GlmLanguageServer) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: GlmLanguageServer, params: types.InitializeParams) -> None:
        attach_client_logging(lambda level, text: _log_to_client(ls, level, text))
        client = params.client_info
        log.info("client %s %s", client.name if client else "?", client.version if client else "")
        # Parsed once initialized: answering initialize fast is what editors wait on.
        ls.initialization_options = params.initialization_options

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: GlmLanguageServer, params: types.InitializedParams) -> None:
        try:
            apply_settings(ls, ls.initialization_options, source="initializationOptions")
            await pull_configuration(ls)
        finally:
            ls.mark_configured()
        log.info("model %s at %s", ls.settings.model, ls.settings.effective_base_url())
        if not _usable_endpoint(ls):
            return
        if not ls.has_key():
            log.warning(
                "no API key in %s; GLM features are off", ", ".join(ls.settings.key_env_names())
            )
            return
        ls.spawn(prepare_upstream(ls))

    preloaded: list[bool] = []

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_did_open(ls: GlmLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        # The first open document means features are about to be used: load their modules
        # now, in a thread, so the first command does not wait for them. A server with no
        # document open stays small.
        if not preloaded:
            preloaded.append(True)
            ls.spawn(asyncio.to_thread(preload_implementations))
        for listener in ls.on_document_open:
            listener(ls, params.text_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def on_configuration_changed(
        ls: GlmLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict) and settings:
            apply_settings(ls, settings, source="didChangeConfiguration")
        else:
            await pull_configuration(ls)
        from glm_lsp.trust.key_destination import host_needing_consent

        if _usable_endpoint(ls) and ls.has_key() and host_needing_consent(ls.settings):
            ls.spawn(prepare_upstream(ls))  # a new host is asked about now, not mid-typing
        if ls.mcp is not None:  # a server whose definition changed or went stops now
            from glm_lsp.lsp.features.agent.mcp import refresh_mcp
            from glm_lsp.lsp.features.agent.run import workspace_folders

            refresh_mcp(ls, workspace_folders(ls, None))

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(ls: GlmLanguageServer, *args: Any) -> None:
        await ls.end_requests()
        await ls.close_client()
        if ls.mcp is not None:
            from glm_lsp.lsp.features.agent.mcp import shutdown_mcp

            await shutdown_mcp(ls)


def _usable_endpoint(ls: GlmLanguageServer) -> bool:
    """Say at once (and once) when the endpoint is no URL; every feature then stops on it."""
    problem = ls.settings.base_url_problem()
    if problem is not None:
        ls.warn_once(f"base-url:{problem}", f"glm-lsp: {problem}")
    return problem is None


async def prepare_upstream(ls: GlmLanguageServer) -> None:
    """Ask about a host the settings chose (once), then open the connection, so the first
    real request pays no connect/TLS cost. A host not allowed gets no request, not even this."""
    # Trust loads here, after `initialized`: not while the editor waits for `initialize`.
    from glm_lsp.trust.consent import Answer
    from glm_lsp.trust.key_destination import GlmKeyHostNotAllowedError

    try:
        await ls.confirm_key_destination()
    except GlmKeyHostNotAllowedError as exc:
        log.warning("%s", exc.user_message)
        if exc.answer is Answer.UNSUPPORTED:  # nobody saw a question: say it now, once
            ls.warn_once(f"key-host:{exc.host}", f"glm-lsp: {exc.user_message}")
        return
    await ls.glm_client().warm_up()


def apply_settings(ls: GlmLanguageServer, raw: Any, *, source: str) -> None:
    from glm_lsp.config import parse_layered_settings

    if raw is None:
        return
    settings, warnings = parse_layered_settings(raw)  # over the user's settings file
    if source == "initializationOptions":
        ls.user_settings = settings
    else:  # the workspace's layer: security settings only tighten the user's
        from glm_lsp.settings_layers import with_workspace_layer

        user = ls.user_settings or parse_layered_settings({})[0]
        settings, loosened = with_workspace_layer(user, settings)
        warnings += loosened
    for warning in warnings:
        log.warning("%s (from %s)", warning, source)
        ls.show_warning(warning)
    ls.settings = settings
    secrets_from_environment(settings.key_env_names())


async def pull_configuration(ls: GlmLanguageServer) -> None:
    if not ls.supports("workspace", "configuration"):
        return
    try:
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="glm")])
        )
    except Exception as exc:
        log.info("workspace/configuration failed: %s", exc)
        return
    if answer and isinstance(answer[0], dict) and answer[0]:
        apply_settings(ls, answer[0], source="workspace/configuration")


def _log_to_client(ls: GlmLanguageServer, level: int, text: str) -> None:
    kind = _LEVELS.get(level, types.MessageType.Log)
    ls.window_log_message(types.LogMessageParams(type=kind, message=text))
