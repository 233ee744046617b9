"""One MCP server's process: started under the watchdog, in a process group of its own.

``kill`` ends the group (the server and everything it started) at once. If glm-lsp itself
dies, the watchdog (``watchdog.py``) sees its pipe close and kills the group: no server
outlives the editor. stderr is read all the time (a full pipe would stall the server); its
last lines are kept to say why a server failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

WATCHDOG = str(Path(__file__).with_name("watchdog.py"))
MAX_LINE_BYTES = 16 * 1024 * 1024  # one JSON-RPC message from a server, at most
STDERR_LINES_KEPT = 20
EXIT_MARK = "glm-lsp watchdog:"  # the watchdog's last stderr line: how the server ended


class _LifePipe:
    """The pipe whose write end only this process holds; every watchdog reads it."""

    read_fd: int | None = None
    write_fd: int | None = None

    @classmethod
    def read_end(cls) -> int:
        if cls.read_fd is None:
            cls.read_fd, cls.write_fd = os.pipe()  # close-on-exec: no child inherits them
        return cls.read_fd


class ServerProcess:
    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_LINES_KEPT)
        self.server_exit: str | None = None  # "exit code 3", told by the watchdog
        self._stderr_task = asyncio.ensure_future(self._read_stderr())

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stdin(self) -> asyncio.StreamWriter:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> asyncio.StreamReader:
        assert self.process.stdout is not None
        return self.process.stdout

    def last_error_line(self) -> str:
        for line in reversed(self.stderr_tail):
            if line.strip():
                return line.strip()[:300]
        return ""

    async def _read_stderr(self) -> None:
        stream = self.process.stderr
        if stream is None:
            return
        with contextlib.suppress(Exception):
            while True:
                try:
                    line = await stream.readline()
                except ValueError:  # a line over the limit: keep reading
                    continue
                if not line:
                    return
                text = line.decode("utf-8", errors="replace").rstrip()
                if text.startswith(EXIT_MARK):
                    self.server_exit = text[len(EXIT_MARK) :].strip()
                    continue
                self.stderr_tail.append(text[:1000])
                log.debug("MCP %s stderr: %s", self.name, text[:1000])

    async def ended(self, timeout: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stderr_task), timeout)

    def kill(self) -> None:
        """The whole group, at once (the watchdog leads it: its pid is the group's id)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    async def stop(self) -> None:
        self.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.process.wait(), 5.0)
        self._stderr_task.cancel()
        with contextlib.suppress(BaseException):
            await self._stderr_task


async def spawn(
    name: str, program: str, args: Sequence[str], env: Mapping[str, str], cwd: str | None
) -> ServerProcess:
    """Start ``program args`` under the watchdog, with pipes for stdin, stdout and stderr."""
    watch = _LifePipe.read_end()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        "-S",
        WATCHDOG,
        str(watch),
        program,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
        pass_fds=(watch,),
        limit=MAX_LINE_BYTES,
    )
    return ServerProcess(name, process)
