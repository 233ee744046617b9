"""The user's check (``agent.checkCommand``) run in a scratch copy of the workspace.

Knows nothing of LSP. :class:`ScratchCopy` writes the workspace as the agent sees it (disk,
open buffers, the run's staged overlay) into a fresh temporary folder, in memory when the
machine has a memory-backed one (``$XDG_RUNTIME_DIR``, ``/dev/shm``; ``TMPDIR`` wins), and
re-syncs it for the next check of the same run. :func:`run_command` runs an argv there (no
shell) with a time limit, its whole process group killed at the limit or on cancel, and
keeps the end of its output. :class:`CheckRunner` is the ``run_check`` tool of one agent
run: it asks once for consent, counts the runs and remembers the last result.

Why a check cannot change the user's folder through the copy: the copy is never inside a
workspace folder, and it holds only regular files this module created (new inodes: bytes
copied, never hard links, never symlinks), so everything the check writes, creates or
deletes below its working directory happens in the copy. Before a re-sync the copy is
checked: its folders must still be the ones made here, and a file whose inode, size or
mtime is not what was written (a hard link a check put in its place included) is removed and
written anew, never written through. The copy is removed when the check (or the run) ends.

Folders ignored by ``.gitignore`` and the agent's skip list (``node_modules``, ``.venv``,
build caches) are not copied at all, so no check pays for them: a relative program such as
``.venv/bin/python`` that is not in the copy runs from the user's folder, and Python's
byte-code cache goes to the scratch folder (``PYTHONPYCACHEPREFIX``). Confinement is the
agent's: nothing in ``.git/`` or matching ``agent.exclude`` is copied.

The check runs code GLM wrote, so on Linux it runs under bubblewrap (``sandboxed``; see
:mod:`glm_lsp.agent.check_sandbox` for what it sees): then the copy is the only host folder
it can write, the tool folders are shown read-only at their place, no other process, no
network, an environment from scratch, and nothing it starts outlives it. Unconfined (only
after the user's full-rights answer) it has the user's rights and environment, less the key.
Both ways each process has a memory and a file-size limit (``prlimit``) and the check is
stopped once it has written ``write_bytes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from glm_lsp.agent.check_consent import command_text
from glm_lsp.agent.check_sandbox import (
    SandboxOptions,
    find_bwrap,
    plan_sandbox,
    sandbox_environment,
)
from glm_lsp.log import redact
from glm_lsp.sandbox import bwrap_argv
from glm_lsp.workspace import FileChange, Workspace, WorkspaceError

# More checks than this in one agent run are refused: the model should finish and report.
MAX_CHECKS_PER_RUN = 5
# Names of variables that hold GLM keys, whatever the setting says: never in a check's env.
_KEY_NAME_WORDS = ("GLM", "ZAI", "BIGMODEL", "ZHIPU")
_SECRET_NAME_WORDS = ("KEY", "TOKEN", "SECRET")
_READ_CHUNK = 64 * 1024
# After the kill, output still buffered in the pipe is read for at most this long.
_DRAIN_SECONDS = 1.0

CHECK_PROMPT = """

