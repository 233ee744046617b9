"""Which workspace folder a file belongs to, as the editor declared its folders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from glm_lsp.lsp.features.apply import uri_to_path

if TYPE_CHECKING:
    from glm_lsp.lsp.server import GlmLanguageServer


def workspace_root(server: GlmLanguageServer, path: Path | None) -> Path | None:
    """The workspace folder holding ``path`` (the deepest one), else the root path."""
    candidates = []
    for folder in server.workspace.folders.values():
        folder_path = uri_to_path(folder.uri)
        if folder_path is not None and path is not None and path.is_relative_to(folder_path):
            candidates.append(folder_path)
    if candidates:
        return max(candidates, key=lambda p: len(p.parts))
    root = server.workspace.root_path
    return Path(root) if root else None


def is_excluded_document(server: GlmLanguageServer, uri: str) -> bool:
    """An ``agent.exclude``d file (``.env``, a private key): its text never goes upstream,
    so it gets no completion and no next edit."""
    from glm_lsp.trust.excluded_files import is_excluded

    path = uri_to_path(uri)
    if path is None:
        return False
    return is_excluded(path, workspace_root(server, path), server.settings.agent.exclude)
