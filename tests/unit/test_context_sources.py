"""The gatherer over a real folder: confinement (open buffers too), the cache that keeps
typing off the disk, and noticing files that changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from glm_lsp.config import DEFAULT_EXCLUDE
from glm_lsp.context import sources as context_sources
from glm_lsp.context.definitions import Document
from glm_lsp.context.sources import ConfinedFiles, ContextGatherer

MAIN = "from util import scale\nfrom private import token\n\nscale(token, \n"


def folder(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "util.py").write_text("def scale(v, factor=2.5):\n    return v\n")
    (root / "private.py").write_text("def token():\n    return 'SECRET-1'\n")
    (root / ".gitignore").write_text("private.py\n")
    return root


async def gather(
    gatherer: ContextGatherer, files: ConfinedFiles, buffers: dict[str, str], wait: float | None
) -> str:
    context = await gatherer.gather(
        files,
        Document("main.py", "python", MAIN),
        len(MAIN),
        len(MAIN),
        {"main.py": MAIN, **buffers},
        max_chars=3000,
        wait_s=wait,
        sticky=True,
    )
    return context.text


def test_gitignored_files_stay_out_even_when_open(tmp_path: Path) -> None:
    root = folder(tmp_path)
    gatherer = ContextGatherer()
    files = gatherer.files_for(root, DEFAULT_EXCLUDE)
    buffers = {"private.py": "def token():\n    return 'SECRET-2'\n"}
    text = asyncio.run(gather(gatherer, files, buffers, None))
    assert "def scale(v, factor=2.5):" in text
    assert "SECRET" not in text and "def token" not in text


def test_once_read_typing_never_touches_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context_sources, "RECHECK_S", 3600.0)  # no background recheck now
    root = folder(tmp_path)
    gatherer = ContextGatherer()
    files = gatherer.files_for(root, DEFAULT_EXCLUDE)

    async def session() -> tuple[str, str]:
        first = await gather(gatherer, files, {}, None)
        # Changed on disk: a keystroke that read the disk would show the new signature.
        (root / "util.py").write_text("def scale(v, changed_on_disk):\n    return v\n")
        second = await gather(gatherer, files, {}, 0.0)
        return first, second

    first, second = asyncio.run(session())
    assert "def scale(v, factor=2.5):" in first
    assert second == first


def test_a_cold_request_that_cannot_wait_gets_the_rest_next_time(tmp_path: Path) -> None:
    root = folder(tmp_path)
    gatherer = ContextGatherer()
    files = gatherer.files_for(root, DEFAULT_EXCLUDE)

    async def session() -> tuple[str, str]:
        first = await gather(gatherer, files, {}, 0.0)  # no time for the disk at all
        for _ in range(200):
            later = await gather(gatherer, files, {}, 0.0)
            if later:
                return first, later
            await asyncio.sleep(0.01)  # the background load finishes meanwhile
        return first, ""

    first, later = asyncio.run(session())
    assert first == ""
    assert "def scale(v, factor=2.5):" in later


def test_a_changed_file_is_noticed_on_recheck(tmp_path: Path) -> None:
    root = folder(tmp_path)
    gatherer = ContextGatherer()
    files = gatherer.files_for(root, DEFAULT_EXCLUDE)
    assert "factor=2.5" in asyncio.run(gather(gatherer, files, {}, None))
    (root / "util.py").write_text("def scale(v, factor=9.75, *, clip=False):\n    return v\n")
    files.recheck()
    assert "factor=9.75, *, clip=False" in asyncio.run(gather(gatherer, files, {}, None))


def test_excluded_names_are_never_read_open_or_not(tmp_path: Path) -> None:
    root = folder(tmp_path)
    (root / ".env").write_text("SECRET=3\n")
    (root / "secrets.pem").write_text("SECRET=4\n")
    files = ConfinedFiles(root, DEFAULT_EXCLUDE)
    files.load([".env", "secrets.pem", "util.py", ".git/config", "../outside.py"])
    view = files.view({".env": "SECRET=5\n", "secrets.pem": "SECRET=6\n"})
    assert view.read(".env") is None and view.read("secrets.pem") is None
    assert view.read(".git/config") is None and view.read("../outside.py") is None
    assert view.read("util.py") is not None
    assert not view.misses


def test_a_file_gitignored_later_drops_out_on_recheck(tmp_path: Path) -> None:
    root = folder(tmp_path)
    gatherer = ContextGatherer()
    files = gatherer.files_for(root, DEFAULT_EXCLUDE)
    assert "def scale" in asyncio.run(gather(gatherer, files, {}, None))
    (root / ".gitignore").write_text("private.py\nutil.py\n")
    files.recheck()
    assert "def scale" not in asyncio.run(gather(gatherer, files, {}, None))


def test_a_changed_exclude_setting_applies_at_once(tmp_path: Path) -> None:
    # agent.exclude changed in the settings: the next request must not read the newly
    # excluded file (the confinement of the old setting is not kept).
    root = folder(tmp_path)
    gatherer = ContextGatherer()
    files = gatherer.files_for(root, DEFAULT_EXCLUDE)
    assert "def scale" in asyncio.run(gather(gatherer, files, {}, None))
    files = gatherer.files_for(root, [*DEFAULT_EXCLUDE, "util.py"])
    assert "def scale" not in asyncio.run(gather(gatherer, files, {}, None))