Checking your change:
- run_check runs the project's check ({command}) on a scratch copy of the workspace that \
holds your changes, and answers with its exit code and the end of its output.
- Call it after your edits, before you finish. When it fails, read the output, fix the \
cause and call it again; use it a few times at most, never before you have changed anything.
- When you finish, say whether the last check passed."""


# -- the scratch copy ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Written:
    """A file this module wrote into the copy: where its content came from, and what it
    was once written (a difference means the check changed or replaced it; a new inode
    may be a hard link to a file of the user's, never to be written through)."""

    source: str | tuple[str, int, int]  # the text, or (disk path, size, mtime_ns)
    identity: tuple[int, int, int]  # (inode, size, mtime_ns)


class ScratchCopy:
    """A temporary copy of a workspace folder as the agent sees it.

    :meth:`prepare` makes one; :meth:`sync` brings it up to date again, so the checks of one
    run copy only what changed (GLM's edits, files the check itself created, changed or
    deleted) instead of every file each time. Remove it with :meth:`remove` (or use it as a
    context manager).
    """

    def __init__(self, base: Path, root: Path) -> None:
        self.base = base  # the temporary folder: the copy, and beside it the byte-code cache
        self.root = root  # the copy of the workspace folder: the check's working directory
        self.files = 0  # how many files the last sync left in the copy
        self.written = 0  # how many of them it had to (re)write
        self._written: dict[str, _Written] = {}
        self._identity: tuple[int, int] | None = None  # the root folder's (device, inode)
        self._synced = False  # a check may have run in it since

    @classmethod
    def prepare(cls, workspace: Workspace) -> ScratchCopy:
        """Copy the first workspace folder's current files: staged text, else the open
        buffer, else the bytes on disk. Raises WorkspaceError when it cannot."""
        real_root = os.path.realpath(workspace.root)
        parents = [p for p in (_memory_folder(), tempfile.gettempdir()) if p is not None]
        for index, parent in enumerate(parents):
            _sweep_abandoned(parent)
            base = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=parent))
            (base / _OWNER).write_text(str(os.getpid()), encoding="ascii")
            if _within(os.path.realpath(base), real_root):
                shutil.rmtree(base, ignore_errors=True)
                raise WorkspaceError(
                    "the temporary folder is inside the workspace; set TMPDIR to a folder "
                    "outside it"
                )
            copy = cls(base, base / (workspace.root.name or "workspace"))
            try:
                copy.root.mkdir()
                info = os.lstat(copy.root)
                copy._identity = (info.st_dev, info.st_ino)
                copy.sync(workspace)
            except OSError as exc:
                copy.remove()
                if exc.errno == errno.ENOSPC and index + 1 < len(parents):
                    continue  # the memory folder is full: the disk then
                raise
            except BaseException:
                copy.remove()
                raise
            return copy
        raise AssertionError("unreachable")  # the last parent returns or raises

    def sync(self, workspace: Workspace) -> None:
        """Make the copy hold exactly the workspace's current files again. OSError when the
        check broke the copy itself (then make a new one)."""
        self._check_intact()
        real_root = os.path.realpath(workspace.root)
        prefix_length = len(real_root.rstrip(os.sep)) + 1
        expected: dict[str, str | Path] = {}
        for path in workspace.files_under(Path(real_root)):
            try:
                expected[str(path)[prefix_length:]] = workspace.content_source(path)
            except WorkspaceError:
                continue
        # What a check did to the copy: anything it made goes, anything it changed is
        # written again (first sync: nothing to look at).
        stale = self._clean(expected) if self._synced else set(expected)
        self._synced = True
        target_root = str(self.root)
        made: set[str] = {target_root}
        self.written = 0
        for relative, source in expected.items():
            if relative not in stale and not self._source_changed(relative, source):
                continue
            target = os.path.join(target_root, relative)
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            written = _write(source, target)
            if written is None:
                self._written.pop(relative, None)
                continue
            self._written[relative] = written
            self.written += 1
        self.files = len(self._written)

    def _check_intact(self) -> None:
        """The copy's folders must still be the ones made here, not links a check put in
        their place (syncing through one could write into the user's folder)."""
        for folder in (self.base, self.root):
            info = os.lstat(folder)
            if not stat.S_ISDIR(info.st_mode):
                raise NotADirectoryError(f"{folder} is no longer the scratch folder")
        info = os.lstat(self.root)
        if (info.st_dev, info.st_ino) != self._identity:
            raise NotADirectoryError(f"{self.root} was replaced")

    def _clean(self, expected: Mapping[str, str | Path]) -> set[str]:
        """Remove what is in the copy but not expected; return the expected files that are
        missing or no longer as written."""
        folders = {""}
        for relative in expected:
            parent = os.path.dirname(relative)
            while parent not in folders:
                folders.add(parent)
                parent = os.path.dirname(parent)
        stale = {r for r in expected if r not in self._written}
        stack = [("", str(self.root))]
        while stack:
            relative_dir, directory = stack.pop()
            with os.scandir(directory) as entries:
                for entry in entries:
                    relative = f"{relative_dir}/{entry.name}" if relative_dir else entry.name
                    if os.sep != "/":
                        relative = relative.replace("/", os.sep)
                    if entry.is_dir(follow_symlinks=False):
                        if relative in folders:
                            stack.append((relative, entry.path))
                        else:
                            shutil.rmtree(entry.path)
                        continue
                    written = self._written.get(relative)
                    info = entry.stat(follow_symlinks=False)
                    if (
                        relative not in expected
                        or written is None
                        or entry.is_symlink()
                        or (info.st_ino, info.st_size, info.st_mtime_ns) != written.identity
                    ):
                        os.unlink(entry.path)
                        self._written.pop(relative, None)
                        if relative in expected:
                            stale.add(relative)
        for relative in expected:  # deleted by the check, or a folder in its place
            if relative not in stale and not os.path.lexists(os.path.join(self.root, relative)):
                stale.add(relative)
        return stale

    def _source_changed(self, relative: str, source: str | Path) -> bool:
        written = self._written.get(relative)
        if written is None:
            return True
        if isinstance(source, str):
            return written.source is not source and written.source != source
        try:
            info = os.stat(source)
        except OSError:
            return True
        return written.source != (str(source), info.st_size, info.st_mtime_ns)

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        self._written.clear()

    def __enter__(self) -> ScratchCopy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


