"""Start the real ``glm-lsp`` process under pytest-lsp, wired to the fake GLM, acting like an
editor: it keeps the open documents, applies ``workspace/applyEdit`` (honouring versions) to
them and to the files on disk, and sends the resulting didChange back to the server."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import TEST_KEY
from tests.fake_glm import FakeGlm, Reply

KEY_VARIABLES = ("BIGMODEL_API_KEY", "ZAI_API_KEY", "GLM_LSP_BASE_URL")
STATE_DIR_ENV = "GLM_LSP_STATE_DIR"
_STATE_DIRS: list[str] = []

# The client's answer to window/showMessageRequest: an action title, None (the user closed
# the question), or a function of the question.
MessageAnswer = str | None | Callable[[types.ShowMessageRequestParams], str | None]


def fresh_state_dir() -> str:
    """A state directory of its own for one server: consent never leaks between tests (nor
    into the user's real one)."""
    path = tempfile.mkdtemp(prefix="glm-lsp-state-")
    _STATE_DIRS.append(path)
    return path


@atexit.register
def _remove_state_dirs() -> None:
    for path in _STATE_DIRS:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class OpenDocument:
    uri: str
    language_id: str
    version: int
    text: str


def vscode_like_capabilities(
    *,
    show_document: bool = True,
    inline_completion: bool = True,
    document_changes: bool = True,
    change_annotations: bool = True,
    work_done_progress: bool = True,
    show_message_request: bool = True,
) -> types.ClientCapabilities:
    """The capabilities a current VS Code declares, each switchable for a test."""
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            configuration=True,
            workspace_folders=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=document_changes,
                resource_operations=[
                    types.ResourceOperationKind.Create,
                    types.ResourceOperationKind.Rename,
                    types.ResourceOperationKind.Delete,
                ]
                if document_changes
                else None,
                change_annotation_support=types.ChangeAnnotationsSupportOptions(
                    groups_on_label=True
                )
                if change_annotations
                else None,
            ),
            did_change_configuration=types.DidChangeConfigurationClientCapabilities(
                dynamic_registration=False
            ),
        ),
        text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(),
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=[
                            types.CodeActionKind.QuickFix,
                            types.CodeActionKind.Refactor,
                            types.CodeActionKind.RefactorRewrite,
                            types.CodeActionKind.Source,
                        ]
                    )
                )
            ),
            completion=types.CompletionClientCapabilities(),
            inline_completion=types.InlineCompletionClientCapabilities()
            if inline_completion
            else None,
        ),
        window=types.WindowClientCapabilities(
            work_done_progress=work_done_progress,
            show_document=types.ShowDocumentClientCapabilities(support=True)
            if show_document
            else None,
            show_message=types.ShowMessageRequestClientCapabilities()
            if show_message_request
            else None,
        ),
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf16]
        ),
    )


def _install_code_action_hook(client: LanguageClient) -> None:
    """lsprotocol reads any code action with a ``command`` key as a bare Command (DESIGN.md
    pitfalls): a string ``command`` means Command, anything else a CodeAction."""
    converter = client.protocol._converter

    def structure(obj: Any, _: Any) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], structure)  # noqa: UP007


