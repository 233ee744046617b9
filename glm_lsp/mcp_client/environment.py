"""What an MCP server's process gets: a small environment, and a program that can be found.

The child sees PATH, HOME, USER, LANG and TERM from the editor's environment plus the
definition's own ``env``; never the GLM key (unless the definition names its variable).
An editor started from a desktop menu often has a short PATH without ``npx`` or ``uvx``: a
command not found there is looked up in the user's login shell's PATH, as a terminal has it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

INHERITED = ("PATH", "HOME", "USER", "LANG", "TERM")
LOGIN_SHELL_TIMEOUT = 5.0  # seconds: a slow dotfile must not hold the agent up for long


def child_environment(
    definition_env: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in INHERITED if name in source}
    env.update(definition_env)
    return env


@dataclass(frozen=True)
class FoundProgram:
    path: str
    login_path: str | None = None  # set when found only through the login shell's PATH


class ProgramNotFound(Exception):
    def __init__(self, command: str, looked_in_login_shell: bool) -> None:
        self.command = command
        where = "PATH, nor in your login shell's PATH" if looked_in_login_shell else "PATH"
        super().__init__(f"command {command!r} was not found in the editor's {where}")


class ProgramFinder:
    """Finds programs in the child's PATH, then in the login shell's (asked once)."""

    def __init__(self, shell: str | None = None) -> None:
        self._shell = shell if shell is not None else os.environ.get("SHELL", "")
        self._login_path: asyncio.Future[str | None] | None = None

    async def find(self, command: str, env: Mapping[str, str], cwd: str | None) -> FoundProgram:
        if os.sep in command:
            path = command if os.path.isabs(command) else os.path.join(cwd or os.getcwd(), command)
            if os.access(path, os.X_OK) and os.path.isfile(path):
                return FoundProgram(path)
            raise ProgramNotFound(command, looked_in_login_shell=False)
        found = shutil.which(command, path=env.get("PATH", os.defpath))
        if found:
            return FoundProgram(found)
        login_path = await self.login_shell_path()
        if login_path:
            found = shutil.which(command, path=login_path)
            if found:
                log.info("MCP: %s found through the login shell's PATH: %s", command, found)
                return FoundProgram(found, login_path)
        raise ProgramNotFound(command, looked_in_login_shell=bool(self._shell))

    async def login_shell_path(self) -> str | None:
        if self._login_path is None:
            self._login_path = asyncio.ensure_future(_ask_login_shell(self._shell))
        return await asyncio.shield(self._login_path)


async def _ask_login_shell(shell: str) -> str | None:
    """``$SHELL -lc 'printf %s "$PATH"'``, bounded in time; None when it fails."""
    if not shell or not os.path.isabs(shell) or not os.access(shell, os.X_OK):
        return None
    try:
        process = await asyncio.create_subprocess_exec(
            shell,
            "-lc",
            'printf "%s" "$PATH"',
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        log.info("MCP: the login shell %s could not start: %s", shell, exc)
        return None
    try:
        out, _ = await asyncio.wait_for(process.communicate(), LOGIN_SHELL_TIMEOUT)
    except asyncio.TimeoutError:
        log.info("MCP: the login shell %s did not answer within %.0f s", shell, LOGIN_SHELL_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        await process.wait()
        return None
    # A login shell may print a banner first: the PATH is the last line.
    lines = out.decode("utf-8", errors="replace").strip().splitlines()
    return lines[-1] if process.returncode == 0 and lines else None