# A new file, never an existing one and never through a link: whatever a check put at a
# path of the copy (a hard link or symlink to a user's file included) is replaced.
_CREATE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
)


def _write(source: str | Path, target: str) -> _Written | None:
    """Write one file of the copy as a new file; None when its source is gone. Bytes from
    disk keep their mode and times, so scripts stay executable and make-like tools see
    what changed. (Few system calls each: a first check copies every file.)"""
    try:
        if isinstance(source, str):
            fd = _create(target, 0o666)
            with open(fd, "wb") as out:
                out.write(source.encode("utf-8"))
                out.flush()
                info = os.fstat(fd)
            return _Written(source, (info.st_ino, info.st_size, info.st_mtime_ns))
        with open(source, "rb") as src:
            origin = os.fstat(src.fileno())
            fd = _create(target, origin.st_mode & 0o777)
            with open(fd, "wb") as out:
                shutil.copyfileobj(src, out)
                out.flush()
                times = (origin.st_atime_ns, origin.st_mtime_ns)
                os.utime(fd if os.utime in os.supports_fd else target, ns=times)
                info = os.fstat(fd)
    except FileNotFoundError:  # gone since it was listed: the check decides what that means
        return None
    except PermissionError:
        return None
    identity = (info.st_ino, info.st_size, info.st_mtime_ns)
    return _Written((str(source), origin.st_size, origin.st_mtime_ns), identity)


def _create(target: str, mode: int) -> int:
    try:
        return os.open(target, _CREATE_FLAGS, mode)
    except FileExistsError:  # something the check left there: remove it, never reuse it
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        else:
            os.unlink(target)
        return os.open(target, _CREATE_FLAGS, mode)


_PREFIX = "glm-check-"
_OWNER = "owner.pid"  # beside the copy: the server that made it
_swept: set[str] = set()


def _sweep_abandoned(parent: str) -> None:
    """Remove the copies of servers that are gone (killed before they could remove them),
    once per folder and server life."""
    if parent in _swept:
        return
    _swept.add(parent)
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith(_PREFIX) and e.is_dir()]
    except OSError:
        return
    for entry in entries:
        try:
            owner = int(Path(entry.path, _OWNER).read_text(encoding="ascii"))
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
        except (OSError, ValueError):  # not ours, another user's, or being made: leave it
            continue


# The copy is thrown away after the run: memory is the place for it when there is room (a
# thousand files are created in tens of milliseconds there, seconds on a busy disk).
_MEMORY_FOLDERS = ("XDG_RUNTIME_DIR", "/dev/shm")
_MEMORY_MIN_FREE = 512 * 1024 * 1024


