"""An HTTP forward proxy on 127.0.0.1 that records what it is asked to forward.

The server reaches it through ``HTTP_PROXY`` (as a user's corporate proxy), with a base URL that
names a foreign host (``http://llm.example.test/...``): nothing resolves that name, so every
request the server makes to it, warm-up included, must pass here and is recorded with the
absolute URL and headers it asked for. It is then forwarded to one upstream (the fake GLM), so a
request that is allowed works end to end. ``CONNECT`` (an ``https://`` URL) is recorded and
refused.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class ProxiedRequest:
    method: str
    target: str  # absolute-form, e.g. http://llm.example.test/api/paas/v4/chat/completions
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names

    @property
    def host(self) -> str:
        return urlsplit(self.target).netloc if "://" in self.target else self.target


class ProxyRecorder:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.requests: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _make_handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ProxyRecorder:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def env(self) -> dict[str, str]:
        """The standard proxy variables pointing here (and nothing exempt from them)."""
        return {
            "HTTP_PROXY": self.url,
            "http_proxy": self.url,
            "HTTPS_PROXY": self.url,
            "https_proxy": self.url,
            "NO_PROXY": "",
            "no_proxy": "",
            "ALL_PROXY": "",
            "all_proxy": "",
        }

    def _record(self, request: ProxiedRequest) -> None:
        with self._lock:
            self.requests.append(request)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _make_handler(proxy: ProxyRecorder) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            client: socket.socket = self.request
            client.settimeout(30)
            reader = client.makefile("rb")
            head = _read_head(reader)
            if head is None:
                return
            method, target, headers = head
            proxy._record(ProxiedRequest(method, target, dict(headers)))
            if method == "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            length = int(headers.get("content-length") or 0)
            body = reader.read(length) if length else b""
            parts = urlsplit(target)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            lines = [f"{method} {path} HTTP/1.1"]
            lines += [
                f"{name}: {value}"
                for name, value in headers.items()
                if name not in ("connection", "proxy-connection", "keep-alive")
            ]
            lines.append("Connection: close")
            with socket.create_connection(("127.0.0.1", proxy.upstream_port), timeout=30) as up:
                up.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
                _relay_response(up, client)

    return Handler


def _read_head(reader: object) -> tuple[str, str, dict[str, str]] | None:
    readline = reader.readline  # type: ignore[attr-defined]
    request_line = readline(65536).decode("latin-1").strip()
    if not request_line:
        return None
    method, target, _version = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        line = readline(65536).decode("latin-1")
        if line in ("\r\n", "\n", ""):
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers


def _relay_response(upstream: socket.socket, client: socket.socket) -> None:
    """Forward the answer as it streams; it is the last on this connection (Connection: close),
    so the server never reuses a connection the proxy is about to drop."""
    buffered = b""
    while b"\r\n\r\n" not in buffered:
        chunk = upstream.recv(65536)
        if not chunk:
            return
        buffered += chunk
    head, _, rest = buffered.partition(b"\r\n\r\n")
    kept = [h for h in head.split(b"\r\n") if not h.lower().startswith(b"connection:")]
    client.sendall(b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n" + rest)
    while chunk := upstream.recv(65536):
        client.sendall(chunk)
