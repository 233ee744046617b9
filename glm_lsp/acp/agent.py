"""``glm-lsp --acp``: the agent core behind the Agent Client Protocol (v1) over stdio.

``session/new`` names the workspace (``cwd``); ``session/prompt`` runs the same agent session
as the LSP server's ``glm.agent``, streaming the model's text, its reasoning and each tool call;
the change set ends the turn as diffs and ONE permission request, and is written only after
Apply. ``session/cancel`` closes the upstream stream at once and writes nothing. The key goes
only where the key-destination rule allows, as in the LSP server; settings come from the
user's settings file (ACP has no other settings channel) and the session's config options.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from acp import RequestError, helpers
from acp.interfaces import Client
from acp.schema import (
    ClientCapabilities,
    Implementation,
    InitializeResponse,
    NewSessionResponse,
    PromptResponse,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SetSessionConfigOptionResponse,
)

from glm_lsp import __version__
from glm_lsp.acp.delivery import (
    Written,
    ask_to_apply,
    change_tool_calls,
    changed_file_name,
    permission_title,
    write_changes,
)
from glm_lsp.acp.early_initialize import EarlyStart, initialize_result
from glm_lsp.acp.ports import AcpAsker, ClientBuffers, SessionUpdates
from glm_lsp.agent.risky_changes import risky_changes
from glm_lsp.agent.session import AgentOutcome, AgentRequest, run_agent_session
from glm_lsp.config import GlmSettings, parse_layered_settings
from glm_lsp.glm.errors import GlmError, GlmNoKeyError
from glm_lsp.glm.holder import GlmClientHolder
from glm_lsp.glm.usage import UsageLedger
from glm_lsp.log import redact, register_secret
from glm_lsp.trust.asker import Asker
from glm_lsp.trust.consent import ConsentStore
from glm_lsp.trust.key_destination import KeyDestination

if TYPE_CHECKING:
    from glm_lsp.mcp_client.hub import McpHub, McpRun

log = logging.getLogger(__name__)

MODELS = ("glm-5.1", "glm-4.7", "glm-4.5-air")  # offered in the model option, beside settings


@dataclass
class AcpSession:
    id: str
    cwd: Path
    mcp_servers: list[Any] = field(default_factory=list)  # as the editor sent them
    mcp: McpHub | None = None  # their processes, from the session's first turn on
    notes: list[str] = field(default_factory=list)  # MCP messages, said in the turn's text
    warned: set[str] = field(default_factory=set)  # definition problems already said
    model: str | None = None
    thinking: bool | None = None
    turn: asyncio.Task[str] | None = None


@dataclass
class _Port:
    """The agent core's port for one turn: questions go to the editor as permissions."""

    asker: Asker
    consent: ConsentStore

    def report(self, message: str) -> None:
        log.debug("progress: %s", message)  # ACP shows the tool calls themselves


