"""The check's sandbox, end to end: the real server, the fake GLM playing a model that writes
a hostile ``conftest.py``, real pytest and Node projects, bubblewrap on this machine.

Each attack of issue 26 is one test here; each failed before the sandbox (run it on the
parent commit to see): the check read the key from its parent's environment, the user's
files through ``/proc/$PPID/cwd`` and ``$HOME``, wrote outside its copy, reached the
network, left a daemon running, changed the consent file, ran a repository's look-alike
program, and inherited the consent of another repository cloned into the same folder."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from lsprotocol import types

from glm_lsp.agent.check_sandbox import sandbox_problem
from tests.acp_harness import RecordingClient, start_acp
from tests.conftest import TEST_KEY
from tests.e2e.test_agent import agent, make_workspace, play_model, tools
from tests.e2e.test_agent_check import _gone, _sleeping, check_options, sleeper, token_processes
from tests.e2e.test_doctor import run_doctor
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, messages_of, server_env, start_session, wait_until

PY = sys.executable
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's sandbox")


@pytest.fixture(autouse=True)
def require_bubblewrap() -> None:
    problem = sandbox_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the sandbox tests (tests/install_test_tools.sh): {problem}")
    pytest.skip(problem)


# GLM's conftest: every line it prints is `PROBE <name> = <repr of what it got>`.
PROBE = """
import os, socket, subprocess, sys

def report(name, read):
    try:
        value = read()
    except Exception as exc:
        value = "denied: " + type(exc).__name__
    print("PROBE", name, "=", repr(value), flush=True)

def read(path, limit=200):
    with open(path, "rb") as file:
        return file.read(limit).decode("utf-8", "replace")

def write(path):
    with open(path, "w") as file:
        file.write("written by the check")
    return "written"

parent = os.getppid()
SETTINGS = {settings!r}
report("key in parent environ", lambda: "API_KEY=" in read(f"/proc/{{parent}}/environ", 1 << 20))
report("key in environ", lambda: [n for n in os.environ if "KEY" in n])
report("file via parent cwd", lambda: read(f"/proc/{{parent}}/cwd/pyproject.toml"))
report("ssh key", lambda: read(SETTINGS["ssh_key"]))
report("user .env", lambda: read(SETTINGS["dotenv"]))
report("state dir", lambda: os.listdir(SETTINGS["state"]))
report("consent written", lambda: write(os.path.join(SETTINGS["state"], "consent.json")))
report("hostname", lambda: read("/etc/hostname"))
report("write outside", lambda: write(SETTINGS["outside"]))
report("write user folder", lambda: write(SETTINGS["planted"]))
report("socket", lambda: socket.create_connection(("127.0.0.1", SETTINGS["port"]), 2) and "open")
report("daemon", lambda: subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(3600)", SETTINGS["token"]],
    start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
).pid and "started")
"""
TEST_FILE = "def test_nothing():\n    assert True\n"


def probe_lines(output: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for line in output.splitlines():
        if line.startswith("PROBE "):
            name, _, value = line[len("PROBE ") :].partition(" = ")
            found[name] = ast.literal_eval(value)
    return found


def denied_or_empty(value: Any) -> bool:
    return value in ("", [], False) or (isinstance(value, str) and value.startswith("denied"))


def fake_home(tmp_path: Path) -> Path:
    """A home with an SSH key and glm-lsp's state folder, where a user has them."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (home / ".local" / "state" / "glm-lsp").mkdir(parents=True)
    return home


