"""What a prompt gets from the rest of the workspace, worked out from the server's state:
definitions from other files (:mod:`glm_lsp.context.sources`), conftest.py fixtures for
generated tests, and the project's rules files."""

from __future__ import annotations

import weakref
from dataclasses import replace
from pathlib import Path

from glm_lsp.context.definitions import Document, language_of
from glm_lsp.context.sources import ContextGatherer, open_buffers, relative_path
from glm_lsp.lsp.features.actions.target import ActionTarget
from glm_lsp.lsp.features.apply import uri_to_path
from glm_lsp.lsp.folders import workspace_root
from glm_lsp.lsp.server import GlmLanguageServer
from glm_lsp.prompts import CodeRequest

# The first completion in a document may wait this long for its imports to be read from
# disk (normally a few ms; the bound is for a slow or loaded disk); later keystrokes find
# them cached and never wait. A code action, which takes seconds anyway, may wait longer.
COLD_WAIT_S = 1.0
ACTION_WAIT_S = 5.0

_GATHERERS: weakref.WeakKeyDictionary[GlmLanguageServer, ContextGatherer] = (
    weakref.WeakKeyDictionary()
)


def gatherer(ls: GlmLanguageServer) -> ContextGatherer:
    found = _GATHERERS.get(ls)
    if found is None:
        found = _GATHERERS[ls] = ContextGatherer()
    return found


def _buffers(ls: GlmLanguageServer, root: Path) -> dict[str, str]:
    documents = {
        uri: (uri_to_path(uri), document.source)
        for uri, document in ls.workspace.text_documents.items()
    }
    return open_buffers(documents, root)


async def completion_context(ls: GlmLanguageServer, uri: str, text: str, offset: int) -> str:
    """Definitions the code near the cursor uses (``text`` with ``\\n`` line endings)."""
    budget = ls.settings.completion.context_chars
    path = uri_to_path(uri)
    root = workspace_root(ls, path)
    relative = None if path is None or root is None else relative_path(path, root)
    if budget <= 0 or root is None or relative is None:
        return ""
    found = gatherer(ls)
    files = found.files_for(root, ls.settings.agent.exclude)
    context = await found.gather(
        files,
        Document(relative, _language(relative), text),
        offset,
        offset,
        _buffers(ls, root),
        max_chars=budget,
        wait_s=COLD_WAIT_S,
        sticky=True,
    )
    return context.text


async def with_workspace_context(
    ls: GlmLanguageServer, target: ActionTarget, request: CodeRequest
) -> CodeRequest:
    """``request`` with the rules files and the definitions the selection uses."""
    rules = project_rules(ls, target.root)
    budget = ls.settings.actions.context_chars
    path, root = target.path, target.root
    relative = None if path is None or root is None else relative_path(path, root)
    if budget <= 0 or root is None or relative is None:
        return replace(request, rules=rules)
    found = gatherer(ls)
    text = target.document.text
    newline_free = text.replace("\r\n", "\n")
    start = len(text[: target.start].replace("\r\n", "\n"))
    end = len(text[: target.end].replace("\r\n", "\n"))
    context = await found.gather(
        found.files_for(root, ls.settings.agent.exclude),
        Document(relative, _language(relative), newline_free),
        start,
        end,
        _buffers(ls, root),
        max_chars=budget,
        wait_s=ACTION_WAIT_S,
    )
    return replace(request, rules=rules, context=context.text)


async def test_fixtures(ls: GlmLanguageServer, target: ActionTarget, tests_uri: str) -> str:
    """The pytest fixtures the new tests can use, from the conftest.py files above them."""
    root, test_path = target.root, uri_to_path(tests_uri)
    relative = None if root is None or test_path is None else relative_path(test_path, root)
    budget = ls.settings.actions.context_chars
    if root is None or relative is None or budget <= 0 or target.language != "python":
        return ""
    found = gatherer(ls)
    files = found.files_for(root, ls.settings.agent.exclude)
    return await found.fixtures(files, relative, _buffers(ls, root), budget // 3)


def agent_may_read(ls: GlmLanguageServer, root: Path | None, path: Path) -> bool:
    """Inside the workspace folder, not in .git/, not agent.exclude'd, not gitignored."""
    if root is None:
        return False
    from glm_lsp.workspace import Workspace, WorkspaceError

    workspace = Workspace([root], exclude=ls.settings.agent.exclude)
    try:
        return not workspace.hidden(workspace.resolve(str(path)))
    except WorkspaceError:
        return False


def project_rules(ls: GlmLanguageServer, root: Path | None) -> str:
    """The rules files, read as the agent reads them (open buffers, unsaved text, first)."""
    names = ls.settings.rules_files
    if root is None or not names:
        return ""
    from glm_lsp.context.rules import read_rules
    from glm_lsp.workspace import Workspace

    buffers = {
        path: document.source
        for uri, document in ls.workspace.text_documents.items()
        if (path := uri_to_path(uri)) is not None
    }
    workspace = Workspace([root], open_buffers=buffers, exclude=ls.settings.agent.exclude)
    return read_rules(workspace, names)


def _language(relative: str) -> str:
    return language_of(relative) or "text"
