"""run_check and glm.check end to end: the real server, the fake GLM scripted as the model,
a real pytest project in a temporary workspace, the editor answering the consent question."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tests.conftest import TEST_KEY
from tests.e2e.test_agent import agent, make_workspace, play_model, tool_results, tools
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, messages_of, shut_down, start_session, wait_until

PY = sys.executable
PYTEST = [PY, "-m", "pytest", "-q"]
CALC = "def add(a, b):\n    return a + b\n"
TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
# Unsaved in the editor: the check must see it (it is nowhere on disk).
UNSAVED_TESTS = TESTS + "\n\ndef test_add_many():\n    assert add(1, 2, 3) == 6\n"
BROKEN = "def add(*numbers):\n    return sum(numbers[1:])\n"
FIXED = "def add(*numbers):\n    return sum(numbers)\n"

# For the tests of "nothing ran": unconfined, a check that ran would leave its marker file.
UNCONFINED = {"checkSandbox": "none"}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``root`` (ignored ones and .git too): its bytes and mtime."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def check_options(argv: list[str], **agent_settings: Any) -> dict[str, Any]:
    return {"agent": {"checkCommand": argv, **agent_settings}}


def tool_names(body: dict[str, Any]) -> list[str]:
    return [tool["function"]["name"] for tool in body.get("tools") or []]


def progress_messages(client: Any) -> list[str]:
    reports = [r for rs in client.progress_reports.values() for r in rs]
    return [r.message or "" for r in reports if isinstance(r, types.WorkDoneProgressReport)]


def calc_project(tmp_path: Path) -> Path:
    return make_workspace(
        tmp_path,
        {
            "calc.py": CALC,
            "tests/test_calc.py": TESTS,
            ".gitignore": "build/\n",
            "build/cache.txt": "ignored output\n",
            ".git/HEAD": "ref: refs/heads/main\n",
        },
    )


async def test_glm_checks_its_change_fixes_it_and_the_edit_says_check_passed(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = calc_project(tmp_path)
    before = snapshot(root)
    during: list[dict[str, tuple[bytes, int]]] = []

    def after_first_check(messages: list[dict[str, Any]]) -> Reply:
        during.append(snapshot(root))
        result = messages[-1]["content"]
        assert result.startswith("exit code 1 ("), result
        assert "FAILED tests/test_calc.py::test_add" in result
        assert "2 failed" in result
        fix = {"path": "calc.py", "old_text": "numbers[1:]", "new_text": "numbers"}
        return tools(("edit_file", fix), ("run_check", {}))

    def after_second_check(messages: list[dict[str, Any]]) -> Reply:
        during.append(snapshot(root))
        result = messages[-1]["content"]
        assert result.startswith("exit code 0 ("), result
        assert "2 passed" in result
        return Reply(text="add takes any number of arguments; the check passed.")

    play_model(
        fake_glm,
        tools(("write_file", {"path": "calc.py", "content": BROKEN}), ("run_check", {})),
        after_first_check,
        after_second_check,
    )
    instruction = "let add take any number of arguments"
    async with start_session(
        fake_glm, root, init_options=check_options(PYTEST), message_answer="Allow"
    ) as (client, editor):
        calc_uri = editor.open("calc.py")
        tests_uri = editor.open("tests/test_calc.py", UNSAVED_TESTS)
        result = await execute(client, "glm.agent", agent(instruction))

        assert len(during) == 2 and all(state == before for state in during)
        assert result["applied"] is True and result["check"] == "passed"
        (params,) = editor.applied_edits
        assert params.label == f"GLM (check passed): {instruction}"
        assert editor.text(calc_uri) == FIXED
        assert editor.text(tests_uri) == UNSAVED_TESTS
        # The edit went to the editor's buffer; the disk is as it was, byte for byte.
        assert snapshot(root) == before
        changed = [
            c.text_document.uri
            for c in params.edit.document_changes or []
            if isinstance(c, types.TextDocumentEdit)
        ]
        assert changed == [calc_uri]

        (question,) = editor.question_texts()
        assert question.startswith(
            f"Let GLM run `{PY} -m pytest -q` in a sandbox, on a scratch copy of {root}? "
        )
        info = messages_of(client, types.MessageType.Info)
        assert any("changed 1 file(s) (calc.py)" in m and "last check passed" in m for m in info)
        progress = progress_messages(client)
        assert any("asking to run" in m for m in progress)
        assert any("running check…" in m for m in progress)
        first = fake_glm.requests[0].body
        assert tool_names(first)[-1] == "run_check"
        assert "run_check" in first["messages"][0]["content"]
        assert not (root / "consent.json").exists()


async def test_without_check_command_there_is_no_run_check(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = calc_project(tmp_path)
    play_model(fake_glm, tools(("run_check", {})), Reply(text="Nothing to do."))
    async with start_session(fake_glm, root, message_answer="Allow") as (client, editor):
        await execute(client, "glm.agent", agent("check it"))
        first = fake_glm.requests[0].body
        assert tool_names(first) == [
            "read_file",
            "list_files",
            "search",
            "write_file",
            "edit_file",
            "delete_file",
            "rename_file",
        ]
        assert "run_check" not in first["messages"][0]["content"]
        (answer,) = tool_results(fake_glm.requests[1].body)
        assert answer.startswith("error: there is no tool named 'run_check'")
        assert editor.questions == []


async def test_the_check_environment_has_no_glm_key(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = calc_project(tmp_path)
    (root / "probe.py").write_text(
        "import os, sys\n"
        "key = sys.argv[1]\n"
        "found = [n for n, v in os.environ.items() if key in v]\n"
        "print('GLM key in the environment:', ', '.join(found) or 'none')\n"
    )
    argv = [PY, "probe.py", TEST_KEY]
    async with start_session(
        fake_glm,
        root,
        init_options=check_options(argv),
        message_answer="Allow",
        extra_env={"COPY_OF_THE_TOKEN": f"Bearer {TEST_KEY}"},
    ) as (client, editor):
        result = await execute(client, "glm.check", {})
        assert result["ran"] is True and result["passed"] is True
        assert result["output"].strip() == "GLM key in the environment: none"
        assert any("Check passed" in m for m in messages_of(client, types.MessageType.Info))
        # Asked once; the second check goes ahead on the remembered answer.
        again = await execute(client, "glm.check", {})
        assert again["passed"] is True
        assert len(editor.questions) == 1


async def test_glm_check_shows_a_failure_with_the_end_of_the_output(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"calc.py": "def add(a, b):\n    return a - b\n"})
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(TESTS)
    async with start_session(
        fake_glm, root, init_options=check_options(PYTEST), message_answer="Allow"
    ) as (client, _editor):
        result = await execute(client, "glm.check", {})
        assert result["ran"] is True and result["passed"] is False
        assert result["exitCode"] == 1
        (warning,) = [m for m in messages_of(client, types.MessageType.Warning) if "Check" in m]
        assert warning.startswith(f"Check failed: `{PY} -m pytest -q`, exit code 1")
        assert "1 failed" in warning
        assert fake_glm.requests == []  # the check needs no GLM


def token_processes(token: str) -> list[int]:
    """The pids of this machine's processes whose command line holds ``token`` (the
    check's own pids are another PID namespace's: it cannot tell the host's)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if token.encode() in cmdline.read():
                    with open(f"/proc/{entry}/stat") as stat:
                        if stat.read().rsplit(")", 1)[-1].split()[0] != "Z":
                            found.append(int(entry))
        except OSError:
            continue
    return found