def _offset(text: str, position: types.Position) -> int:
    """UTF-16 position -> str index (what an editor does)."""
    lines = text.split("\n")
    line = min(position.line, len(lines))
    offset = sum(len(text_line) + 1 for text_line in lines[:line])
    if line >= len(lines):
        return len(text)
    units = 0
    for index, char in enumerate(lines[line]):
        if units >= position.character:
            return offset + index
        units += 2 if ord(char) > 0xFFFF else 1
    return offset + len(lines[line])


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    spans = [(_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits]
    for start, end, new in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


class EditorState:
    """What the editor holds: open documents and the workspace on disk."""

    def __init__(self, client: LanguageClient, root: Path | None) -> None:
        self.client = client
        self.root = root
        self.documents: dict[str, OpenDocument] = {}
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []
        self.reject_edits = False
        self.edit_delay = 0.0
        # Called with each workspace/applyEdit before it is applied: e.g. the user types.
        self.before_apply: Callable[[types.ApplyWorkspaceEditParams], None] | None = None
        self.init_result: types.InitializeResult | None = None
        self.message_answer: MessageAnswer = None
        self.questions: list[types.ShowMessageRequestParams] = []  # showMessageRequest, in order
        # The user leaves each question open (neither answers nor closes it) until this is set.
        self.leave_questions_open = False
        self.questions_closed = asyncio.Event()

    # -- editor actions ----------------------------------------------------------------------
    def uri(self, relative: str) -> str:
        assert self.root is not None
        return (self.root / relative).as_uri()

    def open(
        self, relative_or_uri: str, text: str | None = None, language_id: str = "python"
    ) -> str:
        uri = relative_or_uri if "://" in relative_or_uri else self.uri(relative_or_uri)
        if text is None:
            text = _path(uri).read_text(encoding="utf-8")
        self.documents[uri] = OpenDocument(uri, language_id, 1, text)
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language_id, version=1, text=text
                )
            )
        )
        return uri

    def type_text(self, uri: str, range_: types.Range, new_text: str) -> None:
        """An incremental change, as the user typing."""
        doc = self.documents[uri]
        doc.text = apply_text_edits(doc.text, [types.TextEdit(range=range_, new_text=new_text)])
        doc.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                content_changes=[
                    types.TextDocumentContentChangePartial(range=range_, text=new_text)
                ],
            )
        )

    def text(self, uri: str) -> str:
        if uri in self.documents:
            return self.documents[uri].text
        return _path(uri).read_text(encoding="utf-8")

    # -- window/showMessageRequest -----------------------------------------------------------
    def answer_question(
        self, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        self.questions.append(params)
        answer = self.message_answer
        title = answer(params) if callable(answer) else answer
        if title is None:
            return None
        offered = [action.title for action in params.actions or []]
        assert title in offered, f"the test answers {title!r}; the question offers {offered}"
        return types.MessageActionItem(title=title)

    def question_texts(self) -> list[str]:
        return [q.message for q in self.questions]

    # -- workspace/applyEdit -----------------------------------------------------------------
    def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        self.applied_edits.append(params)
        if self.before_apply is not None:
            self.before_apply(params)
        if self.reject_edits:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="user declined")
        edit = params.edit
        try:
            if edit.document_changes is not None:
                for change in edit.document_changes:
                    self._apply_change(change)
            for uri, edits in (edit.changes or {}).items():
                self._set_text(uri, apply_text_edits(self.text(uri), list(edits)), None)
        except VersionMismatch as exc:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason=str(exc))
        return types.ApplyWorkspaceEditResult(applied=True)

    def _apply_change(self, change: Any) -> None:
        if isinstance(change, types.TextDocumentEdit):
            uri = change.text_document.uri
            version = change.text_document.version
            doc = self.documents.get(uri)
            if version is not None and doc is not None and doc.version != version:
                raise VersionMismatch(f"{uri} is at version {doc.version}, edit wants {version}")
            edits = [
                e for e in change.edits if isinstance(e, (types.TextEdit, types.AnnotatedTextEdit))
            ]
            self._set_text(uri, apply_text_edits(self.text(uri), edits), version)
        elif isinstance(change, types.CreateFile):
            path = _path(change.uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or (change.options and change.options.overwrite):
                path.write_text("", encoding="utf-8")
        elif isinstance(change, types.DeleteFile):
            _path(change.uri).unlink()
        elif isinstance(change, types.RenameFile):
            target = _path(change.new_uri)
            target.parent.mkdir(parents=True, exist_ok=True)  # as VS Code and Neovim do
            _path(change.old_uri).rename(target)

    def _set_text(self, uri: str, text: str, version: int | None) -> None:
        doc = self.documents.get(uri)
        if doc is None:
            _path(uri).write_text(text, encoding="utf-8")
            return
        doc.text = text
        doc.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


class VersionMismatch(Exception):
    pass


def _path(uri: str) -> Path:
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(uri).path))


def server_env(fake: FakeGlm | None, *, key: str | None = TEST_KEY, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES}
    if fake is not None:
        env["GLM_LSP_BASE_URL"] = fake.url
    if key is not None:
        env["BIGMODEL_API_KEY"] = key
    env.update(extra)
    env.setdefault(STATE_DIR_ENV, fresh_state_dir())
    # The user's settings file (the lowest layer) comes from the test, never this machine's.
    env.setdefault("XDG_CONFIG_HOME", os.path.join(env[STATE_DIR_ENV], "config"))
    return env


