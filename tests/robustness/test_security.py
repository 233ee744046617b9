"""The API key never leaves through the server's own outputs, and settings cannot turn the
key source into a command.

Failing runs are driven through the real server (raw stdio, so EVERY byte it writes is kept:
responses, window/logMessage, window/showMessage, progress) with the fake GLM echoing the key
back in error bodies, an SSE error chunk, a garbage body, a field that breaks our parsing
(an internal error whose text holds the key) and a tool call. Then stdout, stderr (with -vv)
and the --log-file are scanned for the key and for its secret half.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.conftest import TEST_KEY
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, messages_of, start_session
from tests.robustness.raw_lsp import RawLsp, raw_server

SECRET_HALF = TEST_KEY.partition(".")[2]
CAPABILITIES = {"workspace": {"configuration": True, "workspaceFolders": True}}


def echoed(status: int, code: str) -> Reply:
    return Reply(status=status, error_code=code, error_message=f"bad token Bearer {TEST_KEY}")


def broken_usage(text: str = "x = 1") -> Reply:
    """A reply whose usage holds the key where a number belongs: it is read as no count (the
    reply goes on), and the key it carried must not surface anywhere."""
    chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    last = {
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": TEST_KEY, "completion_tokens": 1, "total_tokens": 2},
    }
    return Reply(raw_events=[json.dumps(chunk), json.dumps(last), "[DONE]"])


FAILING_REPLIES = [
    echoed(401, "1002"),
    echoed(400, "1261"),
    echoed(429, "1113"),
    Reply(status=502, body=f"<html>proxy says: key {TEST_KEY} refused</html>"),
    Reply(text="partial ", error_chunk={"code": "1234", "message": f"boom {TEST_KEY}"}),
    broken_usage(),
]


def assert_no_key(*sources: bytes | str) -> None:
    for source in sources:
        text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
        assert TEST_KEY not in text
        assert SECRET_HALF not in text


async def refactor(lsp: RawLsp, uri: str) -> dict[str, Any]:
    argument = {
        "uri": uri,
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
    }
    return await lsp.request(
        "workspace/executeCommand", {"command": "glm.refactor", "arguments": [argument]}, 20
    )


async def test_the_key_never_reaches_messages_logs_or_responses(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    source = workspace / "calc.py"
    source.write_text("def add(a, b):\n    return a + b\n")
    log_file = tmp_path / "glm-lsp.log"
    uri = source.as_uri()
    async with raw_server(
        fake_glm,
        workspace,
        init_options={"maxRetries": 1},
        args=["--log-file", str(log_file), "-vv"],
        capabilities=CAPABILITIES,
    ) as lsp:
        text = source.read_text()
        item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
        await lsp.notify("textDocument/didOpen", {"textDocument": item})
        for reply in FAILING_REPLIES:
            fake_glm.enqueue(reply, reply)  # a retryable one is retried once
            assert "result" in await refactor(lsp, uri)
            fake_glm.reset()
        for reply in (echoed(401, "1000"), broken_usage("more")):
            fake_glm.enqueue(reply, reply)
            position = {"line": 1, "character": 4}
            params = {"textDocument": {"uri": uri}, "position": position}
            assert "result" in await lsp.request("textDocument/completion", params, 20)
            fake_glm.reset()
        for reply in (
            echoed(401, "1001"),
            Reply(tool_calls=[{"name": "read_file", "arguments": {"path": TEST_KEY}}]),
        ):
            fake_glm.enqueue(reply, Reply(text="done"))
            agent = {"command": "glm.agent", "arguments": [{"instruction": f"use {TEST_KEY}"}]}
            assert "result" in await lsp.request("workspace/executeCommand", agent, 20)
            fake_glm.reset()
        await lsp.status()
        shown = " ".join(lsp.shown_messages())
    assert "GLM rejected the API key" in shown  # the failures did reach the user
    assert "internal error" not in shown.lower()  # a bad usage count costs no reply
    # The echoed key did come back through the server, redacted, in every channel.
    assert b"bad token Bearer [REDACTED]" in lsp.stdout_bytes
    assert b"[REDACTED]" in lsp.stderr_bytes
    assert b"[REDACTED]" in log_file.read_bytes()
    assert_no_key(bytes(lsp.stdout_bytes), bytes(lsp.stderr_bytes), log_file.read_bytes())


async def test_a_connect_failure_names_the_endpoint_not_the_key(tmp_path: Path) -> None:
    log_file = tmp_path / "glm-lsp.log"
    document = tmp_path / "a.py"
    document.write_text("x = 1\n")
    async with raw_server(
        None,
        tmp_path,
        init_options={"maxRetries": 0},
        args=["--log-file", str(log_file), "-vv"],
        env={"GLM_LSP_BASE_URL": "http://127.0.0.1:9/api/"},  # the discard port: refused
    ) as lsp:
        await lsp.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": document.as_uri(),
                    "languageId": "python",
                    "version": 1,
                    "text": "x = 1\n",
                }
            },
        )
        assert "result" in await refactor(lsp, document.as_uri())
        shown = " ".join(lsp.shown_messages())
    assert "Cannot reach GLM at http://127.0.0.1:9/api/" in shown
    assert_no_key(bytes(lsp.stdout_bytes), bytes(lsp.stderr_bytes), log_file.read_bytes())


COMMAND_LIKE = ["$(cat /etc/passwd)", "`id`", "HOME; rm -rf ~", "../BIGMODEL_API_KEY", "A B"]


async def test_settings_cannot_make_the_key_source_a_command(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """apiKeyEnv from workspace/configuration (and later changes) must name a variable: a
    shell snippet is refused with a warning naming the key, and the key keeps coming from
    the default variable."""
    async with start_session(fake_glm, tmp_path, configuration={"apiKeyEnv": COMMAND_LIKE[0]}) as (
        client,
        _,
    ):
        status = await execute(client, "glm.status", {})
        assert status["hasKey"] is True
        for value in COMMAND_LIKE[1:]:
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings={"glm": {"apiKeyEnv": value}})
            )
            status = await execute(client, "glm.status", {})
            assert status["hasKey"] is True, value
        warnings = messages_of(client, types.MessageType.Warning)
        fake_glm.enqueue(Reply(text="pong"))
        (tmp_path / "a.py").write_text("x = 1\n")
        await execute(
            client,
            "glm.explain",
            {
                "uri": (tmp_path / "a.py").as_uri(),
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
            },
        )
    assert sum("apiKeyEnv" in w for w in warnings) == len(COMMAND_LIKE)
    assert fake_glm.requests[-1].headers["authorization"] == f"Bearer {TEST_KEY}"


def test_a_workspace_cannot_choose_where_the_key_goes() -> None:
    """VS Code applies a cloned repo's .vscode/settings.json unless a key's scope is machine
    or application (user settings only): glm.baseUrl and glm.apiKeyEnv from a workspace could
    send the key to another host (the server would ask first; the editor should not even let
    the workspace set them)."""
    package = Path(__file__).resolve().parents[2] / "editors" / "vscode" / "package.json"
    manifest = json.loads(package.read_text(encoding="utf-8"))
    configuration = manifest["contributes"]["configuration"]
    sections = configuration if isinstance(configuration, list) else [configuration]
    properties = {k: v for section in sections for k, v in section["properties"].items()}
    for key in ("glm.baseUrl", "glm.apiKeyEnv"):
        assert properties[key].get("scope") in ("machine", "application"), key
