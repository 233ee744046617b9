"""Where ``glm.explain`` puts its answer: a Markdown file in the user's cache directory shown
with ``window/showDocument`` (never a file in the workspace), or a ``window/showMessage``."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from lsprotocol import types
from platformdirs import user_cache_dir

from glm_lsp.lsp.features.actions.target import ActionTarget
from glm_lsp.lsp.server import GlmLanguageServer

log = logging.getLogger(__name__)

KEEP_FILES = 50  # older explanations are removed so the cache does not grow forever


def explanations_dir() -> Path:
    return Path(user_cache_dir("glm-lsp")) / "explanations"


def explanation_markdown(target: ActionTarget, explanation: str) -> str:
    text = target.document.text
    first = text.count("\n", 0, target.start) + 1
    last = text.count("\n", 0, max(target.start, target.end - 1)) + 1
    return f"# {target.display_path}, lines {first}-{last}\n\n{explanation.strip()}\n"


def write_explanation(target: ActionTarget, markdown: str) -> Path:
    folder = explanations_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", target.path.stem if target.path else "explanation")
    path = folder / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns() % 10**6}.md"
    path.write_text(markdown, encoding="utf-8")
    _prune(folder)
    return path


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.md"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP_FILES:]:
        old.unlink(missing_ok=True)


def wants_document(server: GlmLanguageServer) -> bool:
    mode = server.settings.actions.explain_output
    if mode == "auto":
        return server.supports("window", "show_document", "support")
    return mode == "document"


async def show_explanation(
    server: GlmLanguageServer, target: ActionTarget, explanation: str
) -> str | None:
    """Show the explanation; returns the Markdown file's URI when a document was shown."""
    markdown = explanation_markdown(target, explanation)
    if wants_document(server):
        uri = write_explanation(target, markdown).as_uri()
        try:
            shown = await server.window_show_document_async(
                types.ShowDocumentParams(uri=uri, take_focus=True)
            )
        except Exception as exc:  # a client without showDocument answers with an error
            log.info("showDocument failed: %s", exc)
        else:
            if shown.success:
                return uri
        log.info("the client did not show %s; falling back to a message", uri)
    server.show_info(markdown)
    return None
