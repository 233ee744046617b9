"""Starts one MCP server so that it dies with glm-lsp, however glm-lsp ends.

Run as ``python -I -S watchdog.py FD PROGRAM [ARGS...]`` by :mod:`.process`, in a new
session (so this process leads the server's process group), with FD the read end of a pipe
whose write end only glm-lsp holds. The server runs as this process's child, with the stdin,
stdout and stderr given here. When glm-lsp ends (even by SIGKILL) the pipe reads end-of-file
and the whole group is killed: the server, and what it started (``npx`` starts ``node``).
When the server ends, its leftovers go the same way. Standard library only: it starts fast.
"""

import os
import select
import signal
import sys


def main() -> None:
    watch_fd = int(sys.argv[1])
    argv = sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        os.close(watch_fd)
        try:
            os.execv(argv[0], argv)
        except OSError as exc:
            os.write(2, f"cannot run {argv[0]}: {exc.strerror}\n".encode())
        os._exit(127)
    # No copy of the server's pipes stays here: glm-lsp sees end-of-file when the server ends
    # (but one of stderr, closed on exec, to say how the server ended).
    report = os.dup(2)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))
    try:
        server: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux >= 5.3: poll the child instead
        server = None
    watched = [watch_fd] if server is None else [watch_fd, server]
    while True:
        ready, _, _ = select.select(watched, [], [], 0.5 if server is None else None)
        if watch_fd in ready:
            break  # glm-lsp is gone (or wrote to us: never happens, means the same)
        done, status = os.waitpid(pid, os.WNOHANG) if server is None or server in ready else (0, 0)
        if done:
            code = os.waitstatus_to_exitcode(status)
            how = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
            os.write(report, f"glm-lsp watchdog: {how}\n".encode())
            break
    os.killpg(0, signal.SIGKILL)


if __name__ == "__main__":
    main()