async def test_a_hostile_conftest_sees_nothing_of_the_user_and_leaves_nothing_running(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"test_it.py": TEST_FILE, ".env": "DB_PASSWORD=hunter2\n"})
    home = fake_home(tmp_path)
    (tmp_path / "outside").mkdir()
    state = home / ".local" / "state" / "glm-lsp"
    token = f"glm-daemon-{uuid.uuid4().hex}"
    settings = {
        "ssh_key": str(home / ".ssh" / "id_ed25519"),
        "dotenv": str(root / ".env"),
        "state": str(state),
        "outside": str(tmp_path / "outside" / "outside.txt"),
        "planted": str(root / "planted.txt"),
        "port": urlsplit(fake_glm.url).port,
        "token": token,
    }
    conftest = PROBE.format(settings=settings)
    results: list[str] = []

    def after_check(messages: list[dict[str, Any]]) -> Reply:
        results.append(messages[-1]["content"])
        return Reply(text="Done.")

    play_model(
        fake_glm,
        tools(("write_file", {"path": "conftest.py", "content": conftest}), ("run_check", {})),
        after_check,
    )
    # ~/.local is readable (as when pytest lives in ~/.local/bin): the state folder in it
    # must still be hidden.
    options = check_options([PY, "-m", "pytest", "-q", "-s"], checkReadPaths=[str(home / ".local")])
    env = {"HOME": str(home), "GLM_LSP_STATE_DIR": str(state)}
    async with start_session(
        fake_glm, root, init_options=options, message_answer="Allow", extra_env=env
    ) as (client, _editor):
        await execute(client, "glm.agent", agent("add a conftest"))
        (result,) = results
        report = probe_lines(result)
        assert len(report) == 12, result
        assert {name: v for name, v in report.items() if not denied_or_empty(v)} == {
            "daemon": "started"  # it could start one: it must be gone when the check ends
        }
        assert "1 passed" in result  # the project's tests themselves ran
        assert await _gone(token)
        assert (
            not (tmp_path / "outside" / "outside.txt").exists()
            and not (root / "planted.txt").exists()
        )
        consent = json.loads((state / "consent.json").read_text())
        assert list(consent["allowed"]) == ["check"]  # only the user's Allow is in it
    assert token_processes(token) == []
    for request in fake_glm.requests:
        assert TEST_KEY not in json.dumps(request.body)


async def test_the_check_output_never_carries_the_key_upstream(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """Even a check that learns the key (here: from a file the project keeps it in) reaches
    GLM, and the editor, redacted."""
    root = make_workspace(
        tmp_path,
        {
            "show.py": "print('the key is', open('settings.txt').read().strip())\n",
            "settings.txt": f"{TEST_KEY}\n",
        },
    )
    results: list[str] = []

    def after_check(messages: list[dict[str, Any]]) -> Reply:
        results.append(messages[-1]["content"])
        return Reply(text="Done.")

    play_model(fake_glm, tools(("run_check", {})), after_check)
    options = check_options([PY, "show.py"])
    async with start_session(fake_glm, root, init_options=options, message_answer="Allow") as (
        client,
        _editor,
    ):
        await execute(client, "glm.agent", agent("check"))
        (result,) = results
        assert "the key is [REDACTED]" in result
        shown = await execute(client, "glm.check", {})
        assert shown["output"].strip() == "the key is [REDACTED]"
    for request in fake_glm.requests:
        assert TEST_KEY not in json.dumps(request.body)


def _git(root: Path, *args: str) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(root.parent),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _repository(root: Path, text: str) -> None:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "readme.txt").write_text(text)
    _git(root, "init", "-q")
    _git(root, "add", "readme.txt")
    _git(root, "commit", "-q", "-m", text)


async def test_consent_does_not_carry_to_another_repository_cloned_into_the_same_folder(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    state = {"GLM_LSP_STATE_DIR": str(tmp_path / "state")}
    argv = [PY, "-c", "print('checked')"]
    _repository(root, "the user's own project")
    async with start_session(
        fake_glm, root, init_options=check_options(argv), message_answer="Allow", extra_env=state
    ) as (client, editor):
        assert (await execute(client, "glm.check", {}))["passed"] is True
        assert len(editor.questions) == 1
    # The same repository: remembered.
    async with start_session(
        fake_glm, root, init_options=check_options(argv), message_answer=None, extra_env=state
    ) as (client, editor):
        assert (await execute(client, "glm.check", {}))["passed"] is True
        assert editor.questions == []
    # Another repository in the same folder (its own first commit): asked again.
    _repository(root, "a repository someone else wrote")
    async with start_session(
        fake_glm, root, init_options=check_options(argv), message_answer=None, extra_env=state
    ) as (client, editor):
        assert await execute(client, "glm.check", {}) == {"ran": False, "reason": "not allowed"}
        assert len(editor.questions) == 1


async def test_a_changed_program_in_the_workspace_asks_again(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"tools/check": "#!/bin/sh\necho fine\n"})
    (root / "tools" / "check").chmod(0o755)
    state = {"GLM_LSP_STATE_DIR": str(tmp_path / "state")}
    options = check_options(["./tools/check"])
    async with start_session(
        fake_glm, root, init_options=options, message_answer="Allow", extra_env=state
    ) as (client, editor):
        assert (await execute(client, "glm.check", {}))["output"].strip() == "fine"
        (question,) = editor.question_texts()
        assert question.startswith(
            "Let GLM run `./tools/check` (the repository's own script `./tools/check`) in a sandbox"
        )
    (root / "tools" / "check").write_text("#!/bin/sh\necho changed\n")
    async with start_session(
        fake_glm, root, init_options=options, message_answer=None, extra_env=state
    ) as (client, editor):
        assert await execute(client, "glm.check", {}) == {"ran": False, "reason": "not allowed"}
        assert len(editor.questions) == 1