def _memory_folder() -> str | None:
    """A memory-backed folder the user can write to, that allows running programs from it
    and has room; None elsewhere (macOS, Windows, small containers): the system's temp."""
    if os.environ.get("TMPDIR"):  # the user chose where temporary files go
        return None
    for candidate in _MEMORY_FOLDERS:
        folder = os.environ.get(candidate, "") if candidate.isupper() else candidate
        if not folder or not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
            continue
        try:
            info = os.statvfs(folder)
        except (OSError, AttributeError):
            continue
        noexec = getattr(os, "ST_NOEXEC", 0)
        if info.f_flag & noexec or info.f_bavail * info.f_frsize < _MEMORY_MIN_FREE:
            continue
        return folder
    return None


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# -- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """How one run of the check ended."""

    argv: tuple[str, ...]
    exit_code: int | None  # None: killed at the time limit
    output: str  # the end of the output (stdout and stderr interleaved)
    output_bytes: int  # how much it wrote in all
    seconds: float
    timed_out: bool = False
    timeout: float = 0.0
    stopped: str = ""  # why it was stopped before its end (it wrote too much)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.stopped

    def headline(self) -> str:
        if self.stopped:
            return f"`{command_text(self.argv)}` failed: {self.stopped}"
        if self.timed_out:
            return (
                f"timed out after {self.timeout:g} s (glm.agent.checkTimeout): "
                f"`{command_text(self.argv)}` was killed with its child processes"
            )
        return f"exit code {self.exit_code} ({self.seconds:.1f} s)"

    def for_model(self, max_bytes: int) -> str:
        """``exit code N`` (or that it timed out) and the end of the output, within
        ``max_bytes`` UTF-8 bytes in all."""
        head = self.headline()
        if not self.output:
            return head + "\n(no output)"
        kept = tail_text(self.output, max_bytes - len(head.encode("utf-8")) - 80)
        shown = len(kept.encode("utf-8"))
        if shown < self.output_bytes:
            head += f"\n[output: the last {shown} of {self.output_bytes} bytes]"
        return f"{head}\n{kept}"


def tail_text(text: str, max_bytes: int) -> str:
    """The end of ``text`` within ``max_bytes`` UTF-8 bytes, from a line start when it can."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    tail = data[len(data) - max(0, max_bytes) :].decode("utf-8", errors="ignore")
    newline = tail.find("\n")
    return tail[newline + 1 :] if 0 <= newline < len(tail) - 1 else tail


def check_environment(
    environ: Mapping[str, str], key_names: Sequence[str], key: str | None, scratch: Path
) -> dict[str, str]:
    """The user's environment without anything that holds a GLM key: the named variables,
    any whose name looks like a GLM key's, and any whose value contains the key."""
    names = {name.upper() for name in key_names}
    env: dict[str, str] = {}
    for name, value in environ.items():
        upper = name.upper()
        if upper in names or (
            any(w in upper for w in _KEY_NAME_WORDS) and any(w in upper for w in _SECRET_NAME_WORDS)
        ):
            continue
        if key and key in value:
            continue
        env[name] = value
    # The user's interpreter must not write byte-code into the user's folder (.venv).
    env.setdefault("PYTHONPYCACHEPREFIX", str(scratch / "pycache"))
    return env


def program_argv(argv: Sequence[str], copy_root: Path, user_root: Path) -> list[str]:
    """``argv`` with a relative program that the copy lacks (``.venv/bin/python``, from a
    folder that is not copied) taken from the user's folder, and a program named by its
    absolute path in the user's folder taken from the copy."""
    program = argv[0]
    is_path = os.sep in program or bool(os.altsep and os.altsep in program)
    if is_path and not os.path.isabs(program) and not (copy_root / program).exists():
        return [str(user_root / program), *argv[1:]]
    if os.path.isabs(program) and _within(program, str(user_root)):
        in_copy = copy_root / os.path.relpath(program, user_root)
        if in_copy.exists():  # the user's own script, as the copy holds it (GLM's changes)
            return [str(in_copy), *argv[1:]]
    return list(argv)


def _node_path(env: dict[str, str], user_root: Path) -> None:
    modules = user_root / "node_modules"
    if modules.is_dir():
        env["NODE_PATH"] = os.pathsep.join(filter(None, [str(modules), env.get("NODE_PATH")]))