async def _gone(token: str) -> bool:
    deadline = time.monotonic() + 10
    while token_processes(token):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _sleeping(token: str) -> int:
    """How many Python processes run with ``token`` (the check's script and its child)."""
    count = 0
    for pid in token_processes(token):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                words = cmdline.read().split(b"\0")
        except OSError:
            continue
        count += os.path.basename(words[0]).startswith(b"python")
    return count


def sleeper(root: Path) -> tuple[list[str], str]:
    """A check that starts a child and both sleep forever; both carry a token in their
    command line, by which the test finds them."""
    token = f"glm-sleeper-{uuid.uuid4().hex}"
    (root / "sleeper.py").write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)',"
        " sys.argv[1]])\n"
        "print('sleeping', flush=True)\n"
        "time.sleep(3600)\n"
    )
    return [PY, "sleeper.py", token], token


async def test_a_check_past_its_time_limit_is_killed_with_its_children(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = calc_project(tmp_path)
    argv, token = sleeper(root)

    def told(messages: list[dict[str, Any]]) -> Reply:
        result = messages[-1]["content"]
        assert result.startswith("timed out after 2 s (glm.agent.checkTimeout)"), result
        assert "sleeping" in result
        return Reply(text="The check timed out.")

    play_model(
        fake_glm,
        tools(("write_file", {"path": "calc.py", "content": FIXED}), ("run_check", {})),
        told,
    )
    options = check_options(argv, checkTimeout=2)
    async with start_session(fake_glm, root, init_options=options, message_answer="Allow") as (
        client,
        editor,
    ):
        result = await execute(client, "glm.agent", agent("change add"))
        assert await _gone(token)
        assert result["check"] == "failed"
        (params,) = editor.applied_edits
        assert params.label == "GLM (check failed): change add"
        info = messages_of(client, types.MessageType.Info)
        assert any("The last check failed (timed out)" in m for m in info)


async def test_cancelling_the_run_kills_the_check(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = calc_project(tmp_path)
    argv, token = sleeper(root)
    play_model(fake_glm, tools(("run_check", {})), Reply(text="unreachable"))
    options = check_options(argv)
    async with start_session(fake_glm, root, init_options=options, message_answer="Allow") as (
        client,
        editor,
    ):
        pending = asyncio.ensure_future(execute(client, "glm.agent", agent("check")))
        # Both the check and its child run: the token is in two of their command lines
        # (prlimit and bwrap hand on the same argv, so count the sleeping children).
        assert await wait_until(lambda: _sleeping(token) >= 2, 20), "the check never started"
        for request_id, future in list(client.protocol._request_futures.items()):
            if not future.done():
                client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=request_id))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(pending, 10)
        assert await _gone(token)
        assert editor.applied_edits == []
        assert len(fake_glm.requests) == 1