class GlmAcpAgent:
    """Implements ``acp.interfaces.Agent``."""

    def __init__(self) -> None:
        self._conn: Client | None = None
        self._client_capabilities = ClientCapabilities()
        self._sessions: dict[str, AcpSession] = {}
        self.consent = ConsentStore()
        self.key_destination = KeyDestination(self.consent)
        self.ledger = UsageLedger()
        self._clients = GlmClientHolder(self.ledger, on_notice=self._notice)
        self._turn_updates: SessionUpdates | None = None  # where a notice from GLM goes

    def on_connect(self, conn: Client) -> None:
        self._conn = conn

    def _notice(self, text: str) -> None:
        """Something to tell the user once (a model that always thinks): in the running turn."""
        log.warning("%s", text)
        if self._turn_updates is not None:
            self._turn_updates.text(f"\n\nglm-lsp: {text}\n\n")

    @property
    def conn(self) -> Client:
        if self._conn is None:
            raise RequestError.internal_error({"details": "no client connection"})
        return self._conn

    # -- lifecycle -----------------------------------------------------------------------------
    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **kwargs: Any,
    ) -> InitializeResponse:
        self._client_capabilities = client_capabilities or ClientCapabilities()
        return InitializeResponse.model_validate(initialize_result(protocol_version))

    def adopt_client_capabilities(self, capabilities: dict[str, Any]) -> None:
        """The capabilities of an ``initialize`` answered before the package loaded."""
        try:
            self._client_capabilities = ClientCapabilities.model_validate(capabilities)
        except ValueError as exc:
            log.warning("the client's capabilities could not be read (%s); assuming none", exc)

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        return None  # the key comes from the environment (BIGMODEL_API_KEY / ZAI_API_KEY)

    async def new_session(
        self,
        cwd: str,
        additional_directories: list[str] | None = None,
        mcp_servers: list[Any] | None = None,
        **kwargs: Any,
    ) -> NewSessionResponse:
        folder = Path(cwd)
        if not folder.is_absolute() or not folder.is_dir():
            raise RequestError.invalid_params({"cwd": f"{cwd!r} is not an existing folder"})
        session = AcpSession(uuid.uuid4().hex, folder.resolve(), list(mcp_servers or []))
        self._sessions[session.id] = session
        return NewSessionResponse(
            session_id=session.id, config_options=self._config_options(session)
        )

    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **kwargs: Any
    ) -> SetSessionConfigOptionResponse:
        session = self._session(session_id)
        if config_id == "model" and isinstance(value, str) and _MODEL_NAME.fullmatch(value):
            session.model = value
        elif config_id == "thinking" and str(value) in ("on", "off", "True", "False"):
            session.thinking = str(value) in ("on", "True")
        else:
            raise RequestError.invalid_params({"configId": config_id, "value": value})
        return SetSessionConfigOptionResponse(config_options=self._config_options(session))

    def _config_options(self, session: AcpSession) -> list[Any]:
        settings = self._settings(session)
        models = dict.fromkeys((settings.model, *MODELS))
        return [
            SessionConfigOptionSelect(
                id="model",
                name="Model",
                type="select",
                current_value=settings.model,
                options=[SessionConfigSelectOption(value=m, name=m) for m in models],
            ),
            SessionConfigOptionSelect(
                id="thinking",
                name="Thinking",
                type="select",
                current_value="on" if settings.agent.thinking else "off",
                options=[
                    SessionConfigSelectOption(value="on", name="On"),
                    SessionConfigSelectOption(value="off", name="Off"),
                ],
            ),
        ]

    def _session(self, session_id: str) -> AcpSession:
        session = self._sessions.get(session_id)
        if session is None:
            raise RequestError.invalid_params({"sessionId": f"unknown session {session_id!r}"})
        return session

    def _settings(self, session: AcpSession) -> GlmSettings:
        settings, warnings = parse_layered_settings()
        for warning in warnings:
            log.warning("%s", warning)
        if session.model is not None:
            settings = settings.model_copy(update={"model": session.model})
        if session.thinking is not None:
            agent = settings.agent.model_copy(update={"thinking": session.thinking})
            settings = settings.model_copy(update={"agent": agent})
        return settings

    # -- a turn --------------------------------------------------------------------------------
    async def prompt(self, session_id: str, prompt: list[Any], **kwargs: Any) -> PromptResponse:
        session = self._session(session_id)
        if session.turn is not None and not session.turn.done():
            raise RequestError.invalid_request(
                {"details": "a turn is already running in this session; cancel it first"}
            )
        instruction = _instruction(prompt)
        if not instruction:
            raise RequestError.invalid_params({"prompt": "the prompt has no text"})
        session.turn = asyncio.ensure_future(self._turn(session, instruction))
        try:
            stop = await asyncio.shield(session.turn)
        except asyncio.CancelledError:
            if session.turn.cancelled():
                return PromptResponse(stop_reason="cancelled")
            raise
        return PromptResponse(stop_reason=stop)

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self._sessions.get(session_id)
        if session is not None and session.turn is not None and not session.turn.done():
            # Closes the upstream stream (the loop's aclosing) and drops any open question.
            session.turn.cancel()

    async def _turn(self, session: AcpSession, instruction: str) -> str:
        updates = SessionUpdates(self.conn, session.id, session.cwd)
        self._turn_updates = updates
        try:
            return await self._run_turn(session, instruction, updates)
        except GlmError as exc:  # one clear line; nothing was written
            updates.text(f"\n\nGLM: {redact(exc.user_message)} Nothing was written.")
            return "end_turn"
        finally:
            if self._turn_updates is updates:
                self._turn_updates = None
            await asyncio.shield(_flush_and_close(updates))

    async def _run_turn(
        self, session: AcpSession, instruction: str, updates: SessionUpdates
    ) -> str:
        settings = self._settings(session)
        url_problem = settings.base_url_problem()
        if url_problem is not None:
            raise GlmError(url_problem)  # never another host in its place
        key = settings.api_key()
        if not key:
            raise GlmNoKeyError()
        register_secret(key)
        asker = AcpAsker(self.conn, session.id)
        await self.key_destination.confirm(settings, asker, has_key=True)
        self.key_destination.check(settings)
        client, old = self._clients.get(settings, key)
        if old is not None:
            await old.aclose()
        fs = self._client_capabilities.fs
        extra_tools = await self._mcp_tools(session, settings, asker)
        _say_notes(session, updates)
        request = AgentRequest(
            instruction,
            [session.cwd],
            buffers=ClientBuffers(self.conn, session.id) if fs and fs.read_text_file else None,
            events=updates,
            extra_tools=extra_tools,
        )
        outcome = await run_agent_session(request, settings, client, _Port(asker, self.consent))
        _say_notes(session, updates)  # an MCP server that stopped during the turn
        await updates.flush()  # the model's words before the change set
        return await self._deliver(session, settings, outcome, updates)

    async def _mcp_tools(
        self, session: AcpSession, settings: GlmSettings, asker: Asker
    ) -> McpRun | None:
        """The turn's MCP tools: session/new's servers (the editor's own configuration) and
        the settings file's, both trusted; started at the session's first turn."""
        from glm_lsp.mcp_client.definitions import merge, parse_servers

        sent = [
            s.model_dump(by_alias=True) if hasattr(s, "model_dump") else s
            for s in session.mcp_servers
        ]
        from_editor, problems = parse_servers(sent, source="session/new", trusted=True)
        from_file, more = parse_servers(settings.mcp_servers, source="settings.json", trusted=True)
        session.notes += [p for p in problems + more if p not in session.warned]
        session.warned.update(problems + more)
        found = merge(from_editor, from_file)
        if not found and session.mcp is None:
            return None
        if session.mcp is None:
            from glm_lsp.mcp_client.hub import McpHub

            session.mcp = McpHub(self.consent, session.notes.append, client_version=__version__)
        return await session.mcp.prepare_run(found, asker, log.debug)

    async def _deliver(
        self,
        session: AcpSession,
        settings: GlmSettings,
        outcome: AgentOutcome,
        updates: SessionUpdates,
    ) -> str:
        run, workspace = outcome.run, outcome.workspace
        check_note = f" {outcome.check.sentence()}" if outcome.check is not None else ""
        changes = workspace.changes()
        partial = run.stopped != "done"
        if partial and not (settings.agent.apply_partial_result and changes):
            updates.text(
                f"\n\nglm-lsp: GLM stopped after {run.turns} turns ({run.stop_reason()}) "
                f"without finishing; nothing was written.{check_note}"
            )
            return "max_turn_requests"
        if not changes:
            updates.text(f"\n\nglm-lsp: GLM made no changes.{check_note}")
            return "end_turn"
        calls = change_tool_calls(workspace, changes)
        for call in calls:
            updates.send(helpers.start_tool_call(**_start_fields(call)))
        await updates.flush()
        runs = risky_changes(workspace, changes)
        names = [changed_file_name(workspace, change) for change in changes]
        title = permission_title(names, runs)
        if not await ask_to_apply(self.conn, session.id, title, calls):
            for call in calls:
                updates.send(helpers.update_tool_call(call.tool_call_id, status="failed"))
            updates.text(f"\n\nglm-lsp: not applied; nothing was written.{check_note}")
            return "end_turn"
        fs = self._client_capabilities.fs
        written = await write_changes(
            self.conn,
            session.id,
            workspace,
            changes,
            client_writes=bool(fs and fs.write_text_file),
        )
        failed = {name for name, _ in written.failed}
        for call, name in zip(calls, names, strict=True):
            status: Literal["completed", "failed"] = "failed" if name in failed else "completed"
            updates.send(helpers.update_tool_call(call.tool_call_id, status=status))
        updates.text("\n\n" + _verdict(written, check_note, partial, runs_named=bool(runs)))
        return "end_turn"

    async def close(self) -> None:
        for session in self._sessions.values():
            if session.turn is not None and not session.turn.done():
                session.turn.cancel()
        for session in self._sessions.values():
            if session.mcp is not None:  # every MCP server's process group, now
                await session.mcp.shutdown()
        await self._clients.aclose()