async def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    max_output_bytes: int,
    shown: Sequence[str] | None = None,
    watch: Callable[[], str | None] | None = None,
) -> CheckResult:
    """Run ``argv`` (no shell) in ``cwd``; at ``timeout`` seconds, or when the calling task is
    cancelled, its whole process group is killed. Keeps the last ``max_output_bytes``.
    ``shown`` is the command as the user named it (``argv`` may wrap it); ``watch``, called
    a few times a second, stops the check when it returns a reason.

    The check is over when its process exits, even if something it started still holds its
    output open: the rest of its group is killed then, and output is read on for a moment.
    """
    started = time.monotonic()
    shown = tuple(argv if shown is None else shown)
    output = _Pipe()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output.child_end,
            stderr=asyncio.subprocess.STDOUT
            if output.child_end == asyncio.subprocess.PIPE
            else output.child_end,
            **_own_process_group(),
        )
    except OSError as exc:
        output.close()
        raise WorkspaceError(
            f"the check `{command_text(shown)}` could not start ({exc.strerror or exc}); "
            "glm.agent.checkCommand must name a program on PATH or a path in the workspace"
        ) from None
    finally:
        output.close_child_end()  # the child has it now: EOF once it and its children are gone
    tail = bytearray()
    total = 0

    async def read_output(reader: asyncio.StreamReader) -> None:
        nonlocal total
        while chunk := await reader.read(_READ_CHUNK):
            total += len(chunk)
            tail.extend(chunk)
            if len(tail) > 2 * max_output_bytes:
                del tail[: len(tail) - max_output_bytes]

    reading: asyncio.Future[None] | None = None
    timed_out = False
    stopped = ""
    try:
        reading = asyncio.ensure_future(read_output(await output.reader(process)))
        try:
            stopped = await asyncio.wait_for(_wait_watching(process, watch), timeout)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            timed_out = True
    finally:
        # Also on a normal exit: children it left behind must not outlive the check.
        _kill_group(process)
        if process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.shield(process.wait())
        if reading is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(reading), _DRAIN_SECONDS)
            if not reading.done():
                reading.cancel()
        output.close()
    # Redacted before the last cut, so no piece of the key is left at the cut.
    kept = redact(bytes(tail).decode("utf-8", errors="replace")).encode("utf-8")
    text = kept[-max_output_bytes:].decode("utf-8", errors="replace")
    return CheckResult(
        shown,
        None if timed_out or stopped else process.returncode,
        text,
        total,
        time.monotonic() - started,
        timed_out=timed_out,
        timeout=timeout,
        stopped=stopped,
    )


async def _wait_watching(
    process: asyncio.subprocess.Process, watch: Callable[[], str | None] | None
) -> str:
    """Wait for the process; "" when it exits, the watch's reason when that comes first."""
    if watch is None:
        await process.wait()
        return ""
    waiting = asyncio.ensure_future(process.wait())
    try:
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=_WATCH_SECONDS)
            if done:
                return ""
            reason = watch()
            if reason is not None:
                return reason
    finally:
        if not waiting.done():
            waiting.cancel()


class _Pipe:
    """The check's stdout and stderr: a pipe of our own, not the subprocess transport's, so
    that the process's exit ends the wait even while a child it left holds the pipe open
    (asyncio waits for its own pipes to close too), and so that it can be closed at will."""

    def __init__(self) -> None:
        self._transport: asyncio.ReadTransport | None = None
        self._closed = False
        if sys.platform == "win32":  # no pipes of our own on the proactor loop: asyncio's
            self._read_end, self.child_end = -1, asyncio.subprocess.PIPE
            self._child_open = False
        else:
            self._read_end, self.child_end = os.pipe()
            self._child_open = True

    def close_child_end(self) -> None:
        if self._child_open:
            os.close(self.child_end)
            self._child_open = False

    async def reader(self, process: asyncio.subprocess.Process) -> asyncio.StreamReader:
        if self._read_end < 0:
            assert process.stdout is not None
            return process.stdout
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(loop=loop)
        pipe = os.fdopen(self._read_end, "rb", buffering=0)
        self._transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe
        )
        return reader

    def close(self) -> None:
        self.close_child_end()
        if self._closed:
            return
        self._closed = True
        if self._transport is not None:
            self._transport.close()  # closes the read end too
        elif self._read_end >= 0:
            with contextlib.suppress(OSError):
                os.close(self._read_end)


def _own_process_group() -> dict[str, Any]:
    if sys.platform == "win32":
        import subprocess

        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}  # its own session: the group id is its pid