async def test_a_look_alike_program_name_is_refused_without_a_question(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """The repository ships `.venv/bin/python -m pytest -q` with no-break spaces: one
    program whose name reads like the usual command."""
    marker = tmp_path / "the-script-ran.txt"
    look_alike = ".venv/bin/python\u00a0-m\u00a0pytest\u00a0-q"
    root = make_workspace(
        tmp_path, {look_alike: f"#!/bin/sh\necho ran > {marker}\n", "test_it.py": TEST_FILE}
    )
    (root / look_alike).chmod(0o755)
    # The workspace's own settings name it; unconfined, so a run would leave the marker.
    configuration = check_options([look_alike], checkSandbox="none")
    async with start_session(
        fake_glm, root, configuration=configuration, message_answer="Allow"
    ) as (client, editor):
        result = await execute(client, "glm.check", {})
        assert result == {"ran": False, "reason": "not allowed"}
        assert editor.questions == []
        (warning,) = [m for m in messages_of(client, types.MessageType.Warning) if "glm.check" in m]
        assert "U+00A0 (NO-BREAK SPACE)" in warning
        assert '".venv/bin/python\\u00a0-m\\u00a0pytest\\u00a0-q"' in warning
    assert not marker.exists()


def _copy_pytest_into(venv: Path) -> None:
    """The venv gets its own pytest: the packages copied from this interpreter's."""
    site = Path(sysconfig.get_paths()["purelib"])
    (target,) = list((venv / "lib").glob("python*/site-packages"))
    names = ["pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pygments", "py.py"]
    names += ["exceptiongroup", "tomli"]  # before Python 3.11
    for name in names:
        source = site / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.is_file():
            shutil.copy(source, target / name)


async def test_a_pytest_project_with_its_own_venv_passes_in_the_sandbox(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(
        tmp_path,
        {
            "calc.py": "def add(a, b):\n    return a + b\n",
            "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n"
            "    assert add(2, 3) == 5\n",
            ".gitignore": ".venv/\n",
        },
    )
    subprocess.run([PY, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    _copy_pytest_into(root / ".venv")
    options = check_options([".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    async with start_session(fake_glm, root, init_options=options, message_answer="Allow") as (
        client,
        _editor,
    ):
        result = await execute(client, "glm.check", {})
        assert result["passed"] is True, result["output"]
        assert "1 passed" in result["output"]
    assert not list((root / ".venv").rglob("__pycache__/calc*"))  # read-only: nothing written


async def test_a_node_project_whose_test_uses_node_modules_passes_in_the_sandbox(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    root = make_workspace(
        tmp_path,
        {
            "package.json": json.dumps({"name": "calc", "version": "1.0.0", "type": "module"}),
            ".gitignore": "node_modules/\n",
            "calc.js": "import pad from 'left-pad';\nexport const label = (n) => pad(n, 3);\n",
            "test/calc.test.js": (
                "import test from 'node:test';\nimport assert from 'node:assert';\n"
                "import { label } from '../calc.js';\n"
                "test('pads', () => assert.strictEqual(label(7), '007'));\n"
            ),
            "node_modules/left-pad/package.json": json.dumps(
                {"name": "left-pad", "version": "1.3.0", "main": "index.js"}
            ),
            "node_modules/left-pad/index.js": (
                "module.exports = (s, n) => String(s).padStart(n, '0');\n"
            ),
        },
    )
    options = check_options([node, "--test"])
    async with start_session(fake_glm, root, init_options=options, message_answer="Allow") as (
        client,
        _editor,
    ):
        result = await execute(client, "glm.check", {})
        assert result["passed"] is True, result["output"]
        assert "# pass 1" in result["output"]


async def test_without_bwrap_the_check_waits_for_the_full_rights_question(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(
        tmp_path, {"mark.py": "import sys\nopen(sys.argv[1], 'w').write('ran')\n"}
    )
    marker = tmp_path / "the-check-ran.txt"
    no_bwrap = tmp_path / "bin"  # a PATH without bwrap (the check names its program by path)
    no_bwrap.mkdir()
    env = {"PATH": str(no_bwrap), "GLM_LSP_STATE_DIR": str(tmp_path / "state")}
    options = check_options([PY, "mark.py", str(marker)])

    def allow_only_the_check(params: types.ShowMessageRequestParams) -> str | None:
        return None if "FULL RIGHTS" in params.message else "Allow"

    async with start_session(
        fake_glm, root, init_options=options, message_answer=allow_only_the_check, extra_env=env
    ) as (client, editor):
        result = await execute(client, "glm.check", {})
        assert result == {"ran": False, "reason": "not allowed"}
        first, second = editor.question_texts()
        assert first.startswith(f"Let GLM run `{PY} mark.py {marker}` in a sandbox")
        assert second.startswith(
            "The check cannot run in a sandbox: bubblewrap (bwrap) is not installed or not on "
            f"PATH. Run `{PY} mark.py {marker}` in a scratch copy of {root} WITH YOUR FULL "
            "RIGHTS? Code GLM wrote could then read your files and keys"
        )
        assert not marker.exists()
        editor.message_answer = "Allow"
        assert (await execute(client, "glm.check", {}))["passed"] is True
        assert marker.read_text() == "ran"


def test_doctor_says_whether_the_check_can_be_sandboxed(fake_glm: FakeGlm, tmp_path: Path) -> None:
    fake_glm.enqueue(Reply(text="pong"), Reply(text="a + b"))
    here = run_doctor(server_env(fake_glm))
    assert "sandbox  ok: the check runs sandboxed (bubblewrap " in here.stdout
    elsewhere = run_doctor(server_env(fake_glm, key=None, PATH=str(tmp_path)))
    assert (
        "sandbox  the check cannot be sandboxed: bubblewrap (bwrap) is not installed or not on "
        "PATH (Debian/Ubuntu: apt install bubblewrap)" in elsewhere.stdout
    )


async def test_the_network_is_the_users_to_open_and_opening_it_asks_again(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    connect = (
        "import socket, sys\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', int(sys.argv[1])), 5).close()\n"
        "    print('connected')\n"
        "except OSError as exc:\n"
        "    print('no network:', type(exc).__name__)\n"
    )
    root = make_workspace(tmp_path, {"connect.py": connect})
    argv = [PY, "connect.py", str(urlsplit(fake_glm.url).port)]
    state = {"GLM_LSP_STATE_DIR": str(tmp_path / "state")}
    async with start_session(
        fake_glm, root, init_options=check_options(argv), message_answer="Allow", extra_env=state
    ) as (client, _editor):
        assert (await execute(client, "glm.check", {}))["output"].startswith("no network:")
    # The workspace opens the network: asked again, and the question says so.
    opened = check_options(argv, checkNetwork=True)
    async with start_session(
        fake_glm, root, configuration=opened, message_answer="Allow", extra_env=state
    ) as (client, editor):
        assert (await execute(client, "glm.check", {}))["output"].strip() == "connected"
        (question,) = editor.question_texts()
        assert "it may use the network (glm.agent.checkNetwork)" in question


async def test_the_acp_agents_check_runs_in_the_same_sandbox(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    probe = "import os\nprint('home holds', sorted(os.listdir(os.path.expanduser('~'))))\n"
    root = make_workspace(tmp_path, {"probe.py": probe})
    home = fake_home(tmp_path)
    (home / ".config" / "glm-lsp").mkdir(parents=True)
    settings = {"agent": {"checkCommand": [PY, "probe.py"]}}
    (home / ".config" / "glm-lsp" / "settings.json").write_text(json.dumps(settings))
    results: list[str] = []

    def after_check(messages: list[dict[str, Any]]) -> Reply:
        results.append(messages[-1]["content"])
        return Reply(text="Done.")

    play_model(fake_glm, tools(("run_check", {})), after_check)
    client = RecordingClient(answer="allow")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    async with start_acp(fake_glm, root, client, extra_env=env) as acp:
        await acp.prompt("check it")
    (result,) = results
    assert result.startswith("exit code 0") and "home holds []" in result  # a private HOME
    assert "in a sandbox" in client.permissions[0].title


async def test_nothing_the_check_started_outlives_a_killed_server(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"calc.py": "x = 1\n"})
    argv, token = sleeper(root)
    play_model(fake_glm, tools(("run_check", {})), Reply(text="unreachable"))
    async with start_session(
        fake_glm, root, init_options=check_options(argv), message_answer="Allow"
    ) as (client, _editor):
        pending = asyncio.ensure_future(execute(client, "glm.agent", agent("check")))
        assert await wait_until(lambda: _sleeping(token) >= 2, 20), "the check never started"
        server = client._server
        assert server is not None
        server.kill()  # no shutdown, no cleanup: the kernel and bubblewrap must do it
        await server.wait()
        try:
            assert await _gone(token)
        finally:
            pending.cancel()
            for pid in token_processes(token):  # only when the assertion failed
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
