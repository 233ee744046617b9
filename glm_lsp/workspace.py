"""The agent's view of the workspace: confined paths over a staged overlay.

Reads see the editor's open buffers (unsaved text) and the edits staged so far; writes,
creates, deletes and renames are only staged. Nothing here touches the disk except to read.
At the end :meth:`Workspace.changes` says what the staged state amounts to, as file changes
in an order an editor can apply one after the other.

Every path the model names goes through :meth:`Workspace.resolve`, which is the single place
that enforces confinement: inside a workspace folder (after following symlinks), never in
``.git/``, never matching ``agent.exclude``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from glm_lsp.linear_match import TextPattern, glob_spec

# Above this size a file is described, never read or searched: the model cannot use it and
# one read would blow the conversation up.
HUGE_FILE_BYTES = 4 * 1024 * 1024
# Texts read ahead while the model thinks on its first turn, at most this much.
PRELOAD_BYTES = 32 * 1024 * 1024
# Directories no one wants an agent to walk, even without a .gitignore saying so.
WALK_SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".tox"}
)
_BINARY_SNIFF_BYTES = 8192


class WorkspaceError(Exception):
    """A request the agent may not or cannot do; the message is written for the model."""


@dataclass(frozen=True)
class TextChange:
    """New text for a file that existed when the run started (edit it before any rename)."""

    path: Path
    old_text: str
    new_text: str


@dataclass(frozen=True)
class CreateChange:
    path: Path
    text: str


@dataclass(frozen=True)
class DeleteChange:
    path: Path


@dataclass(frozen=True)
class RenameChange:
    old_path: Path
    new_path: Path


FileChange = TextChange | CreateChange | DeleteChange | RenameChange


@dataclass(frozen=True)
class _Root:
    given: Path  # as the editor named it: what edits must use
    real: Path  # symlinks resolved: what confinement compares against


@dataclass(frozen=True)
class _Staged:
    present: bool
    origin: Path | None  # the file (as it was at the start) this content comes from
    text: str | None  # None while present: the origin's text, unchanged


def _is_within(path: Path, root: Path) -> bool:
    # On strings: pathlib's parents/relative_to cost more than a listing of 1,000 files.
    inner, outer = str(path), str(root)
    return inner == outer or inner.startswith(outer if outer.endswith(os.sep) else outer + os.sep)


def _relative(path: Path, root: Path) -> str:
    """``path`` below ``root`` (which contains it) with ``/`` separators; ``""`` for root."""
    rest = str(path)[len(str(root)) :].lstrip(os.sep)
    return rest.replace(os.sep, "/") if os.sep != "/" else rest


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


class Workspace:
    """Confined, staged access to the workspace folders for one agent run."""

    def __init__(
        self,
        folders: Sequence[Path],
        *,
        open_buffers: Mapping[Path, str] | None = None,
        exclude: Sequence[str] | None = None,
    ) -> None:
        if not folders:
            raise ValueError("an agent workspace needs at least one folder")
        self._roots = [_Root(Path(os.path.abspath(f)), Path(os.path.realpath(f))) for f in folders]
        if exclude is None:
            from glm_lsp.config import DEFAULT_EXCLUDE  # lazy: pydantic is not needed to start

            exclude = DEFAULT_EXCLUDE
        # Case-insensitive: on macOS and Windows `.GIT/config` IS `.git/config` and
        # `.Env` IS `.env`, so both sides are lower-cased before matching.
        self._exclude = glob_spec([pattern.lower() for pattern in exclude])
        self._buffers = {
            Path(os.path.realpath(p)): text for p, text in (open_buffers or {}).items()
        }
        self._staged: dict[Path, _Staged] = {}
        self._disk_text: dict[Path, str] = {}  # what the run read from disk: the base of edits
        self._unreadable: dict[Path, str] = {}  # binary, huge or unreadable: why
        self._gitignores: dict[str, GitIgnoreSpec | None] = {}
        # The disk as the run first listed it: a run works on one snapshot, and a search of
        # 1,000 files should not walk the tree again.
        self._walks: dict[Path, list[tuple[Path, str]]] = {}

    @property
    def root(self) -> Path:
        """The first workspace folder: relative paths are relative to it."""
        return self._roots[0].given

    # -- confinement -------------------------------------------------------------------

    def resolve(self, raw: str) -> Path:
        """The real path for a path the model named, or WorkspaceError when it is off limits."""
        if not raw or not raw.strip() or "\x00" in raw:
            raise WorkspaceError("the path is empty; give a path relative to the workspace root")
        requested = Path(raw)
        if requested.is_absolute():
            candidate = Path(os.path.normpath(requested))
            root = self._root_containing(candidate, lexical=True)
        else:
            candidate = Path(os.path.normpath(self._roots[0].given / requested))
            root = self._roots[0] if _is_within(candidate, self._roots[0].given) else None
        if root is None:
            raise WorkspaceError(
                f"{raw} is outside the workspace; use a path relative to the workspace root"
            )
        base = root.given if _is_within(candidate, root.given) else root.real
        self._check_allowed(raw, candidate.relative_to(base))
        real = Path(os.path.realpath(candidate))
        real_root = self._root_containing(real, lexical=False)
        if real_root is None:
            raise WorkspaceError(f"{raw} is a link that leads outside the workspace; not allowed")
        self._check_allowed(raw, real.relative_to(real_root.real))
        return real

    def _root_containing(self, path: Path, *, lexical: bool) -> _Root | None:
        for root in self._roots:
            if _is_within(path, root.real) or (lexical and _is_within(path, root.given)):
                return root
        return None

    def _check_allowed(self, raw: str, relative: Path) -> None:
        if _in_git_dir(relative.parts):
            raise WorkspaceError(f"{raw} is inside .git/, which the agent may not touch")
        if relative.parts and self._excluded(relative.as_posix()):
            raise WorkspaceError(
                f"{raw} matches agent.exclude (secrets and keys are off limits); work without it"
            )

    def display(self, real: Path) -> str:
        """How the model sees a path: relative to its folder's root, POSIX separators."""
        root = self._root_containing(real, lexical=False)
        if root is None:
            return real.as_posix()
        return self._display_relative(root, _relative(real, root.real))

    def folder_and_relative(self, real: Path) -> tuple[Path, str] | None:
        """The workspace folder holding ``real`` (as the editor named it) and the path below
        it (POSIX); None outside every folder."""
        root = self._root_containing(real, lexical=False)
        return None if root is None else (root.given, _relative(real, root.real))

    def _display_relative(self, root: _Root, relative: str) -> str:
        if root is self._roots[0]:
            return relative or "."
        return f"{root.given.as_posix()}/{relative}" if relative else root.given.as_posix()

    def client_path(self, real: Path) -> Path:
        """The path under the folder as the editor named it (for URIs in edits)."""
        root = self._root_containing(real, lexical=False)
        return real if root is None else root.given / _relative(real, root.real)

    # -- reading -----------------------------------------------------------------------

    def exists(self, path: Path) -> bool:
        staged = self._staged.get(path)
        if staged is not None:
            return staged.present
        return self._base_exists(path)

    def is_dir(self, path: Path) -> bool:
        return path not in self._staged and path.is_dir()

    def read_text(self, path: Path) -> str:
        """Current text: staged, else the open buffer, else the disk."""
        staged = self._staged.get(path)
        if staged is not None:
            if not staged.present:
                raise WorkspaceError(
                    f"{self.display(path)} has been deleted or renamed in this run"
                )
            if staged.text is not None:
                return staged.text
            assert staged.origin is not None
            return self.base_text(staged.origin)
        if path in self._buffers or path in self._disk_text:  # no stat calls while searching
            return self.base_text(path)
        if self.is_dir(path):
            raise WorkspaceError(f"{self.display(path)} is a directory; use list_files for it")
        if not self._base_exists(path):
            raise WorkspaceError(
                f"{self.display(path)} does not exist; use list_files or search to find the file"
            )
        return self.base_text(path)

    def offer_buffer(self, path: Path, text: str) -> None:
        """The editor's unsaved text of ``path`` (a real path), fetched on demand by a front door
        that cannot list its open buffers up front. It wins over the disk's text (read ahead
        or not), but never over what the run staged or a buffer it already has."""
        if path not in self._staged and path not in self._buffers:
            self._buffers[path] = text

    def base_text(self, path: Path) -> str:
        """The text the run started from (open buffer or disk), read once and remembered."""
        if path in self._buffers:
            return self._buffers[path]
        cached = self._disk_text.get(path)
        if cached is not None:
            return cached
        if path in self._unreadable:
            raise WorkspaceError(self._unreadable[path])
        try:
            text = self._read_disk(path)
        except WorkspaceError as exc:
            self._unreadable[path] = str(exc)
            raise
        self._disk_text[path] = text
        return text

    def _read_disk(self, path: Path) -> str:
        try:
            with open(path, "rb") as handle:  # one open: a search reads 1,000 files
                # fstat on the open file, then read(): read(HUGE + 1) would allocate (and free)
                # a multi-megabyte buffer per file, 3x slower over a whole workspace.
                size = os.fstat(handle.fileno()).st_size
                if size > HUGE_FILE_BYTES:
                    raise WorkspaceError(
                        f"{self.display(path)} is {_human_size(size)}, too large "
                        "for the agent to read; work around it"
                    )
                data = handle.read()
        except OSError as exc:
            raise WorkspaceError(
                f"{self.display(path)} cannot be read ({exc.strerror or exc})"
            ) from exc
        if b"\x00" in data[:_BINARY_SNIFF_BYTES]:
            raise WorkspaceError(
                f"{self.display(path)} is a binary file ({_human_size(len(data))}); not shown"
            )
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WorkspaceError(
                f"{self.display(path)} is not UTF-8 text ({_human_size(len(data))}); not shown"
            ) from exc

    def content_source(self, path: Path) -> str | Path:
        """What a copy of a current file (from :meth:`files_under`) holds: its text, staged
        or in an open buffer, else the file on disk to copy bytes from (a file renamed in
        this run: the original)."""
        staged = self._staged.get(path)
        if staged is not None:
            if not staged.present:
                raise WorkspaceError(f"{self.display(path)} has been deleted in this run")
            if staged.text is not None:
                return staged.text
            assert staged.origin is not None
            path = staged.origin
        return self._buffers.get(path, path)

    def _base_exists(self, path: Path) -> bool:
        return path in self._buffers or path.is_file()

    def preload(self, stop: threading.Event, *, max_bytes: int = PRELOAD_BYTES) -> int:
        """Read the listed files' texts ahead (in a thread, while the model thinks) so the
        first search does not wait for the disk; returns how many files were read. Touches
        only the disk caches, never the staged state."""
        loaded = budget = 0
        for root in self._roots:
            for path, _ in self._walk_disk(root.real, root):
                if stop.is_set() or budget > max_bytes:
                    return loaded
                try:
                    budget += len(self.base_text(path))
                    loaded += 1
                except WorkspaceError:
                    continue
        return loaded

    # -- listing -----------------------------------------------------------------------

    def files_under(self, start: Path | None = None) -> list[Path]:
        """Current files under a directory (all folders when None), sorted, as real paths.

        Honours .gitignore files and agent.exclude, skips symlinks (their targets inside the
        workspace are listed under their own name) and includes staged new files.
        """
        starts = [start] if start is not None else [r.real for r in self._roots]
        found: dict[Path, str] = {}
        for top in starts:
            root = self._root_containing(top, lexical=False)
            if root is None:
                continue
            found.update(self._walk_disk(top, root))
        for path, staged in self._staged.items():
            if not staged.present:
                found.pop(path, None)
            elif any(_is_within(path, top) for top in starts) and not self._ignored(path):
                found[path] = self.display(path)
        return sorted(found, key=found.__getitem__)

    def _walk_disk(self, top: Path, root: _Root) -> list[tuple[Path, str]]:
        """Files below ``top`` on disk that are not ignored, with how the model sees them
        (cached per run)."""
        cached = self._walks.get(top)
        if cached is not None:
            return cached
        top_relative = _relative(top, root.real)
        found: list[tuple[Path, str]] = []
        stack = [(str(top), top_relative, self._ancestor_specs(root.real, top_relative))]
        while stack:
            directory, relative_dir, inherited = stack.pop()
            own = self._gitignore(directory)
            specs = [*inherited, (relative_dir, own)] if own is not None else inherited
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                if entry.name.lower() == ".git" or entry.is_symlink():
                    continue
                relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in WALK_SKIP_DIRS and not self._matches(
                        relative + "/", specs
                    ):
                        stack.append((entry.path, relative, specs))
                elif entry.is_file(follow_symlinks=False) and not self._matches(relative, specs):
                    found.append((Path(entry.path), self._display_relative(root, relative)))
        self._walks[top] = found
        return found

    def _ancestor_specs(self, root: Path, relative: str) -> list[tuple[str, GitIgnoreSpec]]:
        """The .gitignore files of the directories from ``root`` down to the parent of
        ``relative``, each with its directory relative to ``root``."""
        parts = relative.split("/") if relative else []
        specs: list[tuple[str, GitIgnoreSpec]] = []
        for depth in range(len(parts)):
            base = "/".join(parts[:depth])
            spec = self._gitignore(os.path.join(root, base) if base else str(root))
            if spec is not None:
                specs.append((base, spec))
        return specs

    def _matches(self, relative: str, specs: list[tuple[str, GitIgnoreSpec]]) -> bool:
        """Excluded, or ignored by one of the .gitignore files above it."""
        if self._excluded(relative):
            return True
        for base, spec in specs:
            if spec.match_file(relative[len(base) + 1 :] if base else relative):
                return True
        return False

    def _ignored(self, path: Path) -> bool:
        """For a single (staged) file: inside .git, excluded or gitignored."""
        root = self._root_containing(path, lexical=False)
        if root is None:
            return True
        relative = _relative(path, root.real)
        if _in_git_dir(relative.split("/")):
            return True
        return self._matches(relative, self._ancestor_specs(root.real, relative))

    def hidden(self, path: Path) -> bool:
        """True when listing and search leave ``path`` (a real path) out: outside the
        folders, in .git/, excluded or gitignored."""
        return self._ignored(path)

    def _excluded(self, relative: str) -> bool:
        return self._exclude.match_file(relative.lower())

    def _gitignore(self, directory: str) -> GitIgnoreSpec | None:
        if directory not in self._gitignores:
            try:
                with open(
                    os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace"
                ) as f:
                    # The repository wrote these globs: match them in linear time.
                    spec: GitIgnoreSpec | None = glob_spec(f.read().splitlines())
            except OSError:
                spec = None
            self._gitignores[directory] = spec
        return self._gitignores[directory]

    def search(
        self, pattern: TextPattern, start: Path | None = None, *, limit: int = 200
    ) -> tuple[list[tuple[Path, int, str]], int, int]:
        """Matching lines as (path, 1-based line, line text), at most ``limit``; also how many
        matches there are in all and how many files were skipped (binary or too large)."""
        matches: list[tuple[Path, int, str]] = []
        total = 0
        skipped = 0
        for path in self.files_under(start):
            try:
                # Listed files exist: skip read_text's existence checks (stat calls).
                text = self.read_text(path) if path in self._staged else self.base_text(path)
            except WorkspaceError:
                skipped += 1
                continue
            if len(matches) >= limit:  # only counting now: let the regex engine do it
                total += len(pattern.findall(text))
                continue
            total += matching_lines(pattern, path, text, matches, limit)
        return matches, total, skipped

    # -- staging -----------------------------------------------------------------------

    def write(self, path: Path, text: str) -> bool:
        """Stage new text for a file; True when the file is new."""
        if self.is_dir(path):
            raise WorkspaceError(f"{self.display(path)} is a directory; give a file path")
        staged = self._staged.get(path)
        if staged is not None and staged.present:
            self._staged[path] = _Staged(True, staged.origin, text)
            return False
        if staged is None and self._base_exists(path):
            self.base_text(path)  # binary or huge files may not be overwritten as text
            self._staged[path] = _Staged(True, path, text)
            return False
        self._staged[path] = _Staged(True, None, text)
        return True

    def delete(self, path: Path) -> None:
        if not self.exists(path):
            raise WorkspaceError(self._missing(path))
        self._staged[path] = _Staged(False, None, None)

    def rename(self, source: Path, target: Path) -> None:
        if not self.exists(source):
            raise WorkspaceError(self._missing(source))
        if self.exists(target) or self.is_dir(target):
            raise WorkspaceError(
                f"{self.display(target)} already exists; delete_file it first or pick another name"
            )
        staged = self._staged.get(source) or _Staged(True, source, None)
        self._staged[target] = staged
        self._staged[source] = _Staged(False, None, None)

    def _missing(self, path: Path) -> str:
        if self.is_dir(path):
            return f"{self.display(path)} is a directory; the agent changes files one by one"
        return f"{self.display(path)} does not exist; use list_files to see the files"

    # -- result ------------------------------------------------------------------------

    def changes(self) -> list[FileChange]:
        """What the staged state amounts to, in apply order: text edits on files as they were
        at the start, then deletes, renames (chains ordered, cycles broken through a temporary
        name), creates."""
        present = {p: s for p, s in self._staged.items() if s.present}
        claimed: dict[Path, Path] = {}  # original file -> where its content ends up
        for path, staged in present.items():
            if staged.origin is not None:
                claimed[staged.origin] = path
        for path, staged in list(present.items()):
            if staged.origin is not None or not self._base_exists(path):
                continue
            moved_to = claimed.get(path)
            if moved_to is not None:
                # Renamed away and written again: the editor could not create a file where
                # one still is, so keep the file here (an edit) and create the new name.
                moved = present[moved_to]
                text = moved.text if moved.text is not None else self._text_or_none(path)
                if text is None:
                    continue
                present[moved_to] = _Staged(True, None, text)
            # Deleted (or renamed away) and written again: for the editor, an edit.
            claimed[path] = path
            present[path] = _Staged(True, path, staged.text)

        edits: list[FileChange] = []
        for origin, final in sorted(claimed.items()):
            new_text = present[final].text
            if new_text is not None:
                old_text = self.base_text(origin)
                if new_text != old_text:
                    edits.append(TextChange(origin, old_text, new_text))
        deletes: list[FileChange] = [
            DeleteChange(p)
            for p in sorted(self._staged)
            if self._base_exists(p) and p not in claimed
        ]
        renames = self._ordered_renames({o: f for o, f in claimed.items() if o != f})
        creates: list[FileChange] = [
            CreateChange(p, s.text or "") for p, s in sorted(present.items()) if s.origin is None
        ]
        return edits + deletes + renames + creates

    def _text_or_none(self, path: Path) -> str | None:
        try:
            return self.base_text(path)
        except WorkspaceError:
            return None

    @staticmethod
    def _ordered_renames(pending: dict[Path, Path]) -> list[FileChange]:
        ordered: list[FileChange] = []
        while pending:
            ready = sorted(source for source, target in pending.items() if target not in pending)
            if ready:
                for source in ready:
                    ordered.append(RenameChange(source, pending.pop(source)))
                continue
            source = min(pending)  # a cycle (a <-> b): step aside first
            temporary = source.with_name(source.name + ".glm-agent-tmp")
            ordered.append(RenameChange(source, temporary))
            pending[temporary] = pending.pop(source)
        return ordered


def matching_lines(
    pattern: TextPattern,
    path: Path,
    text: str,
    matches: list[tuple[Path, int, str]],
    limit: int,
) -> int:
    """Append the lines of ``text`` that match (one entry per line) until ``limit``;
    returns how many matches there were."""
    count = 0
    line_number, counted_to, last_line_start = 1, 0, -1
    for match in pattern.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if line_start == last_line_start:
            continue
        if len(matches) >= limit:
            return count + len(pattern.findall(text, match.start()))
        count += 1
        last_line_start = line_start
        line_number += text.count("\n", counted_to, line_start)
        counted_to = line_start
        line_end = text.find("\n", line_start)
        line = text[line_start : line_end if line_end != -1 else len(text)]
        matches.append((path, line_number, line.rstrip("\r")))
    return count


def _in_git_dir(parts: Sequence[str]) -> bool:
    return any(part.lower() == ".git" for part in parts)
