"""MCP server definitions as users already write them, read into one plain shape.

Sources: the ``mcpServers`` setting (``{name: {command, args, env, cwd, ...}}``), a workspace's
``.mcp.json`` (``{"mcpServers": {...}}``, Claude Code's format) and ``.vscode/mcp.json``
(``{"servers": {...}}``, VS Code's format), and ACP's ``session/new.mcpServers`` (a list of
``{name, command, args, env: [{name, value}]}``), which its front door passes in as data.
A definition from the user's own settings (or the editor, through ACP) is trusted; one from
the workspace waits for the user's consent, keyed by :func:`fingerprint`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_STARTUP_TIMEOUT = 30.0
DEFAULT_CALL_TIMEOUT = 60.0
MAX_FILE_BYTES = 256 * 1024  # a workspace's MCP file bigger than this is not read
MAX_SERVERS = 32  # per source: a repository cannot make the editor start hundreds
WORKSPACE_FILES = ((".mcp.json", "mcpServers"), (".vscode/mcp.json", "servers"))
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class ServerDefinition:
    """One MCP server: a command to start (stdio) or a URL (streamable HTTP)."""

    name: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    url: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    always_allow: frozenset[str] = field(default_factory=frozenset)
    source: str = "settings"  # where it was read, for messages: "settings", ".mcp.json", ...
    trusted: bool = True  # the user's own settings or the editor; else asks before it starts

    def command_line(self) -> str:
        """What runs, as the user would type it (shown in the consent question)."""
        if self.url:
            return self.url
        return shlex.join([self.command, *self.args])

    def fingerprint(self) -> str:
        """A hash of what would run and with what: a changed definition asks again."""
        what = {
            "name": self.name,
            "command": self.command,
            "args": list(self.args),
            "env": sorted(self.env),
            "cwd": self.cwd,
            "url": self.url,
            "headers": sorted(self.headers),
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode("utf-8")).hexdigest()

    def identity(self) -> tuple[Any, ...]:
        """Changes that need a new process (consent and alwaysAllow do not)."""
        return (self.fingerprint(), self.startup_timeout, self.call_timeout)


class DefinitionError(ValueError):
    """One server's definition cannot be used; the message says why."""


def parse_servers(
    raw: Any, *, source: str, trusted: bool, workspace: Path | None = None
) -> tuple[list[ServerDefinition], list[str]]:
    """``{name: {command, args?, env?, cwd?, url?, headers?, startupTimeout?, callTimeout?,
    alwaysAllow?, disabled?}}`` (or ACP's list of ``{name, ...}``) as definitions, plus one
    warning per entry left out. ``alwaysAllow`` counts only where ``trusted``."""
    if raw is None:
        return [], []
    entries: list[tuple[Any, Any]]
    if isinstance(raw, Mapping):
        entries = list(raw.items())
    elif isinstance(raw, list):  # ACP: [{name, command, args, env: [{name, value}]}]
        entries = [(item.get("name") if isinstance(item, Mapping) else None, item) for item in raw]
    else:
        return [], [f"MCP servers in {source} must be an object of servers; ignored"]
    definitions: list[ServerDefinition] = []
    warnings: list[str] = []
    for name, body in entries[:MAX_SERVERS]:
        try:
            definition = _definition(name, body, source, trusted, workspace)
        except DefinitionError as exc:
            warnings.append(f"MCP server {name!r} in {source}: {exc}; left out")
            continue
        if definition is not None:
            definitions.append(definition)
    if len(entries) > MAX_SERVERS:
        warnings.append(
            f"{source} defines {len(entries)} MCP servers; only the first {MAX_SERVERS} are read"
        )
    return definitions, warnings