MAX_MESSAGE_BYTES = 16 * 2**20  # one JSON-RPC line from the client, at most

_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}")


def _start_fields(call: Any) -> dict[str, Any]:
    return {
        "tool_call_id": call.tool_call_id,
        "title": call.title or "",
        "kind": call.kind,
        "status": "pending",
        "content": call.content,
        "locations": call.locations,
    }


def _verdict(written: Written, check_note: str, partial: bool, *, runs_named: bool) -> str:
    """The server's own verdict, first: what was written, what was not, the check."""
    parts = []
    if written.done:
        parts.append(f"glm-lsp wrote {len(written.done)} file(s): {', '.join(written.done)}.")
    if written.failed:
        listed = "; ".join(f"{name} ({why})" for name, why in written.failed)
        parts.append(f"NOT written: {listed}.")
    if partial:
        parts.append("GLM stopped unfinished (agent.maxIterations); review what it staged.")
    if runs_named:
        parts.append("Some of these files change what runs on your machine: review them.")
    return " ".join(parts) + check_note


def _instruction(prompt: list[Any]) -> str:
    """The prompt's text, with embedded file contents after it as context."""
    texts: list[str] = []
    for block in prompt:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(str(getattr(block, "text", "")))
        elif kind == "resource":
            resource = getattr(block, "resource", None)
            text = getattr(resource, "text", None)
            uri = getattr(resource, "uri", "")
            if isinstance(text, str):
                texts.append(f"\n\nContent of {uri}:\n{text}")
        elif kind == "resource_link":
            texts.append(f"\n(see {getattr(block, 'uri', '')})")
    return "".join(texts).strip()


def _say_notes(session: AcpSession, updates: SessionUpdates) -> None:
    for note in session.notes:
        updates.text(f"glm-lsp: {note}\n\n")
    session.notes.clear()


async def _flush_and_close(updates: SessionUpdates) -> None:
    try:
        await asyncio.wait_for(updates.flush(), 10)
    except (asyncio.TimeoutError, Exception):
        log.info("some session updates were not sent")
    await updates.close()


async def serve(early: EarlyStart) -> None:
    """Run the agent over stdin/stdout until the client goes away, after what
    ``answer_initialize_early`` read (and perhaps answered) before this module loaded."""
    from acp import run_agent
    from acp.stdio import stdio_streams

    agent = GlmAcpAgent()
    if early.client_capabilities is not None:
        agent.adopt_client_capabilities(early.client_capabilities)
    reader, writer = await stdio_streams(limit=MAX_MESSAGE_BYTES)
    reader.feed_data(early.unread)  # before the pipe delivers anything: order is kept
    try:
        # It implements the methods it supports; the SDK answers the rest as not found.
        await run_agent(agent, input_stream=writer, output_stream=reader)  # type: ignore[arg-type]
    finally:
        await agent.close()
