"""The command line: --version, --tcp on 127.0.0.1, --log-file."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._common import free_port
from glm_lsp import __version__
from tests.conftest import TEST_KEY
from tests.fake_glm import FakeGlm
from tests.lsp_harness import server_env


def _frame(payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class FrameReader:
    """Reads Content-Length framed JSON-RPC messages, keeping bytes of the next frame."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def read(self) -> dict:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        headers = dict(line.split(b":", 1) for line in head.split(b"\r\n"))
        length = int(headers[b"Content-Length"])
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return json.loads(body)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, "server closed the connection"
        self.buffer += chunk


def test_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "glm_lsp", "--version"], capture_output=True, text=True, timeout=30
    )
    assert out.stdout.strip() == f"glm-lsp {__version__}"


def test_tcp_serves_lsp_and_logs_to_file(fake_glm: FakeGlm, tmp_path: Path) -> None:
    port = free_port()
    log_file = tmp_path / "glm-lsp.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "glm_lsp",
            "--tcp",
            "--port",
            str(port),
            "--log-file",
            str(log_file),
            "-v",
        ],
        env=server_env(fake_glm),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert time.monotonic() < deadline, "server never listened"
                time.sleep(0.05)
        with sock:
            reader = FrameReader(sock)
            sock.sendall(
                _frame(
                    {
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "initialize",
                        "params": {"processId": None, "rootUri": None, "capabilities": {}},
                    }
                )
            )
            answer = reader.read()
            while answer.get("id") != 1:  # notifications (logMessage) may come first
                answer = reader.read()
            assert answer["result"]["serverInfo"]["name"] == "glm-lsp"
            sock.sendall(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
            sock.sendall(
                _frame(
                    {
                        "jsonrpc": "2.0",
                        "id": 2,
                        "method": "workspace/executeCommand",
                        "params": {"command": "glm.status", "arguments": [{}]},
                    }
                )
            )
            while True:
                message = reader.read()
                if message.get("id") == 2:
                    break
            assert message["result"]["requests"] == 0
    finally:
        process.terminate()
        process.wait(timeout=10)
    text = log_file.read_text(encoding="utf-8")
    assert text.strip(), "the log file stayed empty"
    assert TEST_KEY not in text
