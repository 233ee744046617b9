"""The user's MCP servers for the agent: which may start, starting them, and calling tools.

:class:`McpHub` lives as long as the editor's session. It takes definitions as plain data
(:func:`McpHub.set_definitions`) from whichever front door reads them, and stops a server
whose definition changed or went. The first agent run starts the servers (lazily, in
parallel, each within its startupTimeout); a server from the workspace starts only after
the user allowed it ("Start MCP server <name>: <command line>?"), remembered by the
definition's hash. :meth:`McpHub.for_run` gives one agent run its view: the tools as
``<server>__<tool>`` and a ``call`` that asks before a tool's first use, bounds the call
in time, and turns every outcome into text for the model.

Nothing here knows the editor: asking goes through an :class:`Asker`, remembering through a
:class:`ConsentMemory`, messages for the user through ``notify``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import mcp_types

from .connection import McpConnection, StartFailed
from .definitions import ServerDefinition
from .environment import ProgramFinder, ProgramNotFound, child_environment

log = logging.getLogger(__name__)

ALLOW = "Allow"
DONT_ALLOW = "Don't allow"
ALLOW_ONCE = "Allow once"
ALWAYS_ALLOW = "Always allow"
SERVER_KIND = "mcp-server"  # consent subject: the definition's hash
TOOL_KIND = "mcp-tool"  # consent subject: f"{definition hash}\0{tool}"
MAX_NAME = 64
MAX_DESCRIPTION_CHARS = 2000
MAX_SCHEMA_BYTES = 32 * 1024
_NOT_A_NAME_CHAR = re.compile(r"[^A-Za-z0-9_-]")


class Asker(Protocol):
    """Asks the user; None when they closed the question. Raises when the editor cannot ask
    (the front door's ``AskUnsupported``): any exception counts as "cannot ask"."""

    async def ask(self, question: str, actions: Sequence[str]) -> str | None: ...


class ConsentMemory(Protocol):
    """What the user allowed for good, in the state directory (``ConsentStore``)."""

    def allowed(self, kind: str, subject: str) -> bool: ...

    def remember(self, kind: str, subject: str) -> None: ...


@dataclass(frozen=True)
class McpTool:
    """One server tool as the model sees it."""

    name: str  # <server>__<tool>, [A-Za-z0-9_-], at most 64 characters
    server: str
    tool: str
    schema: dict[str, Any]  # the OpenAI function schema


def qualified_name(server: str, tool: str) -> str:
    """``<server>__<tool>`` in the characters and length every model API accepts; a name
    that had to be shortened keeps a hash of the whole so two long names stay apart."""
    name = _NOT_A_NAME_CHAR.sub("_", f"{server}__{tool}")
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def result_text(result: mcp_types.CallToolResult) -> str:
    """The tool's text for the model: its content blocks (images, audio and resources by
    their kind: the agent has no use for their bytes), and structured content as JSON when
    there is no text (servers send both as a rule, the text being the same JSON)."""
    texts = [b for b in result.content if isinstance(b, mcp_types.TextContent)]
    if result.structured_content is not None and not texts:
        return json.dumps(result.structured_content, ensure_ascii=False)
    parts: list[str] = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp_types.EmbeddedResource):
            resource = block.resource
            text = getattr(resource, "text", None)
            parts.append(text if isinstance(text, str) else f"[resource {resource.uri}]")
        elif isinstance(block, mcp_types.ResourceLink):
            parts.append(f"[resource link {block.uri}]")
        else:
            parts.append(f"[{getattr(block, 'type', 'content')} {getattr(block, 'mime_type', '')}]")
    return "\n".join(parts)


@dataclass
class _Server:
    definition: ServerDefinition
    connection: McpConnection | None = None
    state: str = "new"  # new, starting, running, failed, declined, stopped
    starting: asyncio.Future[None] | None = None
    restarts_left: int = 1
    junk_reported: bool = False
    tools: list[McpTool] = field(default_factory=list)