def _kill_group(process: asyncio.subprocess.Process) -> None:
    if sys.platform == "win32":
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class CheckSettings:
    argv: tuple[str, ...]
    timeout: float
    max_output_bytes: int
    key_names: tuple[str, ...] = ()
    key: str | None = None
    sandboxed: bool = False  # run under bubblewrap (the user's answer decides: see check_consent)
    sandbox: SandboxOptions = field(default_factory=SandboxOptions)
    extra_env: tuple[tuple[str, str], ...] = ()  # agent.checkEnv
    memory_bytes: int | None = None  # each process's data segment (RLIMIT_DATA)
    write_bytes: int | None = None  # what it may write: the copy's file system, each file


async def check_workspace(workspace: Workspace, settings: CheckSettings) -> CheckResult:
    """Run the check on a new copy of the workspace as the agent sees it, then remove it."""
    copy = await asyncio.to_thread(ScratchCopy.prepare, workspace)
    try:
        return await run_in_copy(copy, workspace, settings)
    finally:
        await asyncio.shield(asyncio.to_thread(copy.remove))


async def run_in_copy(
    copy: ScratchCopy, workspace: Workspace, settings: CheckSettings
) -> CheckResult:
    """Run the check in ``copy`` (already up to date) of ``workspace``: under bubblewrap
    when ``settings.sandboxed``, else with the user's rights and environment (less the key)."""
    argv = program_argv(settings.argv, copy.root, workspace.root)
    extra = {n: v for n, v in settings.extra_env if not (settings.key and settings.key in v)}
    if settings.sandboxed:
        argv, env = await asyncio.to_thread(_sandboxed, argv, copy, workspace, settings, extra)
    else:
        env = check_environment(os.environ, settings.key_names, settings.key, copy.base)
        env.update(extra)
        _node_path(env, workspace.root)
    return await run_command(
        _with_limits(argv, settings),
        cwd=copy.root,
        env=env,
        timeout=settings.timeout,
        max_output_bytes=settings.max_output_bytes,
        shown=settings.argv,
        watch=_write_watch(copy.base, settings.write_bytes),
    )


def _sandboxed(
    argv: list[str],
    copy: ScratchCopy,
    workspace: Workspace,
    settings: CheckSettings,
    extra: Mapping[str, str],
) -> tuple[list[str], dict[str, str]]:
    """``argv`` under bubblewrap, and the environment built from scratch (bubblewrap's own
    too: the first process of the sandbox must not hold the server's environment)."""
    bwrap = find_bwrap(os.environ)
    if bwrap is None:
        raise WorkspaceError("bubblewrap (bwrap) is no longer on PATH; the check was not run")
    plan = plan_sandbox(
        bwrap,
        argv=argv,
        environ=os.environ,
        scratch=copy.base,
        copy_root=copy.root,
        user_root=workspace.root,
        options=settings.sandbox,
    )
    env = sandbox_environment(os.environ, home=plan.home, scratch=str(copy.base), extra=extra)
    return bwrap_argv(plan, argv), env


def _with_limits(argv: list[str], settings: CheckSettings) -> list[str]:
    """``argv`` under ``prlimit`` (util-linux) with the memory and file-size limits, and no
    core dumps; as it is where there is no prlimit."""
    if settings.memory_bytes is None and settings.write_bytes is None:
        return argv
    prlimit = shutil.which("prlimit") if sys.platform.startswith("linux") else None
    if prlimit is None:
        return argv
    limits = ["--core=0"]
    if settings.memory_bytes is not None:
        limits.append(f"--data={settings.memory_bytes}")
    if settings.write_bytes is not None:
        limits.append(f"--fsize={settings.write_bytes}")
    return [prlimit, *limits, "--", *argv]


# How often the scratch folder's file system is looked at while a check runs.
_WATCH_SECONDS = 0.25


def _write_watch(folder: Path, limit: int | None) -> Callable[[], str | None] | None:
    """A test the check's run calls now and then: the reason to stop it once the file system
    holding its copy has lost more than ``limit`` bytes of free space since it started (one
    statvfs: cheap, and it counts every file the check writes, however many)."""
    if limit is None or not hasattr(os, "statvfs"):
        return None

    def free() -> int:
        info = os.statvfs(folder)
        return info.f_bavail * info.f_frsize

    try:
        start = free()
    except OSError:
        return None

    def over() -> str | None:
        try:
            used = start - free()
        except OSError:
            return None
        if used > limit:
            return (
                f"it wrote more than {limit // (1024 * 1024)} MB (glm.agent.checkWriteMb) "
                "and was stopped"
            )
        return None

    return over


