"""Where :mod:`glm_lsp.context.definitions` gets its files: open buffers first, then the disk,
through the agent's confinement, cached so a keystroke never waits for the disk.

- Confinement is the agent's (:class:`~glm_lsp.workspace.Workspace`): inside the
  workspace folder after symlinks, never ``.git/``, never ``agent.exclude``, never a
  gitignored file. A refused file reads as missing.
- Disk reads happen in a thread. A request that finds something not read yet records it
  (a miss); the caller loads the misses in a thread, waiting at most as long as it can
  afford, and asks again. Once a document's imports are read, gathering for it touches no
  disk at all: the hot path of typing.
- Files read from disk are checked for changes in the background (mtime and size), at most
  every :data:`RECHECK_S` seconds.
- The gathering itself (parsing the document and its imports) runs in a thread of its own,
  never on the event loop: a crafted file can make it slow. The caller waits for it within
  its time bound and then goes on without context; a cancelled request stops it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from glm_lsp.context.definitions import (
    Bindings,
    Context,
    Definition,
    DefinitionIndex,
    Document,
    analysed_part,
    bindings_of,
    fixtures_in,
    gather,
    language_of,
    render_fixtures,
)
from glm_lsp.syntax.languages import load, unloaded_for
from glm_lsp.workspace import Workspace, WorkspaceError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 512 * 1024  # a file larger than this is not a useful source of signatures
CACHE_BYTES = 24 * 1024 * 1024  # the texts kept for context, all folders' files together
RECHECK_S = 2.0
# The longest a gather may take when its caller sets no bound (ordinary ones take ms).
MAX_GATHER_S = 10.0
# A completion's document up to this size is parsed on the event loop (see gather).
ON_LOOP_MAX_CHARS = 200_000
# Words that start the lines deciding what imports resolve to, in every language read.
_IMPORT_WORD = re.compile(
    r"import|require|package |from |use |using |#include|mod |namespace |extern crate"
)


@dataclass(frozen=True)
class _DiskEntry:
    text: str | None  # None: missing, refused, binary or too large
    stamp: tuple[int, int] | None  # (mtime_ns, size) when read


_REFUSED = _DiskEntry(None, None)


def _size(entry: _DiskEntry) -> int:
    return len(entry.text or "")


def import_key(text: str) -> str:
    """The lines that decide what a file's imports resolve to: the bindings are reused while
    they stay the same (typing in a function body never changes them)."""
    starts: dict[int, None] = {}
    for match in _IMPORT_WORD.finditer(text):  # a few matches; no scan line by line
        starts.setdefault(text.rfind("\n", 0, match.start()) + 1)
    ends = [text.find("\n", start) for start in starts]
    return "\n".join(
        text[start : end if end >= 0 else None] for start, end in zip(starts, ends, strict=True)
    )


class ConfinedFiles:
    """Workspace files for one folder, by workspace-relative POSIX path, confined and cached."""

    def __init__(self, root: Path, exclude: Sequence[str]) -> None:
        self.root = root
        self.exclude = tuple(exclude)
        self._confinement = Workspace([root], exclude=list(exclude))
        self._verdicts: dict[str, bool] = {}  # may the agent read it (confinement decided)
        self._real: dict[str, Path | None] = {}  # where it leads (None: refused)
        # Texts by real path, so that links to one file share one entry, at most
        # CACHE_BYTES in all: the oldest read goes first, and is read again when wanted.
        self._texts: OrderedDict[Path, _DiskEntry] = OrderedDict()
        self._cached_bytes = 0
        self._texts_lock = threading.Lock()  # loads and rechecks run in threads
        self._dirs: dict[str, list[str]] = {}
        self._checked_at = time.monotonic()
        # Bumped whenever what is known about the disk changes: import bindings worked out
        # before are then worked out again (a new sibling file, a name added to a module).
        self.generation = 0

    # -- what a gather may see, without touching the disk ------------------------------------
    def view(self, buffers: Mapping[str, str], stop: threading.Event | None = None) -> FilesView:
        return FilesView(self, buffers, stop)

    def verdict(self, relative: str) -> bool | None:
        """Whether ``relative`` may be read; None while undecided (not loaded yet)."""
        return self._verdicts.get(relative)

    def cached(self, relative: str) -> _DiskEntry | None:
        """What was read for ``relative``; None when not loaded yet (or let go since)."""
        if relative not in self._real:
            return None
        real = self._real[relative]
        return _REFUSED if real is None else self._texts.get(real)

    def cached_dir(self, relative: str) -> list[str] | None:
        return self._dirs.get(relative)

    # -- loading (in a thread) ---------------------------------------------------------------
    def load(self, files: Sequence[str], dirs: Sequence[str] = ()) -> None:
        for relative in files:
            real = self.allowed(relative)
            self._verdicts[relative] = real is not None
            self._real[relative] = real
            if real is not None and real not in self._texts:
                self._store(real, self._read(real))
        for relative in dirs:
            self._dirs[relative] = self._list(relative)
        self.generation += 1

    def allowed(self, relative: str) -> Path | None:
        """The real path when the agent may read ``relative``, else None."""
        try:
            real = self._confinement.resolve(relative)
        except WorkspaceError:
            return None
        return None if self._confinement.hidden(real) else real

    def _store(self, real: Path, entry: _DiskEntry) -> None:
        with self._texts_lock:
            previous = self._texts.pop(real, None)
            if previous is not None:
                self._cached_bytes -= _size(previous)
            self._texts[real] = entry
            self._cached_bytes += _size(entry)
            while self._cached_bytes > CACHE_BYTES and len(self._texts) > 1:
                _, evicted = self._texts.popitem(last=False)
                self._cached_bytes -= _size(evicted)

    def _read(self, real: Path) -> _DiskEntry:
        try:
            with open(real, "rb") as handle:
                status = os.fstat(handle.fileno())
                stamp = (status.st_mtime_ns, status.st_size)
                if status.st_size > MAX_FILE_BYTES:
                    return _DiskEntry(None, stamp)
                data = handle.read()
        except OSError:
            return _DiskEntry(None, None)
        if b"\x00" in data[:8192]:
            return _DiskEntry(None, stamp)
        text = data.decode("utf-8", errors="replace")
        return _DiskEntry(text.replace("\r\n", "\n"), stamp)

    def _list(self, relative: str) -> list[str]:
        directory = self.root / relative if relative else self.root
        try:
            names = sorted(entry.name for entry in os.scandir(directory) if entry.is_file())
        except OSError:
            return []
        prefix = f"{relative}/" if relative else ""
        return [name for name in names if self.allowed(prefix + name) is not None]

    def recheck_due(self) -> bool:
        return time.monotonic() - self._checked_at >= RECHECK_S

    def recheck(self) -> None:
        """Decide confinement again (a .gitignore may have changed), re-read the cached files
        whose mtime or size changed, and re-list directories."""
        self._checked_at = time.monotonic()
        self._confinement = Workspace([self.root], exclude=list(self.exclude))
        for relative, before in list(self._real.items()):
            real = self.allowed(relative)
            if real != before:  # allowed or refused now, or it leads elsewhere
                self._verdicts[relative] = real is not None
                self._real[relative] = real
                self.generation += 1
        with self._texts_lock:
            texts = list(self._texts.items())
        for real, entry in texts:
            try:
                status = os.stat(real)
                stamp: tuple[int, int] | None = (status.st_mtime_ns, status.st_size)
            except OSError:
                stamp = None
            if stamp != entry.stamp:
                self._store(real, self._read(real))
                self.generation += 1
        for relative, names in list(self._dirs.items()):
            listed = self._list(relative)
            if listed != names:
                self._dirs[relative] = listed
                self.generation += 1


class GatherStopped(Exception):
    """The request that wanted this context was cancelled or ran out of time."""


class FilesView:
    """One gather's :class:`~glm_lsp.context.definitions.Sources`: open buffers (confined
    too: an open ``.env`` is still a secret), then the disk cache; what is not cached yet is
    recorded in ``misses`` instead of read. Once ``stop`` is set, every read raises
    :class:`GatherStopped`: the gathering thread ends at its next file."""

    def __init__(
        self,
        files: ConfinedFiles,
        buffers: Mapping[str, str],
        stop: threading.Event | None = None,
    ) -> None:
        self._files = files
        self._buffers = buffers
        self._stop = stop
        self.misses: set[str] = set()
        self.dir_misses: set[str] = set()

    def _check_stop(self) -> None:
        if self._stop is not None and self._stop.is_set():
            raise GatherStopped

    def read(self, relative: str) -> str | None:
        self._check_stop()
        verdict = self._files.verdict(relative)
        if verdict is None:  # undecided: deciding may read .gitignore files
            self.misses.add(relative)
            return None
        if not verdict:
            return None
        if relative in self._buffers:
            return self._buffers[relative]
        entry = self._files.cached(relative)
        if entry is None:
            self.misses.add(relative)
            return None
        return entry.text

    def list_dir(self, relative: str) -> list[str]:
        self._check_stop()
        names = self._files.cached_dir(relative)
        if names is None:
            self.dir_misses.add(relative)
            return []
        return names


def relative_path(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


@dataclass
class _Remembered:
    key: str  # the document's import lines
    generation: int  # of the files they were resolved against
    bindings: Bindings


class ContextGatherer:
    """The server's context finder: one :class:`ConfinedFiles` per workspace folder, the
    parsed definitions of every file seen, each document's import bindings, and the order
    of the last completion block per document (kept so the prompt's prefix stays put)."""

    def __init__(self) -> None:
        self._files: dict[Path, ConfinedFiles] = {}
        self._index = DefinitionIndex()
        self._bindings: dict[str, _Remembered] = {}
        self._order: dict[str, list[tuple[str, str]]] = {}
        self._loading: asyncio.Future[None] | None = None
        self._background: set[asyncio.Future[None]] = set()
        # One thread parses for every request, one request at a time: the caches above are
        # never written by two threads at once, and a runaway parse cannot pile up threads.
        self._parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="glm-context")

    def files_for(self, root: Path, exclude: Sequence[str]) -> ConfinedFiles:
        files = self._files.get(root)
        if files is None or files.exclude != tuple(exclude):
            files = ConfinedFiles(root, exclude)
            self._files[root] = files
        return files

    async def gather(
        self,
        files: ConfinedFiles,
        document: Document,
        start: int,
        end: int,
        buffers: Mapping[str, str],
        *,
        max_chars: int,
        wait_s: float | None,
        sticky: bool = False,
    ) -> Context:
        """The context for ``document.text[start:end]``; ``sticky`` (completions): every
        imported name, in the order of the document's last block, so that the block stays
        the same while the user types. The parse runs in the gatherer's thread, and the
        whole gather (parse and disk) takes at most ``wait_s`` seconds (None:
        :data:`MAX_GATHER_S`): past it the request gets what is ready (no context when the
        parse itself is late), and what is still loading serves the next request."""
        if max_chars <= 0 or language_of(document.path) is None:
            return Context()
        deadline = time.monotonic() + (MAX_GATHER_S if wait_s is None else wait_s)
        for grammar in unloaded_for(document.path):  # once per language, off the loop
            await asyncio.to_thread(load, grammar)
        context = Context()
        # A completion in a document of ordinary size parses on the loop: in a thread every
        # keystroke would pay a GIL convoy (the loop waits out a switch interval each time
        # the parse holds the GIL), and its parse is bounded anyway (linear regexes; of a
        # large document only the head and the cursor's surroundings). Actions parse their
        # selection, which may be megabytes: in the thread.
        on_loop = sticky and len(document.text) <= ON_LOOP_MAX_CHARS
        for _ in range(6):  # each round resolves one more level of imports
            stop = threading.Event()
            view = files.view(buffers, stop)
            if on_loop:
                context = self._gather_once(
                    files, view, document, start, end, buffers, max_chars, sticky
                )
                if not view.misses and not view.dir_misses:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    self._load_in_background(files, view)
                    break
                if not await self._load(files, view, left):
                    break
                continue
            parsing = asyncio.get_running_loop().run_in_executor(
                self._parser,
                self._gather_once,
                files,
                view,
                document,
                start,
                end,
                buffers,
                max_chars,
                sticky,
            )
            parsing.add_done_callback(_retrieve)
            try:
                # At least a moment for the parse, even when the disk used the budget.
                bound = max(deadline - time.monotonic(), 0.05)
                context = await asyncio.wait_for(asyncio.shield(parsing), bound)
            except asyncio.TimeoutError:
                stop.set()
                log.warning("context for %s took over its time bound: left out", document.path)
                return Context()
            except GatherStopped:
                return Context()
            except asyncio.CancelledError:
                stop.set()  # the request is gone: its parse ends at its next file
                raise
            if not view.misses and not view.dir_misses:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                self._load_in_background(files, view)
                break
            if not await self._load(files, view, left):
                break
        if files.recheck_due():
            self._recheck_in_background(files)
        if sticky:
            self._order[document.path] = [d.key for d in context.definitions]
        return context

    @staticmethod
    async def _load(files: ConfinedFiles, view: FilesView, wait_s: float) -> bool:
        """Read what ``view`` missed, in a thread; False when that took over ``wait_s``
        (it goes on loading for the next request)."""
        loading = asyncio.ensure_future(
            asyncio.to_thread(files.load, sorted(view.misses), sorted(view.dir_misses))
        )
        try:
            await asyncio.wait_for(asyncio.shield(loading), wait_s)
        except asyncio.TimeoutError:
            return False
        return True

    def _gather_once(
        self,
        files: ConfinedFiles,
        view: FilesView,
        document: Document,
        start: int,
        end: int,
        buffers: Mapping[str, str],
        max_chars: int,
        sticky: bool,
    ) -> Context:
        analysed, _ = analysed_part(document, start, end)  # a large file: head and cursor
        key = import_key(analysed.text)
        remembered = self._bindings.get(document.path)
        if (
            remembered is not None
            and remembered.key == key
            and remembered.generation == files.generation
        ):
            bindings = remembered.bindings
        else:
            generation = files.generation
            bindings = bindings_of(analysed, view, self._index)
            if not view.misses and not view.dir_misses:  # complete: worth keeping
                self._bindings[document.path] = _Remembered(key, generation, bindings)
        return gather(
            document,
            start,
            end,
            view,
            max_chars=max_chars,
            open_paths=[p for p in buffers if p != document.path],
            index=self._index,
            bindings=bindings,
            previous=self._order.get(document.path, ()) if sticky else (),
            all_imports=sticky,
        )

    def _load_in_background(self, files: ConfinedFiles, view: FilesView) -> None:
        misses, dir_misses = sorted(view.misses), sorted(view.dir_misses)
        self._keep(asyncio.ensure_future(asyncio.to_thread(files.load, misses, dir_misses)))

    def _recheck_in_background(self, files: ConfinedFiles) -> None:
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(asyncio.to_thread(files.recheck))
            self._keep(self._loading)

    def _keep(self, future: asyncio.Future[None]) -> None:
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    async def fixtures(
        self, files: ConfinedFiles, test_path: str, buffers: Mapping[str, str], max_chars: int
    ) -> str:
        """The pytest fixtures the conftest.py files above ``test_path`` offer."""
        directory = test_path.rsplit("/", 1)[0] if "/" in test_path else ""
        places: list[str] = []
        while True:
            places.append(f"{directory}/conftest.py" if directory else "conftest.py")
            if not directory:
                break
            directory = directory.rsplit("/", 1)[0] if "/" in directory else ""
        if "tests/conftest.py" not in places:
            places.append("tests/conftest.py")
        await asyncio.to_thread(files.load, [p for p in places if files.verdict(p) is None])
        view = files.view(buffers)
        found: list[Definition] = []
        for place in places:
            text = view.read(place)
            if text is not None:
                found += fixtures_in(text, place)
        return render_fixtures(found, max_chars)


def _retrieve(future: asyncio.Future[Context]) -> None:
    """Take a parse's outcome even when no one waits for it any more (timed out or
    cancelled), so that asyncio never reports it as never retrieved."""
    if not future.cancelled():
        future.exception()


def open_buffers(documents: Mapping[str, tuple[Path | None, str]], root: Path) -> dict[str, str]:
    """Open documents under ``root`` by workspace-relative path (``\\n`` line endings)."""
    buffers: dict[str, str] = {}
    for path, text in documents.values():
        relative = None if path is None else relative_path(path, root)
        if relative is not None and language_of(relative) is not None:
            buffers[relative] = text.replace("\r\n", "\n")
    return buffers