def read_workspace_files(root: Path) -> tuple[list[ServerDefinition], list[str]]:
    """The definitions in ``root/.mcp.json`` and ``root/.vscode/mcp.json`` (untrusted)."""
    definitions: list[ServerDefinition] = []
    warnings: list[str] = []
    for relative, key in WORKSPACE_FILES:
        path = root / relative
        try:
            if not path.is_file():
                continue
            if path.stat().st_size > MAX_FILE_BYTES:
                warnings.append(f"{relative} is over {MAX_FILE_BYTES // 1024} KB; not read")
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            warnings.append(f"{relative} could not be read ({type(exc).__name__}: {exc}); ignored")
            continue
        servers = data.get(key) if isinstance(data, dict) else None
        found, problems = parse_servers(servers, source=relative, trusted=False, workspace=root)
        definitions.extend(found)
        warnings.extend(problems)
    return definitions, warnings


def merge(*layers: list[ServerDefinition]) -> list[ServerDefinition]:
    """One definition per name: an earlier layer wins (trusted layers come first)."""
    seen: dict[str, ServerDefinition] = {}
    for layer in layers:
        for definition in layer:
            seen.setdefault(definition.name, definition)
    return list(seen.values())


def _definition(
    name: Any, body: Any, source: str, trusted: bool, workspace: Path | None
) -> ServerDefinition | None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DefinitionError("a name is 1-64 letters, digits, '_', '-' or '.'")
    if not isinstance(body, Mapping):
        raise DefinitionError("the definition must be an object")
    if body.get("disabled") is True:
        return None
    kind = body.get("type")
    url = body.get("url")
    command = body.get("command")
    if kind in ("http", "sse", "streamable-http") or (url is not None and command is None):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise DefinitionError("'url' must be an http(s) URL")
        return ServerDefinition(
            name=name,
            url=url,
            headers=_pairs(body.get("headers"), "headers"),
            startup_timeout=_seconds(body, "startupTimeout", DEFAULT_STARTUP_TIMEOUT),
            call_timeout=_seconds(body, "callTimeout", DEFAULT_CALL_TIMEOUT),
            always_allow=_always_allow(body, trusted),
            source=source,
            trusted=trusted,
        )
    if not isinstance(command, str) or not command.strip():
        raise DefinitionError("'command' (the program to start) is missing")
    args = body.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise DefinitionError("'args' must be a list of strings")
    cwd = body.get("cwd")
    if cwd is not None and not isinstance(cwd, str):
        raise DefinitionError("'cwd' must be a path")
    substitute = _workspace_variables(workspace)
    return ServerDefinition(
        name=name,
        command=substitute(command),
        args=tuple(substitute(a) for a in args),
        env=_pairs(body.get("env"), "env"),
        cwd=substitute(cwd) if cwd else None,
        startup_timeout=_seconds(body, "startupTimeout", DEFAULT_STARTUP_TIMEOUT),
        call_timeout=_seconds(body, "callTimeout", DEFAULT_CALL_TIMEOUT),
        always_allow=_always_allow(body, trusted),
        source=source,
        trusted=trusted,
    )


def _workspace_variables(workspace: Path | None) -> Any:
    """VS Code's ``${workspaceFolder}`` in mcp.json, the one variable worth knowing."""

    def substitute(text: str) -> str:
        if workspace is None:
            return text
        return text.replace("${workspaceFolder}", str(workspace))

    return substitute


def _pairs(value: Any, key: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, list):  # ACP: [{name, value}]
        value = {item.get("name"): item.get("value") for item in value if isinstance(item, Mapping)}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise DefinitionError(f"'{key}' must map names to strings")
    return tuple(sorted(value.items()))


def _seconds(body: Mapping[str, Any], key: str, default: float) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
        raise DefinitionError(f"'{key}' must be seconds between 0 and 3600")
    return float(value)


def _always_allow(body: Mapping[str, Any], trusted: bool) -> frozenset[str]:
    value = body.get("alwaysAllow", [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DefinitionError("'alwaysAllow' must be a list of tool names")
    if value and not trusted:
        # A repository cannot pre-approve its own tools: only the user's settings can.
        log.info("alwaysAllow in an untrusted MCP definition is ignored")
        return frozenset()
    return frozenset(value)