class McpHub:
    def __init__(
        self,
        consent: ConsentMemory,
        notify: Callable[[str], None],
        *,
        client_version: str = "0",
        finder: ProgramFinder | None = None,
    ) -> None:
        self.consent = consent
        self.notify = notify
        self.client_version = client_version
        self.finder = finder or ProgramFinder()
        self._servers: dict[str, _Server] = {}
        self._lock = asyncio.Lock()
        self._stopping: set[asyncio.Future[None]] = set()

    # -- definitions ---------------------------------------------------------------------
    def set_definitions(self, definitions: Sequence[ServerDefinition]) -> None:
        """The servers now defined; one whose definition changed or went is stopped now
        (a changed one starts again, asking again if it must, at the next agent run)."""
        wanted = {d.name: d for d in definitions}
        for name, server in list(self._servers.items()):
            new = wanted.get(name)
            if new is not None and new.identity() == server.definition.identity():
                server.definition = new  # alwaysAllow may have changed: no restart needed
                continue
            del self._servers[name]
            self._stop_later(server)
        for name, definition in wanted.items():
            self._servers.setdefault(name, _Server(definition))

    @property
    def defined(self) -> bool:
        return bool(self._servers)

    @property
    def has_new(self) -> bool:
        """Some server has not been started (or asked about) yet."""
        return any(server.state == "new" for server in self._servers.values())

    # -- starting ------------------------------------------------------------------------
    async def start(self, asker: Asker) -> None:
        """Start every allowed server that is not running yet, in parallel. A server that
        fails is left out with one message; the run goes on without it."""
        async with self._lock:
            pending = [s for s in self._servers.values() if s.state == "new"]
            allowed = [s for s in pending if await self._may_start(s, asker)]
            for server in allowed:
                server.state = "starting"
                server.starting = asyncio.ensure_future(self._start(server))
        waiting = [s.starting for s in self._servers.values() if s.starting is not None]
        if waiting:  # asyncio.wait: a start cancelled by a redefinition is not our cancel
            await asyncio.wait(waiting)

    async def _may_start(self, server: _Server, asker: Asker) -> bool:
        definition = server.definition
        if definition.trusted or self.consent.allowed(SERVER_KIND, definition.fingerprint()):
            return True
        question = (
            f"Start MCP server {definition.name}: {definition.command_line()}? "
            f"(from {definition.source})"
        )
        try:
            answer = await asker.ask(question, [ALLOW, DONT_ALLOW])
        except Exception as exc:  # the editor cannot ask: nothing from the workspace starts
            log.info("MCP server %s not started: cannot ask the user (%s)", definition.name, exc)
            server.state = "declined"
            self.notify(
                f"MCP server {definition.name} from {definition.source} was not started: "
                "this editor cannot ask whether to allow it."
            )
            return False
        if answer == ALLOW:
            self.consent.remember(SERVER_KIND, definition.fingerprint())
            return True
        server.state = "declined"  # asked again when the definition changes, or next session
        log.info("MCP server %s: the user did not allow it to start", definition.name)
        return False

    async def _start(self, server: _Server) -> None:
        definition = server.definition
        try:
            connection = await self._connect(definition, server)
        except (StartFailed, ProgramNotFound) as exc:
            server.state = "failed"
            self.notify(f"MCP server {definition.name} was left out: {exc}.")
            return
        except Exception as exc:
            log.warning("MCP server %s failed to start", definition.name, exc_info=True)
            server.state = "failed"
            self.notify(f"MCP server {definition.name} was left out: {type(exc).__name__}: {exc}.")
            return
        if self._servers.get(definition.name) is not server:  # redefined meanwhile
            await connection.close()
            return
        server.connection = connection
        server.tools = [_model_tool(definition.name, tool) for tool in connection.tools]
        server.state = "running"
        log.info(
            "MCP server %s: %d tools (%s)",
            definition.name,
            len(server.tools),
            ", ".join(t.tool for t in server.tools),
        )

    async def _connect(self, definition: ServerDefinition, server: _Server) -> McpConnection:
        env = child_environment(dict(definition.env))
        program = ""
        if not definition.url:
            found = await self.finder.find(definition.command, env, definition.cwd)
            program = found.path
            if found.login_path is not None and "PATH" not in dict(definition.env):
                env["PATH"] = found.login_path  # its own children (node, python) live there too

        def junk(sample: str) -> None:
            if not server.junk_reported:
                server.junk_reported = True
                self.notify(
                    f"MCP server {definition.name} wrote output that is not MCP on its stdout "
                    f"(ignored): {sample!r}"
                )

        connection = McpConnection(
            definition, program, env, on_junk=junk, client_version=self.client_version
        )
        await connection.start()
        return connection

    # -- the tools -------------------------------------------------------------------------
    def tools(self) -> list[McpTool]:
        """The running servers' tools, each name once (a later duplicate is left out)."""
        seen: set[str] = set()
        tools: list[McpTool] = []
        for server in self._servers.values():
            if server.state != "running":
                continue
            for tool in server.tools:
                if tool.name not in seen:
                    seen.add(tool.name)
                    tools.append(tool)
        return tools

    def definition(self, server_name: str) -> ServerDefinition | None:
        server = self._servers.get(server_name)
        return server.definition if server is not None else None

    def for_run(self, asker: Asker) -> McpRun:
        return McpRun(self, asker)

    async def prepare_run(
        self,
        definitions: Sequence[ServerDefinition],
        asker: Asker,
        report: Callable[[str], None],
    ) -> McpRun | None:
        """An agent run's MCP tools (None when there are none): the definitions as they are
        now, the servers not yet running started (the workspace's asked about first)."""
        self.set_definitions(definitions)
        if not self.defined:
            return None
        if self.has_new:
            report("starting MCP servers…")
        await self.start(asker)
        run = self.for_run(asker)
        return run if run.names() else None

    async def call(self, server_name: str, tool: str, arguments: dict[str, Any]) -> str:
        """One call, as text for the model; ``error: ...`` when it failed."""
        server = self._servers.get(server_name)
        if server is None:
            return f"error: the MCP server {server_name} is no longer configured"
        if server.state == "starting" and server.starting is not None:
            await asyncio.wait([server.starting])  # a restart under way
        connection = server.connection
        if connection is not None and not connection.alive:  # it died while idle
            await connection.ended()
            return self._crashed(server, connection, None)
        if server.state != "running" or connection is None:
            return f"error: the MCP server {server_name} is not running"
        timeout = server.definition.call_timeout
        try:
            result = await connection.call(tool, arguments, timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not connection.alive:
                await connection.ended()  # its exit code and last words, for the message
                return self._crashed(server, connection, tool)
            return _call_error(exc, tool, timeout)
        text = result_text(result)
        return f"error: {text}" if result.is_error else text

    def _crashed(self, server: _Server, connection: McpConnection, tool: str | None) -> str:
        """The server is gone: restart it once (one message), and tell the model."""
        name = server.definition.name
        note = connection.exit_note()
        if server.connection is connection:
            server.connection = None
            if server.restarts_left > 0:
                server.restarts_left -= 1
                server.state = "starting"
                server.starting = asyncio.ensure_future(self._start(server))
                self.notify(f"MCP server {name} stopped ({note}); restarting it once.")
            else:
                server.state = "failed"
                self.notify(f"MCP server {name} stopped again ({note}); it is left out.")
            self._stop_later_connection(connection)
        during = f" while running {tool}" if tool else ""
        return f"error: the MCP server {name} stopped{during} ({note})" + (
            "; it is being restarted, you may try again" if server.state == "starting" else ""
        )

    # -- stopping --------------------------------------------------------------------------
    def _stop_later(self, server: _Server) -> None:
        if server.starting is not None and not server.starting.done():
            server.starting.cancel()
        if server.connection is not None:
            self._stop_later_connection(server.connection)
            server.connection = None
        server.state = "stopped"

    def _stop_later_connection(self, connection: McpConnection) -> None:
        if connection.process is not None:
            connection.process.kill()  # at once; the rest (reaping) may follow
        future = asyncio.ensure_future(connection.close())
        self._stopping.add(future)
        future.add_done_callback(self._stopping.discard)

    async def shutdown(self) -> None:
        """Every server's process group killed, and waited for (bounded)."""
        for server in list(self._servers.values()):
            self._stop_later(server)
        self._servers.clear()
        if self._stopping:
            await asyncio.wait(list(self._stopping), timeout=10.0)


class McpRun:
    """One agent run's view of the hub: the tools, and calls with the user's consent
    ("Allow once" counts for this run, "Always allow" for good, "Don't allow" for this run)."""

    def __init__(self, hub: McpHub, asker: Asker) -> None:
        self.hub = hub
        self.asker = asker
        self._by_name = {tool.name: tool for tool in hub.tools()}
        self._allowed: set[str] = set()
        self._refused: dict[str, str] = {}

    def schemas(self) -> list[dict[str, Any]]:
        return [tool.schema for tool in self._by_name.values()]

    def names(self) -> list[str]:
        return list(self._by_name)

    def handles(self, name: str) -> bool:
        return name in self._by_name

    def activity(self, name: str) -> str:
        tool = self._by_name.get(name)
        return f"MCP {tool.server}: {tool.tool}" if tool else f"calling {name}"

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        tool = self._by_name.get(name)
        if tool is None:
            return f"error: there is no MCP tool named {name!r}"
        refusal = await self._consent(tool, arguments)
        if refusal is not None:
            return f"error: {refusal}"
        return await self.hub.call(tool.server, tool.tool, arguments)

    async def _consent(self, tool: McpTool, arguments: dict[str, Any]) -> str | None:
        definition = self.hub.definition(tool.server)
        if definition is None:
            return f"the MCP server {tool.server} is no longer configured"
        subject = f"{definition.fingerprint()}\0{tool.tool}"
        if (
            tool.name in self._allowed
            or tool.tool in definition.always_allow
            or self.hub.consent.allowed(TOOL_KIND, subject)
        ):
            return None
        if tool.name in self._refused:
            return self._refused[tool.name]
        shown = json.dumps(arguments, ensure_ascii=False)
        if len(shown) > 300:
            shown = shown[:299] + "…"
        question = f"Let GLM call the MCP tool {tool.tool} of {tool.server} with {shown}?"
        try:
            answer = await self.asker.ask(question, [ALLOW_ONCE, ALWAYS_ALLOW, DONT_ALLOW])
        except Exception as exc:
            log.info("MCP tool %s not called: cannot ask the user (%s)", tool.name, exc)
            why = (
                f"{tool.name} is not allowed: this editor cannot ask the user (list it in "
                "the server's alwaysAllow in the user's settings)"
            )
            self._refused[tool.name] = why
            return why
        if answer == ALWAYS_ALLOW:
            self.hub.consent.remember(TOOL_KIND, subject)
            return None
        if answer == ALLOW_ONCE:
            self._allowed.add(tool.name)
            return None
        if answer is None:  # closed without an answer: this call only
            return f"the user closed the question; {tool.name} was not called"
        why = f"the user did not allow {tool.name}; do not call it again in this run"
        self._refused[tool.name] = why
        return why


def _model_tool(server: str, tool: mcp_types.Tool) -> McpTool:
    name = qualified_name(server, tool.name)
    description = (tool.description or tool.title or tool.name)[:MAX_DESCRIPTION_CHARS]
    parameters: dict[str, Any] = tool.input_schema if isinstance(tool.input_schema, dict) else {}
    if len(json.dumps(parameters)) > MAX_SCHEMA_BYTES or parameters.get("type") != "object":
        parameters = {"type": "object", "properties": {}}  # too big to send every turn
    schema = {
        "type": "function",
        "function": {
            "name": name,
            "description": f"(MCP server {server}) {description}",
            "parameters": parameters,
        },
    }
    return McpTool(name, server, tool.name, schema)


def _call_error(exc: BaseException, tool: str, timeout: float) -> str:
    from mcp.shared.exceptions import MCPError

    if isinstance(exc, MCPError):
        if exc.code == mcp_types.REQUEST_TIMEOUT:
            return f"error: {tool} did not finish within {timeout:g} s (callTimeout); cut off"
        return f"error: {exc.message}"
    log.info("MCP tool %s failed: %r", tool, exc)
    return f"error: {tool} failed ({type(exc).__name__}: {exc})"