@asynccontextmanager
async def start_session(
    fake: FakeGlm | None,
    workspace: Path | None = None,
    *,
    init_options: Any = None,
    configuration: dict[str, Any] | None = None,
    capabilities: types.ClientCapabilities | None = None,
    key: str | None = TEST_KEY,
    extra_env: dict[str, str] | None = None,
    server_args: list[str] | None = None,
    message_answer: MessageAnswer = None,
    show_message_request: bool = True,
    client_info: types.ClientInfo | None = None,
) -> AsyncIterator[tuple[LanguageClient, EditorState]]:
    """The real server process, initialized; yields (client, editor).

    ``message_answer`` is the user's answer to window/showMessageRequest (questions asked
    land in ``editor.questions``); ``show_message_request=False`` is a client without it."""
    command = [sys.executable, "-m", "glm_lsp", *(server_args or [])]
    config = ClientServerConfig(
        server_command=command, server_env=server_env(fake, key=key, **(extra_env or {}))
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    _install_code_action_hook(client)
    editor = EditorState(client, workspace)
    editor.message_answer = message_answer

    if show_message_request:

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        async def on_show_message_request(
            params: types.ShowMessageRequestParams,
        ) -> types.MessageActionItem | None:
            if editor.leave_questions_open:
                editor.questions.append(params)
                await editor.questions_closed.wait()
                return None
            return editor.answer_question(params)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    async def on_apply_edit(
        params: types.ApplyWorkspaceEditParams,
    ) -> types.ApplyWorkspaceEditResult:
        if editor.edit_delay:
            await asyncio.sleep(editor.edit_delay)
        return editor.apply(params)

    if configuration is not None:
        client.set_configuration(configuration, section="glm")
    folders = (
        [types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)] if workspace else None
    )
    editor.init_result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities or vscode_like_capabilities(),
            root_uri=workspace.as_uri() if workspace else None,
            workspace_folders=folders,
            initialization_options=init_options,
            client_info=client_info,  # e.g. "helix": the server adapts to known clients
        )
    )
    try:
        yield client, editor
    finally:
        await shut_down(client)


SHUTDOWN_GRACE = 30.0  # seconds: a loaded machine's slowest clean exit, with room to spare


async def shut_down(client: LanguageClient, grace: float = SHUTDOWN_GRACE) -> None:
    """shutdown + exit, as an editor does; a server still running after ``grace`` seconds is
    killed and the test fails, so one stuck server never hangs the rest of the suite."""
    process = client._server  # pygls keeps the server's asyncio subprocess here
    if process is not None and process.returncode is not None:
        return  # gone already (killed, or crashed: the test's own checks say so)
    try:
        await asyncio.wait_for(client.shutdown_session(), grace)
    except asyncio.TimeoutError:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        raise AssertionError(f"the server did not exit within {grace:.0f} s") from None


async def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll until ``predicate`` holds; the default leaves a loaded 2-core machine room (only a
    failing test ever waits it out)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def begun_progress(client: LanguageClient) -> list[types.ProgressToken]:
    """The tokens whose progress the editor has been told began."""
    return [
        token
        for token, reports in list(client.progress_reports.items())
        if any(isinstance(report, types.WorkDoneProgressBegin) for report in list(reports))
    ]


def after_progress_began(clients: list[Any], reply: Reply) -> Callable[[Any], Reply]:
    """A reply (or model turn) given only once the editor shows progress for the work.

    The server asks for the progress token beside the work, and work that ends before the
    editor grants it rightly shows no progress at all; on a busy machine a test's instant
    replies can do that. A test that asserts progress holds the reply with this until then
    (``clients`` is filled with the session's client once it exists)."""

    def began() -> bool:
        return any(begun_progress(client) for client in clients)

    def turn(_: Any) -> Reply:
        deadline = time.monotonic() + 30
        while not began() and time.monotonic() < deadline:
            time.sleep(0.01)
        return reply

    return turn


async def shown_progress(client: LanguageClient, timeout: float = 30.0) -> types.ProgressToken:
    """The token of the one progress the editor shows, once it has begun: a user can cancel
    only what is shown, and the token request travels beside the work, so on a busy machine
    the upstream can be streaming before the editor has heard of the token."""
    assert await wait_until(lambda: bool(begun_progress(client)), timeout), "no progress began"
    (token,) = begun_progress(client)
    return token


def messages_of(client: LanguageClient, kind: types.MessageType | None = None) -> list[str]:
    return [m.message for m in client.messages if kind is None or m.type == kind]


async def inline(
    client: Any, uri: str, position: types.Position, *, automatic: bool = False
) -> list[str]:
    """Ask for inline completions at ``position``; the texts offered."""
    kind = (
        types.InlineCompletionTriggerKind.Automatic
        if automatic
        else types.InlineCompletionTriggerKind.Invoked
    )
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position,
            context=types.InlineCompletionContext(trigger_kind=kind),
        )
    )
    items = result.items if isinstance(result, types.InlineCompletionList) else result or []
    return [item.insert_text for item in items]


def execute(client: LanguageClient, command: str, argument: dict[str, Any]) -> Any:
    """Start workspace/executeCommand with ONE object argument; returns the awaitable."""
    return client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[argument])
    )
