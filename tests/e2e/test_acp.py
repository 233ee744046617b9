"""``glm-lsp --acp`` end to end: the real agent process, driven by the ACP SDK's own client side,
against the fake GLM scripted as the model. What an ACP editor (Zed, JetBrains) sees: streamed
text and thoughts, tool calls, diffs, one permission for the change set, and the writes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.acp_harness import RecordingClient, start_acp
from tests.conftest import TEST_KEY
from tests.e2e.test_agent import make_workspace, play_model, tool_results, tools
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, start_session

TWO_FILE_SCRIPT = (
    tools(("read_file", {"path": "a.py"}), ("read_file", {"path": "b.py"})),
    tools(
        ("edit_file", {"path": "a.py", "old_text": "def helper():", "new_text": "def assist():"}),
        ("write_file", {"path": "c.py", "content": "from a import assist\n"}),
    ),
    Reply(text="Renamed helper to assist and added c.py.", reasoning="Two files to touch."),
)
FILES = {"a.py": "def helper():\n    return 1\n", "b.py": "from a import helper\n"}


async def test_a_two_file_change_shows_diffs_asks_once_then_writes_through_the_editor(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, FILES)
    play_model(fake_glm, *TWO_FILE_SCRIPT)
    async with start_acp(fake_glm, root) as acp:
        response = await acp.prompt("rename helper to assist and add c.py")
        client = acp.client

    assert response.stop_reason == "end_turn"
    # The reasoning streamed as thoughts, the model's words as message chunks.
    assert "Two files to touch." in client.thought_text()
    assert "Renamed helper to assist and added c.py." in client.message_text()
    # Each tool the model called was a tool call with a kind and a location.
    reads = client.tool_calls("read")
    assert [Path(r.locations[0].path).name for r in reads] == ["a.py", "b.py"]
    # Then each changed file as an edit tool call with its diff (oldText null for a new file).
    edits = [c for c in client.tool_calls("edit") if c.tool_call_id.startswith("glm-change")]
    diffs = {Path(c.content[0].path).name: c.content[0] for c in edits}
    assert diffs["a.py"].old_text == FILES["a.py"]
    assert diffs["a.py"].new_text == "def assist():\n    return 1\n"
    assert diffs["c.py"].old_text is None
    assert diffs["c.py"].new_text == "from a import assist\n"
    # ONE permission for the change set, after the diffs, before any write.
    assert len(client.permissions) == 1
    assert "2 file(s)" in client.permissions[0].title
    # Exactly the new texts, through fs/write_text_file.
    assert {Path(p).name: text for p, text in client.writes} == {
        "a.py": "def assist():\n    return 1\n",
        "c.py": "from a import assist\n",
    }
    assert (root / "a.py").read_text() == "def assist():\n    return 1\n"
    assert "glm-lsp wrote 2 file(s)" in client.message_text()


async def test_reject_writes_nothing(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = make_workspace(tmp_path, FILES)
    play_model(fake_glm, *TWO_FILE_SCRIPT)
    async with start_acp(fake_glm, root, RecordingClient(answer="reject")) as acp:
        response = await acp.prompt("rename helper")
        client = acp.client
    assert response.stop_reason == "end_turn"
    assert len(client.permissions) == 1
    assert client.writes == []
    assert (root / "a.py").read_text() == FILES["a.py"]
    assert not (root / "c.py").exists()
    assert "nothing was written" in client.message_text()


async def test_a_client_without_write_text_file_gets_the_files_written_by_the_server(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, FILES)
    play_model(fake_glm, *TWO_FILE_SCRIPT)
    async with start_acp(fake_glm, root, write=False) as acp:
        await acp.prompt("rename helper")
        client = acp.client
    assert client.writes == []
    assert (root / "a.py").read_text() == "def assist():\n    return 1\n"
    assert (root / "c.py").read_text() == "from a import assist\n"


async def test_a_read_sees_the_editors_unsaved_text(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = make_workspace(tmp_path, FILES)
    unsaved = "from a import helper\n\nprint(helper())  # unsaved\n"
    client = RecordingClient(buffers={str((root / "b.py").resolve()): unsaved})
    play_model(fake_glm, tools(("read_file", {"path": "b.py"})), Reply(text="Read it."))
    async with start_acp(fake_glm, root, client) as acp:
        await acp.prompt("read b.py")
    assert tool_results(fake_glm.requests[1].body) == [unsaved]
    assert str((root / "b.py").resolve()) in client.reads


async def test_reads_outside_the_workspace_and_of_secrets_return_errors_to_the_model(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {**FILES, ".env": "TOKEN=hunter2\n"})
    (tmp_path / "outside.txt").write_text("outside secret\n")
    client = RecordingClient()
    play_model(
        fake_glm,
        tools(("read_file", {"path": "../outside.txt"}), ("read_file", {"path": ".env"})),
        Reply(text="Could not read them."),
    )
    async with start_acp(fake_glm, root, client) as acp:
        await acp.prompt("read the secrets")
    results = tool_results(fake_glm.requests[1].body)
    assert all(r.startswith("error:") for r in results), results
    assert "hunter2" not in json.dumps(fake_glm.requests[1].body)
    assert "outside secret" not in json.dumps(fake_glm.requests[1].body)
    assert client.reads == []  # confinement first: the editor was never asked for them


async def test_cancel_closes_the_upstream_at_once_and_returns_cancelled(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, FILES)
    play_model(fake_glm, Reply(text="x" * 4000, chunk_size=4, chunk_delay=0.05))
    async with start_acp(fake_glm, root) as acp:
        turn = asyncio.ensure_future(acp.prompt("slow"))
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 1, 30)
        await acp.conn.cancel(session_id=acp.session_id)
        response = await asyncio.wait_for(turn, 30)
        assert response.stop_reason == "cancelled"
        assert await asyncio.to_thread(fake_glm.wait_closed, 0, 30)
        client = acp.client
    assert client.permissions == []
    assert client.writes == []


async def test_cancel_while_the_permission_is_open_writes_nothing(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, FILES)
    play_model(fake_glm, *TWO_FILE_SCRIPT)
    client = RecordingClient(answer="never")
    async with start_acp(fake_glm, root, client) as acp:
        turn = asyncio.ensure_future(acp.prompt("rename helper"))
        await asyncio.wait_for(client.asked.wait(), 60)
        await acp.conn.cancel(session_id=acp.session_id)
        response = await asyncio.wait_for(turn, 30)
    assert response.stop_reason == "cancelled"
    assert client.writes == []
    assert (root / "a.py").read_text() == FILES["a.py"]
    assert not (root / "c.py").exists()


async def test_the_checks_permission_flows_through_request_permission(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, FILES)
    config = tmp_path / "xdg"
    (config / "glm-lsp").mkdir(parents=True)
    settings = {"agent": {"checkCommand": ["python3", "-c", "print('checked')"]}}
    (config / "glm-lsp" / "settings.json").write_text(json.dumps(settings))
    client = RecordingClient(answers=["reject"], answer="reject")
    play_model(fake_glm, tools(("run_check", {})), Reply(text="Done."))
    async with start_acp(fake_glm, root, client, extra_env={"XDG_CONFIG_HOME": str(config)}) as acp:
        await acp.prompt("check it")
    question = client.permissions[0].title
    assert "python3 -c" in question and "scratch copy" in question
    result = tool_results(fake_glm.requests[1].body)[0]
    assert "not run" in result and "did not allow" in result


async def test_a_glm_error_ends_the_turn_with_its_message_no_write_and_no_key(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, FILES)
    fake_glm.enqueue(
        Reply(status=401, error_code="1001", error_message=f"bad key {TEST_KEY} rejected")
    )
    async with start_acp(fake_glm, root) as acp:
        response = await acp.prompt("rename helper")
        client = acp.client
    assert response.stop_reason == "end_turn"
    assert "rejected the API key" in client.message_text()
    assert "Nothing was written" in client.message_text()
    assert client.writes == []
    assert TEST_KEY not in client.everything_received()
    assert TEST_KEY.split(".")[1] not in client.everything_received()


async def test_a_refused_write_is_named_and_the_others_are_written(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, FILES)
    play_model(fake_glm, *TWO_FILE_SCRIPT)
    client = RecordingClient(refuse_writes={str((root / "c.py").resolve())})
    async with start_acp(fake_glm, root, client) as acp:
        await acp.prompt("rename helper")
    text = client.message_text()
    assert "glm-lsp wrote 1 file(s): a.py" in text
    assert "NOT written: c.py" in text
    statuses = {
        u.tool_call_id: u.status
        for u in client.updates
        if getattr(u, "session_update", "") == "tool_call_update"
        and u.tool_call_id.startswith("glm-change")
    }
    assert sorted(statuses.values()) == ["completed", "failed"]


async def test_bad_requests_get_clear_errors_and_the_agent_keeps_answering(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    from acp import RequestError, text_block

    root = make_workspace(tmp_path, FILES)
    play_model(fake_glm, Reply(text="y" * 2000, chunk_size=4, chunk_delay=0.05), Reply(text="ok"))
    async with start_acp(fake_glm, root) as acp:
        with pytest.raises(RequestError) as unknown:
            await acp.conn.prompt(session_id="nope", prompt=[text_block("hi")])
        assert "unknown session" in json.dumps(unknown.value.data)
        with pytest.raises(RequestError) as relative:
            await acp.conn.new_session(cwd="relative/path", mcp_servers=[])
        assert "not an existing folder" in json.dumps(relative.value.data)
        # Malformed JSON-RPC on the wire: a line that is not JSON.
        assert acp.process.stdin is not None
        acp.process.stdin.write(b"{not json\n")
        await acp.process.stdin.drain()
        running = asyncio.ensure_future(acp.prompt("slow"))
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 1, 30)
        with pytest.raises(RequestError) as busy:
            await acp.conn.prompt(session_id=acp.session_id, prompt=[text_block("again")])
        assert "already running" in json.dumps(busy.value.data)
        await acp.conn.cancel(session_id=acp.session_id)
        assert (await asyncio.wait_for(running, 30)).stop_reason == "cancelled"
        # Still answering.
        assert (await acp.prompt("again")).stop_reason == "end_turn"
        assert acp.process.returncode is None


async def _through_lsp(fake: FakeGlm, root: Path) -> None:
    async with start_session(fake, root) as (client, _editor):
        await execute(client, "glm.agent", {"instruction": "rename helper"})


async def _through_acp(fake: FakeGlm, root: Path) -> None:
    async with start_acp(fake, root, write=False) as acp:
        await acp.prompt("rename helper")


@pytest.mark.parametrize("front_door", ["lsp", "acp"])
async def test_the_same_script_through_lsp_and_acp_gives_the_same_files(
    fake_glm: FakeGlm, tmp_path: Path, front_door: str
) -> None:
    root = make_workspace(tmp_path, FILES)
    play_model(fake_glm, *TWO_FILE_SCRIPT)
    await (_through_lsp if front_door == "lsp" else _through_acp)(fake_glm, root)
    files = {p.name: p.read_text() for p in sorted(root.iterdir()) if p.is_file()}
    assert files == {
        "a.py": "def assist():\n    return 1\n",
        "b.py": "from a import helper\n",
        "c.py": "from a import assist\n",
    }


async def test_the_key_goes_to_a_settings_host_only_after_the_user_allows_it(
    tmp_path: Path,
) -> None:
    root = make_workspace(tmp_path, FILES)
    config = tmp_path / "xdg"
    (config / "glm-lsp").mkdir(parents=True)
    (config / "glm-lsp" / "settings.json").write_text(
        json.dumps({"glm": {"baseUrl": "https://llm.example.test/v1/"}})
    )
    client = RecordingClient(answer="reject")
    async with start_acp(None, root, client, extra_env={"XDG_CONFIG_HOME": str(config)}) as acp:
        response = await acp.prompt("rename helper")
    assert response.stop_reason == "end_turn"
    (question,) = client.permissions
    # Consent is kept by scheme, host and port (issue 27).
    assert question.title.startswith("Send your GLM API key to https://llm.example.test:443?")
    text = client.message_text()
    assert "was not sent to https://llm.example.test:443" in text
    assert "Nothing was written" in text
    assert TEST_KEY not in client.everything_received()


async def test_a_base_url_without_a_scheme_ends_the_turn_naming_it(tmp_path: Path) -> None:
    """Never the default host in its place: nothing is asked, nothing sent, nothing written."""
    root = make_workspace(tmp_path, FILES)
    config = tmp_path / "xdg"
    (config / "glm-lsp").mkdir(parents=True)
    (config / "glm-lsp" / "settings.json").write_text(
        json.dumps({"glm": {"baseUrl": "gpu-box:8000/v1/"}})
    )
    client = RecordingClient(answer="reject")
    async with start_acp(None, root, client, extra_env={"XDG_CONFIG_HOME": str(config)}) as acp:
        response = await acp.prompt("rename helper")
    assert response.stop_reason == "end_turn"
    assert client.permissions == []
    text = client.message_text()
    assert "glm.baseUrl is 'gpu-box:8000/v1/'" in text and "Nothing was written" in text
