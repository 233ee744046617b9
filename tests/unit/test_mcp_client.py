"""The MCP client core's pure parts: definitions as users write them, tool names, result
text, the child's environment, the login shell's PATH, and the agent's tool budget."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import mcp_types
import pytest

from glm_lsp.agent.tools import TOOL_NAMES, AgentTools
from glm_lsp.mcp_client.definitions import merge, parse_servers, read_workspace_files
from glm_lsp.mcp_client.environment import ProgramFinder, ProgramNotFound, child_environment
from glm_lsp.mcp_client.hub import qualified_name, result_text
from glm_lsp.workspace import Workspace


def test_settings_form_with_every_field() -> None:
    raw = {
        "time": {
            "command": "uvx",
            "args": ["mcp-server-time"],
            "env": {"TZ": "UTC"},
            "cwd": "/tmp",
            "startupTimeout": 5,
            "callTimeout": 7.5,
            "alwaysAllow": ["get_current_time"],
        },
        "off": {"command": "x", "disabled": True},
    }
    (time,), warnings = parse_servers(raw, source="settings", trusted=True)
    assert warnings == []
    assert (time.name, time.command, time.args, time.env, time.cwd) == (
        "time",
        "uvx",
        ("mcp-server-time",),
        (("TZ", "UTC"),),
        "/tmp",
    )
    assert (time.startup_timeout, time.call_timeout) == (5.0, 7.5)
    assert time.always_allow == {"get_current_time"}
    assert time.command_line() == "uvx mcp-server-time"


def test_acp_list_form_and_http_servers() -> None:
    raw = [
        {"name": "a", "command": "/bin/a", "args": [], "env": [{"name": "K", "value": "v"}]},
        {"name": "web", "type": "http", "url": "https://mcp.example/", "headers": {"X": "1"}},
    ]
    (a, web), warnings = parse_servers(raw, source="ACP", trusted=True)
    assert warnings == []
    assert a.env == (("K", "v"),)
    assert (web.url, web.headers, web.command_line()) == (
        "https://mcp.example/",
        (("X", "1"),),
        "https://mcp.example/",
    )


def test_bad_entries_are_left_out_with_a_warning_naming_them() -> None:
    raw = {
        "no-command": {"args": ["x"]},
        "bad args": {"command": "x"},
        "slow": {"command": "x", "startupTimeout": 0},
        "ok": {"command": "x"},
    }
    found, warnings = parse_servers(raw, source="settings", trusted=True)
    assert [d.name for d in found] == ["ok"]
    assert len(warnings) == 3
    assert any("'no-command'" in w and "'command'" in w for w in warnings)
    assert any("'bad args'" in w and "name" in w for w in warnings)
    assert any("'slow'" in w and "startupTimeout" in w for w in warnings)
    assert parse_servers("junk", source="s", trusted=True)[0] == []


def test_a_workspace_cannot_approve_its_own_tools() -> None:
    raw = {"p": {"command": "x", "alwaysAllow": ["delete_everything"]}}
    (definition,), _ = parse_servers(raw, source=".mcp.json", trusted=False)
    assert definition.always_allow == frozenset()
    assert definition.trusted is False


def test_the_fingerprint_follows_what_runs_not_the_consent_settings() -> None:
    def one(**body: Any) -> Any:
        return parse_servers({"p": {"command": "x", **body}}, source="s", trusted=True)[0][0]

    base = one(args=["a"]).fingerprint()
    assert one(args=["a"], alwaysAllow=["t"], callTimeout=9).fingerprint() == base
    assert one(args=["b"]).fingerprint() != base
    assert one(args=["a"], env={"X": "1"}).fingerprint() != base


def test_workspace_files_in_both_formats(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {"a": {"command": "x"}}}))
    (tmp_path / ".vscode").mkdir()
    servers = {
        "b": {"type": "stdio", "command": "node", "args": ["${workspaceFolder}/server.js"]},
        "a": {"command": "shadowed"},
    }
    (tmp_path / ".vscode/mcp.json").write_text(json.dumps({"servers": servers}))
    found, warnings = read_workspace_files(tmp_path)
    assert warnings == []
    assert [(d.name, d.source, d.trusted) for d in found] == [
        ("a", ".mcp.json", False),
        ("b", ".vscode/mcp.json", False),
        ("a", ".vscode/mcp.json", False),
    ]
    assert found[1].args == (f"{tmp_path}/server.js",)
    trusted, _ = parse_servers({"a": {"command": "mine"}}, source="settings", trusted=True)
    merged = merge(trusted, found)
    assert [(d.name, d.command) for d in merged] == [("a", "mine"), ("b", "node")]


def test_unreadable_workspace_files_are_a_warning(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text("{not json")
    found, warnings = read_workspace_files(tmp_path)
    assert found == [] and len(warnings) == 1 and ".mcp.json" in warnings[0]


def test_tool_names_fit_every_model_api() -> None:
    assert qualified_name("time", "get_current_time") == "time__get_current_time"
    assert qualified_name("my.server", "do it!") == "my_server__do_it_"
    long_a, long_b = qualified_name("s" * 40, "t" * 40 + "a"), qualified_name("s" * 40, "t" * 41)
    assert len(long_a) == len(long_b) == 64 and long_a != long_b
    assert all(c.isalnum() or c in "_-" for c in long_a)


def test_result_text_prefers_text_and_shows_structured_content_as_json() -> None:
    structured = mcp_types.CallToolResult(content=[], structured_content={"a": [1, 2]})
    assert json.loads(result_text(structured)) == {"a": [1, 2]}
    both = mcp_types.CallToolResult(
        content=[mcp_types.TextContent(type="text", text='{"a": [1, 2]}')],
        structured_content={"a": [1, 2]},
    )
    assert result_text(both) == '{"a": [1, 2]}'
    image = mcp_types.CallToolResult(
        content=[
            mcp_types.TextContent(type="text", text="see:"),
            mcp_types.ImageContent(type="image", data="AAAA", mime_type="image/png"),
        ]
    )
    assert result_text(image) == "see:\n[image image/png]"


def test_the_child_environment_is_small_and_has_no_key() -> None:
    environ = {
        "PATH": "/bin",
        "HOME": "/h",
        "USER": "u",
        "LANG": "C.UTF-8",
        "TERM": "xterm",
        "BIGMODEL_API_KEY": "secret",
        "ZAI_API_KEY": "secret",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }
    assert child_environment({}, environ) == {
        "PATH": "/bin",
        "HOME": "/h",
        "USER": "u",
        "LANG": "C.UTF-8",
        "TERM": "xterm",
    }
    named = child_environment({"ZAI_API_KEY": "for-this-server"}, environ)
    assert named["ZAI_API_KEY"] == "for-this-server" and "BIGMODEL_API_KEY" not in named


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_command_missing_from_path_is_found_through_the_login_shell(tmp_path: Path) -> None:
    tools = tmp_path / "login-bin"
    tools.mkdir()
    program = _executable(tools / "my-mcp-server", "#!/bin/sh\n")
    # A login shell (called as `shell -lc COMMAND`) whose profile adds a folder to PATH, as
    # ~/.profile does for nvm or uv, and greets the user first.
    shell = _executable(
        tmp_path / "shell",
        f'#!/bin/sh\necho "Welcome banner"\nPATH="{tools}:$PATH"; export PATH\n'
        'shift\nexec /bin/sh -c "$1"\n',
    )
    finder = ProgramFinder(shell=str(shell))

    async def look_up() -> None:
        found = await finder.find("my-mcp-server", {"PATH": "/usr/bin:/bin"}, None)
        assert found.path == str(program)
        assert found.login_path is not None and found.login_path.startswith(str(tools))
        with pytest.raises(ProgramNotFound, match="nor in your login shell's PATH"):
            await finder.find("no-such-mcp-server", {"PATH": "/usr/bin:/bin"}, None)

    asyncio.run(look_up())


class _Extra:
    """Extra tools as the MCP hub's run view offers them."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def schemas(self) -> list[dict[str, Any]]:
        return [
            {"type": "function", "function": {"name": n, "description": n, "parameters": {}}}
            for n in self.names
        ]

    def activity(self, name: str) -> str:
        return f"MCP {name}"

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        self.calls.append((name, arguments))
        return "x" * 10_000


def _offered(tools: AgentTools) -> list[str]:
    return [schema["function"]["name"] for schema in tools.schemas()]


def test_built_ins_win_a_clash_and_max_tools_caps_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    extra = _Extra(["read_file", *(f"s__t{n}" for n in range(10))])
    tools = AgentTools(Workspace([tmp_path]), max_output_bytes=1000, extra=extra, max_tools=10)
    assert _offered(tools) == [*TOOL_NAMES, "s__t0", "s__t1", "s__t2"]
    capped = [r.getMessage() for r in caplog.records if "agent.maxTools" in r.getMessage()]
    assert len(capped) == 1
    assert "read_file (a built-in tool's name)" in capped[0] and "s__t9" in capped[0]
    assert tools.describe("s__t0", "{}") == "MCP s__t0"

    output = asyncio.run(tools.execute("s__t1", '{"q": 1}'))
    assert extra.calls == [("s__t1", {"q": 1})]
    assert len(output.encode()) <= 1000 and "[output cut at" in output
    assert asyncio.run(tools.execute("s__t9", "{}")).startswith("error: there is no tool")
    assert asyncio.run(tools.execute("s__t2", "not json")).startswith("error: the arguments")
