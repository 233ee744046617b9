"""GlmLanguageServer: owns the settings, the one GLM client and the usage ledger."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import sys
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from glm_lsp import __version__
from glm_lsp.glm.holder import GlmClientHolder
from glm_lsp.log import redact, register_secret
from glm_lsp.lsp.documents import LspWorkspace
from glm_lsp.lsp.request_progress import REQUEST_WORK_DONE_TOKEN
from glm_lsp.lsp.stdio import TolerantStdin

if TYPE_CHECKING:
    from glm_lsp.config import GlmSettings
    from glm_lsp.glm.client import GlmClient
    from glm_lsp.glm.usage import UsageLedger
    from glm_lsp.lsp.asker import LspAsker
    from glm_lsp.mcp_client.hub import McpHub
    from glm_lsp.trust.consent import ConsentStore
    from glm_lsp.trust.key_destination import KeyDestination

log = logging.getLogger(__name__)

# Feature families, each a module in glm_lsp/lsp/features with register(server).
FEATURE_MODULES = (
    "lifecycle",
    "status",
    "actions.code_actions",
    "actions.commands",
    "completion.handlers",
    "agent.command",
    "command_reply",
    "agent.check_command",
    "next_edit.handlers",
)

# What completions load on first use; preloaded in a thread when the first document opens, so
# neither `initialize` nor the first completion pays for it. Code actions and the agent load
# their modules on first use: an idle server does not hold them (idle RSS, benchmarks/startup.py).
IMPLEMENTATION_MODULES = (
    "glm_lsp.config",
    "glm_lsp.glm.client",
    "glm_lsp.glm.models",
    "glm_lsp.lsp.features.completion.items",
)

CapabilityAdjuster = Callable[[types.ClientCapabilities, types.ServerCapabilities], None]


class GlmProtocol(LanguageServerProtocol):
    _server: GlmLanguageServer

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        general = params.capabilities.general
        if general is not None and general.position_encodings:
            # Our edits and documents count UTF-16 units, which every client must accept
            # (Neovim lists utf-8 first; pygls would pick it).
            general.position_encodings = [types.PositionEncodingKind.Utf16]
        self._server.client_name = params.client_info.name if params.client_info else None
        result = yield from super().lsp_initialize(params)
        # Documents with LSP's line endings and cheap keystrokes (see documents.py).
        self._workspace.__class__ = LspWorkspace
        for adjust in self._server.capability_adjusters:
            adjust(params.capabilities, result.capabilities)
        return result

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        # The command's task inherits this request's context: progress can use the client's
        # own token (features/operation.py).
        REQUEST_WORK_DONE_TOKEN.set(params.work_done_token)
        return (yield from super().lsp_workspace__execute_command(params))

    def handle_message(self, message: Any) -> Any:
        # After shutdown the spec wants every request answered with InvalidRequest; pygls
        # drops them, and the client would wait for the answer forever.
        if (
            self._shutdown
            and hasattr(message, "method")
            and message.method != types.EXIT
            and getattr(message, "id", None) is not None
        ):
            error = types.ResponseError(
                code=types.ErrorCodes.InvalidRequest,
                message=f"glm-lsp is shutting down: {message.method} after shutdown",
            )
            self._send_response(message.id, error=error)
            return None
        return super().handle_message(message)

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            # A request whose params have the wrong shape still gets its answer (an error);
            # pygls would drop it and the editor would wait for it forever.
            if "method" in data and isinstance(data.get("id"), (int, str)):
                error = types.ResponseError(code=exc.code, message=exc.message)
                self._send_response(data["id"], error=error)
            raise

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        # pygls' own loops over the live dict of pending requests, and cancelling a pending
        # executeCommand removes it mid-loop (pygls#606): an editor quitting while GLM worked
        # got an internal error for its shutdown. Same steps, over a snapshot.
        current_id = self.msg_id
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        # pygls runs executeCommand handlers as inner tasks its cancel does not reach.
        super()._handle_cancel_notification(msg_id)
        self._server.cancel_request(msg_id)


class GlmLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "glm-lsp",
            __version__,
            protocol_cls=GlmProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self._settings: GlmSettings | None = None
        self.initialization_options: Any = None
        # The user's own layer (initializationOptions): workspace settings may tighten its
        # security settings, never loosen them (settings_layers.py).
        self.user_settings: GlmSettings | None = None
        self.capability_adjusters: list[CapabilityAdjuster] = []
        self.client_name: str | None = None  # initialize's clientInfo.name
        # Called with each document opened (after the workspace holds it).
        self.on_document_open: list[Callable[[GlmLanguageServer, str], None]] = []
        self._warned: set[str] = set()
        self._request_tasks: dict[Any, set[asyncio.Task[Any]]] = {}
        self._configured: asyncio.Event | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self.mcp: McpHub | None = None  # the agent's MCP servers, from the first agent run on

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        # One malformed frame from the client must not end the session (see stdio.py).
        super().start_io(TolerantStdin(stdin or sys.stdin.buffer), stdout)  # type: ignore[arg-type]

    # -- settings ------------------------------------------------------------------------------
    @property
    def settings(self) -> GlmSettings:
        if self._settings is None:
            # Lazy: pydantic is not needed to answer initialize. Before the editor sends any
            # settings, the user's settings file is all there is.
            from glm_lsp.config import parse_layered_settings

            self._settings, warnings = parse_layered_settings()
            for warning in warnings:
                log.warning("%s", warning)
        return self._settings

    @settings.setter
    def settings(self, value: GlmSettings) -> None:
        self._settings = value

    def _configured_event(self) -> asyncio.Event:
        if self._configured is None:
            self._configured = asyncio.Event()
        return self._configured

    def mark_configured(self) -> None:
        self._configured_event().set()

    async def wait_configured(self, timeout: float = 2.0) -> None:
        """Requests that race the initial workspace/configuration pull wait for it (bounded)."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._configured_event().wait(), timeout)

    # -- trust: built on first use, like the GLM client below ----------------------------------
    @functools.cached_property
    def consent(self) -> ConsentStore:
        """What the user allowed, in the user's state directory."""
        from glm_lsp.trust.consent import ConsentStore

        return ConsentStore()

    @functools.cached_property
    def key_destination(self) -> KeyDestination:
        from glm_lsp.trust.key_destination import KeyDestination

        return KeyDestination(self.consent)

    @functools.cached_property
    def asker(self) -> LspAsker:
        """How trust code asks this editor's user."""
        from glm_lsp.lsp.asker import LspAsker

        return LspAsker(self)

    # -- the GLM client ------------------------------------------------------------------------
    # The ledger and the client are built on first use, and the GLM modules with them: the
    # editor waits for `initialize` (benchmarks/startup.py).
    @functools.cached_property
    def ledger(self) -> UsageLedger:
        from glm_lsp.glm.usage import UsageLedger

        return UsageLedger()

    @functools.cached_property
    def _clients(self) -> GlmClientHolder:
        return GlmClientHolder(self.ledger, on_notice=self.show_warning)

    async def confirm_key_destination(self) -> None:
        """Ask when the settings name an unknown host; raise unless the user allows it."""
        await self.key_destination.confirm(self.settings, self.asker, has_key=self.has_key())

    def glm_client(self) -> GlmClient:
        """The one client for the server's life; rebuilt only when key or endpoint change."""
        from glm_lsp.glm.errors import GlmError, GlmNoKeyError

        url_problem = self.settings.base_url_problem()
        if url_problem is not None:
            raise GlmError(url_problem)  # never another host in its place
        key = self.settings.api_key()
        if not key:
            raise GlmNoKeyError()
        register_secret(key)
        # A host from settings gets the key only once the user allowed it.
        self.key_destination.check(self.settings)
        client, old = self._clients.get(self.settings, key)
        if old is not None:
            self.spawn(old.aclose())
        return client

    def spawn(self, work: Awaitable[Any]) -> None:
        """Fire-and-forget work that is kept referenced until it ends."""
        future = asyncio.ensure_future(work)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    def has_key(self) -> bool:
        return self.settings.api_key() is not None

    async def close_client(self) -> None:
        if "_clients" in self.__dict__:  # else no client was ever built
            await self._clients.aclose()

    def model_for(self, feature: str) -> str:
        if feature == "completion" and self.settings.completion.model:
            return self.settings.completion.model
        return self.settings.model

    # -- cancellation of long requests ---------------------------------------------------------
    def track_request_task(self, msg_id: Any, task: asyncio.Task[Any]) -> Callable[[], None]:
        """Let ``$/cancelRequest`` for ``msg_id`` cancel ``task``; returns the untrack function."""
        if msg_id is None:
            return lambda: None
        self._request_tasks.setdefault(msg_id, set()).add(task)

        def untrack() -> None:
            tasks = self._request_tasks.get(msg_id)
            if tasks is not None:
                tasks.discard(task)
                if not tasks:
                    del self._request_tasks[msg_id]

        return untrack

    def cancel_request(self, msg_id: Any) -> None:
        for task in list(self._request_tasks.pop(msg_id, ())):
            task.cancel()

    async def end_requests(self, grace: float = 5.0) -> None:
        """Cancel all running work and let it end as cancelled (nothing applied, nothing to
        tell) before the connection it uses closes: the editor is shutting down."""
        tasks = [task for group in self._request_tasks.values() for task in group]
        self._request_tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls would show "Error in server" for every unreadable frame or notification
        failure: the user can do nothing about those, so they go to the log only."""
        log.warning("%s: %s", getattr(source, "__name__", source), error)

    # -- telling the user ----------------------------------------------------------------------
    def show(self, text: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=redact(text)))

    def show_info(self, text: str) -> None:
        self.show(text, types.MessageType.Info)

    def show_warning(self, text: str) -> None:
        self.show(text, types.MessageType.Warning)

    def warn_once(self, key: str, text: str) -> None:
        """A warning shown once per session (e.g. a missing key while typing)."""
        log.warning("%s", text)
        if key not in self._warned:
            self._warned.add(key)
            self.show_warning(text)

    def report_error(self, exc: BaseException, *, feature: str = "request") -> None:
        """Turn any failure into one clear message; the server keeps serving."""
        from glm_lsp.glm.errors import GlmError, GlmNoKeyError

        if isinstance(exc, GlmNoKeyError):
            self.warn_once("no-key", exc.user_message)
            return
        if isinstance(exc, GlmError):
            log.warning("%s failed: %s (request id %s)", feature, exc.user_message, exc.request_id)
            self.show(f"GLM {feature} failed: {exc.user_message}", types.MessageType.Error)
            return
        log.error("%s failed unexpectedly", feature, exc_info=exc)
        self.show(
            f"glm-lsp: {feature} failed: {type(exc).__name__}: {exc}. See the log for details.",
            types.MessageType.Error,
        )

    def supports(self, *path: str) -> bool:
        """Whether the client declared a capability, e.g. supports("window", "show_document")."""
        node: Any = self.client_capabilities
        for name in path:
            node = getattr(node, name, None)
            if node is None:
                return False
        return bool(node) if isinstance(node, bool) else True


def preload_implementations() -> None:
    for name in IMPLEMENTATION_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # a broken module must fail on use, with its own message
            log.debug("preloading %s failed", name, exc_info=True)
    release_freed_memory()


def release_freed_memory() -> None:
    """Hand the heap that importing left free back to the system (glibc keeps it otherwise:
    building the settings' pydantic models frees megabytes), so an idle server is small."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def create_server() -> GlmLanguageServer:
    server = GlmLanguageServer()
    for name in FEATURE_MODULES:
        module = importlib.import_module(f"{__package__}.features.{name}")
        module.register(server)
        adjuster = getattr(module, "adjust_capabilities", None)
        if adjuster is not None:
            server.capability_adjusters.append(adjuster)
    return server