# -- the run_check tool of one agent run -----------------------------------------------------

CheckState = Literal["passed", "failed", "not run"]


@dataclass(frozen=True)
class CheckStatus:
    """What the final message and the edit's label say about the last check."""

    state: CheckState
    stale: bool = False  # the model changed files after that check
    reason: str = ""

    def label(self) -> str:
        if self.state == "not run":
            return "check not run"
        return f"check {self.state}" + (", then more changes" if self.stale else "")

    def sentence(self) -> str:
        if self.state == "not run":
            return "The check was not run" + (f" ({self.reason})." if self.reason else ".")
        text = f"The last check {self.state}"
        if self.reason:
            text += f" ({self.reason})"
        if self.stale:
            text += "; GLM changed files after it, so the final change is unchecked"
        return text + "."


@dataclass(frozen=True)
class Permit:
    """The user let the check run: in the sandbox, or (after the separate question) not."""

    sandboxed: bool


# The user's answer: a Permit (or None: as the settings say) when the check may run, else
# why not (words for the model).
AllowFn = Callable[[], Awaitable["Permit | str | None"]]


class CheckRunner:
    """``run_check`` for one agent run: consent once, at most a few runs, the last result."""

    def __init__(
        self, settings: CheckSettings, allow: AllowFn, *, max_runs: int = MAX_CHECKS_PER_RUN
    ) -> None:
        self.settings = settings
        self._allow = allow
        self._asked = False
        self._refusal: str | None = None
        self.max_runs = max_runs
        self.runs = 0
        self.last: CheckResult | None = None
        self._checked_changes: list[FileChange] | None = None
        self._copy: ScratchCopy | None = None  # kept between this run's checks

    @property
    def command(self) -> str:
        return command_text(self.settings.argv)

    async def run_for_model(self, workspace: Workspace) -> str:
        """The tool's answer: ``exit code N`` and the end of the output, or ``error: ...``."""
        if not self._asked:  # once per run: a refusal is not asked again
            answer = await self._allow()
            self._asked = True
            if isinstance(answer, Permit):
                self.settings = replace(self.settings, sandboxed=answer.sandboxed)
            else:
                self._refusal = answer
        if self._refusal is not None:
            return (
                f"error: the check (`{self.command}`) was not run: {self._refusal}. Do not "
                "call run_check again in this run; finish and say that the change is unchecked."
            )
        if self.runs >= self.max_runs:
            return (
                f"error: run_check already ran {self.runs} times in this run, the most it may; "
                "finish now and say what still fails."
            )
        self.runs += 1
        changes = workspace.changes()
        try:
            copy = await self._fresh_copy(workspace)
            result = await run_in_copy(copy, workspace, self.settings)
        except WorkspaceError as exc:
            return f"error: {exc}"
        except OSError as exc:  # the disk is full, the temporary folder unwritable...
            return f"error: the scratch copy for the check could not be made ({exc})"
        self.last, self._checked_changes = result, changes
        return result.for_model(self.settings.max_output_bytes)

    async def _fresh_copy(self, workspace: Workspace) -> ScratchCopy:
        """This run's copy, up to date; a new one the first time or when a check broke it."""
        if self._copy is not None:
            try:
                await asyncio.to_thread(self._copy.sync, workspace)
                return self._copy
            except OSError:
                await asyncio.to_thread(self._copy.remove)
        self._copy = await asyncio.to_thread(ScratchCopy.prepare, workspace)
        return self._copy

    def close(self) -> None:
        """Remove the run's copy (the run is over)."""
        if self._copy is not None:
            self._copy.remove()
            self._copy = None

    def status(self, workspace: Workspace) -> CheckStatus:
        if self._refusal is not None:
            return CheckStatus("not run", reason="not allowed")
        if self.last is None:
            return CheckStatus("not run")
        stale = workspace.changes() != self._checked_changes
        state: CheckState = "passed" if self.last.passed else "failed"
        reason = "timed out" if self.last.timed_out else ""
        return CheckStatus(state, stale=stale, reason=reason)