async def test_refused_consent_runs_nothing_and_the_model_is_told(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = calc_project(tmp_path)
    marker = tmp_path / "the-check-ran.txt"

    def told(messages: list[dict[str, Any]]) -> Reply:
        result = messages[-1]["content"]
        assert result.startswith(f"error: the check (`{PY} -c "), result
        assert "was not run: the user did not allow it." in result
        return Reply(text="Changed add; the check was not allowed.")

    play_model(
        fake_glm,
        tools(("write_file", {"path": "calc.py", "content": FIXED}), ("run_check", {})),
        told,
    )
    argv = [PY, "-c", f"open({str(marker)!r}, 'w').write('ran')"]
    async with start_session(
        fake_glm, root, init_options=check_options(argv, **UNCONFINED), message_answer="Don't allow"
    ) as (client, editor):
        result = await execute(client, "glm.agent", agent("change add"))
        assert len(editor.questions) == 1
        assert not marker.exists()
        (params,) = editor.applied_edits
        assert params.label == "GLM (check not run): change add"
        assert result["check"] == "not run"
        info = messages_of(client, types.MessageType.Info)
        assert any("The check was not run (not allowed)" in m for m in info)
        # glm.check asks again (a refusal is not remembered) and runs nothing either.
        check = await execute(client, "glm.check", {})
        assert check == {"ran": False, "reason": "not allowed"}
        assert not marker.exists()


async def test_what_the_check_writes_stays_in_the_copy_and_out_of_the_edit(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = calc_project(tmp_path)
    (root / "keep.txt").write_text("keep me\n")
    (root / "vandal.py").write_text(
        "import os, pathlib, shutil\n"
        "pathlib.Path('calc.py').write_text('broken by the check\\n')\n"
        "with open('keep.txt', 'a') as f: f.write('appended in place')\n"
        "pathlib.Path('tests/test_calc.py').write_text('overwritten in place')\n"
        "os.remove('.gitignore')\n"
        "shutil.rmtree('tests')\n"
        "pathlib.Path('made_by_check.py').write_text('x = 1\\n')\n"
        "pathlib.Path('build').mkdir(exist_ok=True)\n"
        "pathlib.Path('build/cache.txt').write_text('overwritten')\n"
        "print('cwd', os.getcwd())\n"
    )
    before = snapshot(root)
    during: list[dict[str, tuple[bytes, int]]] = []
    copies: list[Path] = []

    def finish(messages: list[dict[str, Any]]) -> Reply:
        during.append(snapshot(root))
        result = messages[-1]["content"]
        assert result.startswith("exit code 0")
        copies.append(Path(result.rsplit("cwd ", 1)[1].strip()))
        return Reply(text="Done.")

    play_model(
        fake_glm,
        tools(("write_file", {"path": "calc.py", "content": FIXED}), ("run_check", {})),
        finish,
    )
    async with start_session(
        fake_glm, root, init_options=check_options([PY, "vandal.py"]), message_answer="Allow"
    ) as (client, editor):
        result = await execute(client, "glm.agent", agent("change add"))
        assert during == [before]
        assert result["applied"] is True
        (params,) = editor.applied_edits
        changes = params.edit.document_changes or []
        assert [type(c).__name__ for c in changes] == ["TextDocumentEdit"]
        assert (root / "calc.py").read_text() == FIXED
        after = snapshot(root)
        assert set(after) == set(before)
        assert {n: s for n, s in after.items() if n != "calc.py"} == {
            n: s for n, s in before.items() if n != "calc.py"
        }
        (copy,) = copies
        assert copy.name == root.name and not copy.is_relative_to(root)
        assert not copy.parent.exists()  # the scratch folder is removed after the check


async def test_consent_is_remembered_per_workspace_and_command_outside_the_workspace(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = calc_project(tmp_path)
    state = {"GLM_LSP_STATE_DIR": str(tmp_path / "state")}
    argv = [PY, "-c", "print('checked')"]
    # The workspace's own settings (workspace/configuration) name the command: still asked.
    async with start_session(
        fake_glm, root, configuration=check_options(argv), message_answer="Allow", extra_env=state
    ) as (client, editor):
        assert (await execute(client, "glm.check", {}))["passed"] is True
        assert len(editor.questions) == 1
    assert (tmp_path / "state" / "consent.json").is_file()
    assert not list(root.rglob("consent.json"))
    # A new session: remembered, not asked again.
    async with start_session(
        fake_glm, root, configuration=check_options(argv), message_answer=None, extra_env=state
    ) as (client, editor):
        assert (await execute(client, "glm.check", {}))["output"].strip() == "checked"
        assert editor.questions == []
    # Another command is another question (closed unanswered here: nothing runs).
    other = [PY, "-c", "print('other')"]
    async with start_session(
        fake_glm, root, configuration=check_options(other), message_answer=None, extra_env=state
    ) as (client, editor):
        assert await execute(client, "glm.check", {}) == {"ran": False, "reason": "not allowed"}
        assert len(editor.questions) == 1


async def test_an_editor_that_cannot_ask_never_runs_the_check(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = calc_project(tmp_path)
    marker = tmp_path / "the-check-ran.txt"
    argv = [PY, "-c", f"open({str(marker)!r}, 'w').write('ran')"]
    play_model(fake_glm, tools(("run_check", {})), Reply(text="Unchecked."))
    async with start_session(
        fake_glm, root, init_options=check_options(argv, **UNCONFINED), show_message_request=False
    ) as (client, _editor):
        await execute(client, "glm.agent", agent("check"))
        (answer,) = tool_results(fake_glm.requests[1].body)
        assert "was not run: this editor cannot ask the user" in answer
        assert (await execute(client, "glm.check", {}))["ran"] is False
        warnings = messages_of(client, types.MessageType.Warning)
        assert any("this editor cannot ask the user" in w for w in warnings)
        assert not marker.exists()


async def test_the_editor_quitting_while_the_check_question_is_open_runs_nothing(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """The command waits on the user, not on GLM: shutdown still gets its answer (pygls' own
    shutdown failed on a pending command, pygls#606), and nothing runs."""
    root = calc_project(tmp_path)
    marker = tmp_path / "the-check-ran.txt"
    argv = [PY, "-c", f"open({str(marker)!r}, 'w').write('ran')"]
    options = check_options(argv, **UNCONFINED)
    async with start_session(fake_glm, root, init_options=options) as (client, editor):
        editor.leave_questions_open = True
        pending = asyncio.ensure_future(execute(client, "glm.check", {}))
        assert await wait_until(lambda: bool(editor.questions))
        await shut_down(client)  # raises if shutdown is answered with an error
        assert client._server is not None and client._server.returncode == 0
        editor.questions_closed.set()
        with pytest.raises(JsonRpcRequestCancelled):
            await pending
    assert not marker.exists()
