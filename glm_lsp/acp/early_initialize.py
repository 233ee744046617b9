"""Answer ACP's ``initialize`` before the protocol package loads.

The ``agent-client-protocol`` package validates every message with pydantic models (about
6,000 lines of schema): importing it costs more than the whole LSP server's start. An editor
waits for the ``initialize`` answer before it shows the agent as ready, so that answer is
written from plain JSON first, then the package loads and takes over the rest of stdin.

Nothing here imports pydantic or the ACP package; stdin is read with ``os.read`` so no byte
is left in a Python buffer that the asyncio reader would never see.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from glm_lsp import __version__

PROTOCOL_VERSION = 1  # ACP v1, as agent-client-protocol 0.12's PROTOCOL_VERSION
MAX_FIRST_LINE_BYTES = 1_000_000


def initialize_result(client_version: Any) -> dict[str, Any]:
    """What the agent answers to ``initialize`` (the same whether early or not)."""
    version = client_version if isinstance(client_version, int) and client_version >= 0 else 0
    return {
        "protocolVersion": min(version, PROTOCOL_VERSION),
        "agentCapabilities": {
            "loadSession": False,
            "promptCapabilities": {"image": False, "audio": False, "embeddedContext": True},
        },
        "agentInfo": {"name": "glm-lsp", "title": "GLM", "version": __version__},
        "authMethods": [],
    }


@dataclass
class EarlyStart:
    """What was read before the package loaded: bytes still to be handled, and the client's
    capabilities when ``initialize`` was already answered."""

    unread: bytes
    client_capabilities: dict[str, Any] | None = None


def answer_initialize_early(stdin_fd: int = 0, stdout_fd: int = 1) -> EarlyStart:
    """Read the first line; when it is ``initialize``, answer it now. Anything else (or a
    line that is not JSON) is left for the protocol package to answer."""
    data = b""
    while b"\n" not in data and len(data) < MAX_FIRST_LINE_BYTES:
        chunk = os.read(stdin_fd, 65536)
        if not chunk:
            return EarlyStart(data)
        data += chunk
    line, _, rest = data.partition(b"\n")
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return EarlyStart(data)
    if not (
        isinstance(message, dict)
        and message.get("method") == "initialize"
        and "id" in message
        and isinstance(message.get("params"), dict)
    ):
        return EarlyStart(data)
    params = message["params"]
    capabilities = params.get("clientCapabilities")
    answer = {
        "jsonrpc": "2.0",
        "id": message["id"],
        "result": initialize_result(params.get("protocolVersion")),
    }
    payload = json.dumps(answer, separators=(",", ":")).encode() + b"\n"
    while payload:
        payload = payload[os.write(stdout_fd, payload) :]
    return EarlyStart(rest, capabilities if isinstance(capabilities, dict) else {})
