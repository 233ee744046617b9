"""Settings fail closed (issue 27), through the real server.

- A 950-deep junk key and a bad value cost those keys only: the user's stricter
  ``agent.exclude`` stays, and a warning names each bad key.
- A workspace's ``agent.exclude: []`` (workspace/configuration) cannot loosen the user's
  list: ``.env`` stays out of the agent's reach, and a warning says so.
- A file that ``agent.exclude`` covers gets no completion: no request goes upstream.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.e2e.test_next_edit import next_edit
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, inline, messages_of, start_session
from tests.robustness.raw_lsp import RawLsp, raw_server

SECRET = "s3cr3t-0f-the-user-DO-NOT-LEAK"


def _deep(levels: int) -> Any:
    value: Any = "junk"
    for _ in range(levels):
        value = {"a": value}
    return value


def _read_then_finish(fake: FakeGlm, path: str) -> None:
    fake.enqueue(
        Reply(tool_calls=[{"name": "read_file", "arguments": json.dumps({"path": path})}]),
        Reply(text="Done."),
    )


def _tool_results(fake: FakeGlm) -> list[str]:
    return [str(m["content"]) for m in fake.requests[-1].messages if m.get("role") == "tool"]


async def _agent_run(lsp: RawLsp, instruction: str) -> list[str]:
    """One agent run; the messages shown so far."""
    await lsp.status()  # initialized: the settings are applied
    params = {"command": "glm.agent", "arguments": [{"instruction": instruction}]}
    answer = await lsp.request("workspace/executeCommand", params, timeout=60)
    assert "result" in answer, answer
    return lsp.shown_messages()


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "secret.txt").write_text(f"token = {SECRET}\n")
    (root / ".env").write_text(f"API_TOKEN={SECRET}\n")
    (root / "app.py").write_text("def main():\n    return 1\n")
    return root


async def test_deep_junk_and_bad_value_cost_only_their_keys(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = _workspace(tmp_path)
    options = {
        "junk": _deep(950),
        "maxRetries": "many",
        "agent": {"exclude": ["secret.txt", ".env*"], "maxIterations": 3},
    }
    _read_then_finish(fake_glm, "secret.txt")
    # Raw JSON-RPC (pytest-lsp's client cannot encode 950 levels), and room on this side's
    # stack for json.dumps to write them.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 5000))
    try:
        async with raw_server(fake_glm, root, init_options=options) as lsp:
            shown = await _agent_run(lsp, "Read secret.txt")
    finally:
        sys.setrecursionlimit(limit)

    (result,) = _tool_results(fake_glm)
    assert result.startswith("error:"), result
    assert SECRET not in json.dumps(fake_glm.requests[-1].body)
    assert any("'junk'" in m and "too deep" in m for m in shown), shown
    assert any("'maxRetries'" in m for m in shown), shown
    assert not any("RecursionError" in m for m in shown)


async def test_workspace_cannot_empty_the_exclude_list(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    _read_then_finish(fake_glm, ".env")
    configuration = {"agent": {"exclude": [], "maxIterations": 3}}
    async with start_session(fake_glm, root, configuration=configuration) as (client, _editor):
        await execute(client, "glm.agent", {"instruction": "Read .env"})
        warnings = messages_of(client, types.MessageType.Warning)

    (result,) = _tool_results(fake_glm)
    assert result.startswith("error:"), result
    assert SECRET not in json.dumps(fake_glm.requests[-1].body)
    assert any("'agent.exclude'" in w and ".env*" in w for w in warnings), warnings


async def test_no_completion_in_an_excluded_file(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    (root / "deploy_key").mkdir()
    (root / "deploy_key" / "id_ed25519").write_text(f"-----BEGIN KEY-----\n{SECRET}\n")
    fake_glm.enqueue(Reply(text="MORE=1"))
    async with start_session(fake_glm, root) as (client, editor):
        offered: list[Any] = []
        for relative in (".env", "deploy_key/id_ed25519"):
            uri = editor.open(relative, language_id="plaintext")
            end = types.Position(line=1, character=0)
            offered += await inline(client, uri, end)
            offered += await next_edit(client, uri, 1, 1, 0)  # no next edit either

    assert offered == []
    assert fake_glm.requests == []
