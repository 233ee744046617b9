"""agent/check.py: the scratch copy, the run (time limit, process group, output tail, key-free
environment) and the run_check tool's state over one agent run. Real files, real processes."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from glm_lsp.agent.check import (
    AllowFn,
    CheckResult,
    CheckRunner,
    CheckSettings,
    ScratchCopy,
    check_environment,
    check_workspace,
    command_text,
    program_argv,
    run_command,
    tail_text,
)
from glm_lsp.agent.tools import AgentTools
from glm_lsp.workspace import Workspace, WorkspaceError

KEY = "fakeid0123.FAKEsecretNOTreal"
PY = sys.executable


def make_root(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


_RUNNERS: list[CheckRunner] = []


def runner(check: CheckSettings, allow: AllowFn, **kwargs: int) -> CheckRunner:
    """A CheckRunner whose scratch copy is removed after the test (as run.py does)."""
    made = CheckRunner(check, allow, **kwargs)
    _RUNNERS.append(made)
    return made


@pytest.fixture(autouse=True)
def _close_runners() -> Iterator[None]:
    yield
    while _RUNNERS:
        _RUNNERS.pop().close()


def settings(
    argv: list[str], *, timeout: float = 30, max_output_bytes: int = 4096
) -> CheckSettings:
    return CheckSettings(tuple(argv), timeout, max_output_bytes, ("BIGMODEL_API_KEY",), KEY)


def test_the_copy_holds_disk_buffers_and_staged_changes_but_nothing_confined(
    tmp_path: Path,
) -> None:
    root = make_root(
        tmp_path,
        {
            "calc.py": "def add(a, b):\n    return a + b\n",
            "open.py": "on disk\n",
            "gone.py": "deleted in the run\n",
            "old_name.py": "renamed in the run\n",
            "pkg/data.bin": "\x00binary",
            ".env": "SECRET=1\n",
            "certs/server.pem": "-----BEGIN-----\n",
            ".git/config": "[core]\n",
            ".gitignore": "build/\n",
            "build/out.txt": "ignored\n",
            "node_modules/left/index.js": "module.exports = 1\n",
            ".venv/pyvenv.cfg": "home = /usr\n",
        },
    )
    workspace = Workspace([root], open_buffers={root / "open.py": "unsaved buffer\n"})
    workspace.write(root / "calc.py", "def add(a, b):\n    return a - b\n")
    workspace.write(root / "new/module.py", "NEW = 1\n")
    workspace.delete(root / "gone.py")
    workspace.rename(root / "old_name.py", root / "new_name.py")

    with ScratchCopy.prepare(workspace) as copy:
        assert not str(copy.root.resolve()).startswith(str(root.resolve()))
        assert copy.root.name == "project"
        assert tree(copy.root) == {
            ".gitignore": "build/\n",
            "calc.py": "def add(a, b):\n    return a - b\n",
            "new/module.py": "NEW = 1\n",
            "new_name.py": "renamed in the run\n",
            "open.py": "unsaved buffer\n",
            "pkg/data.bin": "\x00binary",
        }
        assert copy.files == 6
        assert not any(p.is_symlink() for p in copy.root.rglob("*"))
        base = copy.base
    assert not base.exists()


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_kept_copy_is_repaired_and_updated_without_copying_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the copy beside the user's files: a hard
    # link between them is possible
    files = {f"pkg/m{n}.py": f"N = {n}\n" for n in range(20)}
    root = make_root(tmp_path, {**files, "calc.py": "A = 1\n", "tests/t.py": "T = 1\n"})
    user = snapshot(root)
    workspace = Workspace([root])
    with ScratchCopy.prepare(workspace) as copy:
        assert (copy.files, copy.written) == (22, 22)
        expected = tree(copy.root)
        copy.sync(workspace)
        assert copy.written == 0  # nothing changed: nothing copied again

        # What a check may do to its copy: change, delete, create, and put links to the
        # user's files and folders where the copy's were.
        with open(copy.root / "pkg/m1.py", "a") as handle:
            handle.write("changed in place\n")
        (copy.root / "pkg/m2.py").unlink()
        (copy.root / "made.txt").write_text("made")
        (copy.root / ".pytest_cache/v").mkdir(parents=True)
        (copy.root / ".pytest_cache/v/x").write_text("cache")
        (copy.root / "pkg/m3.py").unlink()
        os.link(root / "pkg/m3.py", copy.root / "pkg/m3.py")  # same size and mtime
        for name in ("m4.py", "m5.py"):
            (copy.root / "tests" / name).write_text("x")
        shutil.rmtree(copy.root / "tests")
        (copy.root / "tests").symlink_to(root / "tests")

        workspace.write(root / "calc.py", "A = 2\n")
        workspace.write(root / "tests/t.py", "T = 2\n")
        copy.sync(workspace)
        assert tree(copy.root) == {**expected, "calc.py": "A = 2\n", "tests/t.py": "T = 2\n"}
        assert copy.written == 5  # m1 and m2 repaired, m3 unlinked and copied, calc, t
        assert not any(p.is_symlink() for p in copy.root.rglob("*"))
        assert (copy.root / "pkg/m3.py").stat().st_ino != (root / "pkg/m3.py").stat().st_ino
    assert snapshot(root) == user


def test_a_same_size_edit_on_disk_between_checks_reaches_the_copy(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"calc.py": "A = 1\n"})
    workspace = Workspace([root])
    with ScratchCopy.prepare(workspace) as copy:
        before = (root / "calc.py").stat().st_mtime_ns
        (root / "calc.py").write_text("A = 2\n")  # the user's edit: same size, on disk
        os.utime(root / "calc.py", ns=(before + 10**9, before + 10**9))  # a later mtime
        copy.sync(workspace)
        assert (copy.root / "calc.py").read_text() == "A = 2\n"
        assert copy.written == 1


def test_a_temporary_folder_inside_the_workspace_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The copy would land in the user's folder, where the check's writes are the user's.
    root = make_root(tmp_path, {"a.py": "A = 1\n"})
    inside = root / "tmp"
    inside.mkdir()
    monkeypatch.setenv("TMPDIR", str(inside))
    monkeypatch.setattr(tempfile, "tempdir", str(inside))  # gettempdir() caches its answer
    copy = None
    try:
        with pytest.raises(WorkspaceError, match="TMPDIR"):
            copy = ScratchCopy.prepare(Workspace([root]))
    finally:
        if copy is not None:
            copy.remove()
    assert list(inside.iterdir()) == []


def test_what_a_check_made_in_a_copy_of_an_empty_folder_goes_at_the_next_sync(
    tmp_path: Path,
) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    workspace = Workspace([root])
    with ScratchCopy.prepare(workspace) as copy:
        (copy.root / "made.txt").write_text("by the check")
        copy.sync(workspace)
        assert list(copy.root.iterdir()) == []


def test_a_copy_whose_folder_was_replaced_by_a_link_is_not_synced(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"a.py": "A = 1\n"})
    user = snapshot(root)
    workspace = Workspace([root])
    copy = ScratchCopy.prepare(workspace)
    try:
        shutil.rmtree(copy.root)
        copy.root.symlink_to(root)
        workspace.write(root / "a.py", "A = 2\n")
        with pytest.raises(OSError):
            copy.sync(workspace)
        assert snapshot(root) == user
    finally:
        copy.remove()
    assert root.exists() and snapshot(root) == user


def test_copies_left_by_a_server_that_died_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # gettempdir() caches its answer
    dead = subprocess.Popen([PY, "-c", "pass"])
    dead.wait()
    abandoned, running = scratch / "glm-check-abandoned", scratch / "glm-check-running"
    for folder, owner in ((abandoned, dead.pid), (running, os.getpid())):
        (folder / "project").mkdir(parents=True)
        (folder / "owner.pid").write_text(str(owner))
    root = make_root(tmp_path, {"a.py": ""})
    with ScratchCopy.prepare(Workspace([root])) as copy:
        assert copy.base.parent == scratch
    assert not abandoned.exists()
    assert running.exists()


def test_scripts_stay_executable_in_the_copy(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"run.sh": "#!/bin/sh\necho ran\n"})
    (root / "run.sh").chmod(0o755)
    with ScratchCopy.prepare(Workspace([root])) as copy:
        assert os.access(copy.root / "run.sh", os.X_OK)


def test_the_environment_loses_every_glm_key(tmp_path: Path) -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "BIGMODEL_API_KEY": KEY,
        "ZAI_API_KEY": "other-key",
        "MY_GLM_TOKEN": "t",
        "COPIED": f"Bearer {KEY}",
        "GLM_LSP_LOG": "debug",  # a GLM name but not a secret's
    }
    env = check_environment(environ, ("BIGMODEL_API_KEY", "ZAI_API_KEY"), KEY, tmp_path)
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/home/u"
    assert env["GLM_LSP_LOG"] == "debug"
    assert not {"BIGMODEL_API_KEY", "ZAI_API_KEY", "MY_GLM_TOKEN", "COPIED"} & set(env)
    assert not any(KEY in value for value in env.values())
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pycache")


def test_a_relative_program_missing_from_the_copy_runs_from_the_user_folder(
    tmp_path: Path,
) -> None:
    user, copy = tmp_path / "user", tmp_path / "copy"
    (copy / "scripts").mkdir(parents=True)
    (copy / "scripts" / "check").write_text("")
    assert program_argv([".venv/bin/python", "-m", "pytest"], copy, user) == [
        str(user / ".venv/bin/python"),
        "-m",
        "pytest",
    ]
    assert program_argv(["scripts/check"], copy, user) == ["scripts/check"]
    # Named by its absolute path in the user's folder: the copy's (with GLM's changes) runs.
    assert program_argv([str(user / "scripts/check")], copy, user) == [str(copy / "scripts/check")]
    assert program_argv(["python", "-m", "pytest"], copy, user) == ["python", "-m", "pytest"]


async def test_exit_code_and_the_end_of_the_output(tmp_path: Path) -> None:
    script = "import sys\nfor i in range(5000): print('line', i)\nsys.exit(3)\n"
    result = await run_command(
        [PY, "-c", script], cwd=tmp_path, env=os.environ, timeout=30, max_output_bytes=1000
    )
    assert (result.exit_code, result.passed, result.timed_out) == (3, False, False)
    assert result.output.rstrip().endswith("line 4999")
    assert result.output_bytes > 40_000
    text = result.for_model(1000)
    assert text.startswith("exit code 3 (")
    assert len(text.encode()) <= 1000
    assert "line 4999" in text and "line 0\n" not in text
    assert f"of {result.output_bytes} bytes" in text


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too: only its parent's wait would remove it.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
async def test_a_check_past_its_time_limit_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids.txt"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{child.pid}}')\n"
        "print('started', flush=True)\n"
        "time.sleep(600)\n"
    )
    started = time.monotonic()
    result = await run_command(
        [PY, "-c", script], cwd=tmp_path, env=os.environ, timeout=2, max_output_bytes=1000
    )
    assert time.monotonic() - started < 60
    assert result.timed_out and not result.passed and result.exit_code is None
    assert "started" in result.output
    assert result.for_model(1000).startswith("timed out after 2 s")
    child = int(pids.read_text())
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not _alive(child)


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
@pytest.mark.parametrize("own_session", [False, True])
async def test_a_check_is_over_when_it_exits_even_if_a_child_holds_its_output(
    tmp_path: Path, own_session: bool
) -> None:
    """Tests that leave a server running are common: the check must not wait for it (and
    report a time-out); a child in its group is killed, one that left the group is left."""
    pids = tmp_path / "pid.txt"
    script = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], "
        f"start_new_session={own_session})\n"
        f"open({str(pids)!r}, 'w').write(str(child.pid))\n"
        "print('left a child behind', flush=True)\n"
    )
    started = time.monotonic()
    result = await run_command(
        [PY, "-c", script], cwd=tmp_path, env=os.environ, timeout=120, max_output_bytes=1000
    )
    child = int(pids.read_text())
    try:
        assert time.monotonic() - started < 60
        assert (result.exit_code, result.timed_out) == (0, False)
        assert result.output == "left a child behind\n"
        if not own_session:
            deadline = time.monotonic() + 10
            while _alive(child) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert not _alive(child)
    finally:
        if _alive(child):
            os.kill(child, 9)


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
async def test_cancelling_a_check_kills_it(tmp_path: Path) -> None:
    pids = tmp_path / "pid.txt"
    script = f"import os, time\nopen({str(pids)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)\n"
    task = asyncio.ensure_future(
        run_command(
            [PY, "-c", script], cwd=tmp_path, env=os.environ, timeout=600, max_output_bytes=100
        )
    )
    deadline = time.monotonic() + 20
    while not pids.exists() or not pids.read_text():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = int(pids.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not _alive(pid)


async def test_a_program_that_does_not_exist_is_an_error_for_the_model(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"a.py": ""})
    check = runner(settings(["no-such-program-xyz"]), allow=_yes)
    answer = await check.run_for_model(Workspace([root]))
    assert answer.startswith("error: the check `no-such-program-xyz` could not start")


async def _yes() -> str | None:
    return None  # allowed


async def test_refused_consent_runs_nothing_and_asks_once(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"a.py": ""})
    marker = tmp_path / "marker"
    asked: list[int] = []

    async def no() -> str | None:
        asked.append(1)
        return "the user did not allow it"

    check = runner(settings([PY, "-c", f"open({str(marker)!r}, 'w')"]), allow=no)
    workspace = Workspace([root])
    for _ in range(2):
        answer = await check.run_for_model(workspace)
        assert answer.startswith(f"error: the check (`{PY} -c ")
        assert "was not run: the user did not allow it. Do not call run_check again" in answer
    assert asked == [1]
    assert not marker.exists()
    status = check.status(workspace)
    assert (status.state, status.label()) == ("not run", "check not run")
    assert "not allowed" in status.sentence()


async def test_the_check_sees_the_staged_change_and_its_writes_stay_in_the_copy(
    tmp_path: Path,
) -> None:
    root = make_root(tmp_path, {"calc.py": "VALUE = 1\n", "keep.txt": "keep\n"})
    before = tree(root)
    script = (
        "import os, pathlib\n"
        "print(pathlib.Path('calc.py').read_text().strip())\n"
        "pathlib.Path('calc.py').write_text('VALUE = 99\\n')\n"
        "os.remove('keep.txt')\n"
        "pathlib.Path('made.txt').write_text('made')\n"
    )
    workspace = Workspace([root])
    workspace.write(root / "calc.py", "VALUE = 2\n")
    changes = workspace.changes()
    result = await check_workspace(workspace, settings([PY, "-c", script]))
    assert result.passed, result.output
    assert result.output.strip() == "VALUE = 2"
    assert tree(root) == before
    assert workspace.changes() == changes


async def test_status_says_passed_failed_and_whether_changes_came_after(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"ok.py": ""})
    workspace = Workspace([root])
    check = runner(
        settings(
            [
                PY,
                "-c",
                "import pathlib, sys; sys.exit(pathlib.Path('ok.py').read_text() != '')",
            ]
        ),
        allow=_yes,
    )
    assert check.status(workspace).state == "not run"
    assert (await check.run_for_model(workspace)).startswith("exit code 0")
    assert check.status(workspace).label() == "check passed"
    workspace.write(root / "ok.py", "broken\n")
    stale = check.status(workspace)
    assert stale.state == "passed" and stale.stale
    assert "unchecked" in stale.sentence()
    assert (await check.run_for_model(workspace)).startswith("exit code 1")
    assert check.status(workspace).label() == "check failed"


async def test_the_checks_of_one_run_share_a_copy_removed_at_the_end(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"a.py": "A = 1\n"})
    workspace = Workspace([root])
    probe = "import os, pathlib; print(os.getcwd()); print(pathlib.Path('a.py').read_text())"
    check = runner(settings([PY, "-c", probe]), allow=_yes)
    first = (await check.run_for_model(workspace)).splitlines()
    workspace.write(root / "a.py", "A = 2\n")
    second = (await check.run_for_model(workspace)).splitlines()
    assert first[1] == second[1]  # the same folder
    assert (first[2], second[2]) == ("A = 1", "A = 2")
    assert Path(first[1]).is_dir()
    check.close()
    assert not Path(first[1]).exists() and not Path(first[1]).parent.exists()


async def test_at_most_a_few_checks_per_run(tmp_path: Path) -> None:
    root = make_root(tmp_path, {"a.py": ""})
    check = runner(settings([PY, "-c", "pass"]), allow=_yes, max_runs=2)
    workspace = Workspace([root])
    answers = [await check.run_for_model(workspace) for _ in range(3)]
    assert [a.split(" (")[0] for a in answers[:2]] == ["exit code 0", "exit code 0"]
    assert answers[2].startswith("error: run_check already ran 2 times")


def test_run_check_is_offered_only_with_a_check(tmp_path: Path) -> None:
    workspace = Workspace([tmp_path])
    plain = AgentTools(workspace, max_output_bytes=4096)
    assert "run_check" not in [s["function"]["name"] for s in plain.schemas()]
    assert plain.run("run_check", "{}").startswith("error: there is no tool named 'run_check'")
    checked = AgentTools(
        workspace, max_output_bytes=4096, check=runner(settings(["pytest", "-q"]), _yes)
    )
    schema = checked.schemas()[-1]["function"]
    assert schema["name"] == "run_check"
    assert schema["parameters"] == {"type": "object", "properties": {}, "required": []}
    assert "`pytest -q`" in schema["description"]
    assert checked.activity("run_check", "{}") == "running check…"


def test_helpers_for_people() -> None:
    assert (
        command_text(["python", "-m", "pytest", "-k", "a and b"]) == 'python -m pytest -k "a and b"'
    )
    assert tail_text("one\ntwo\nthree\n", 8) == "three\n"
    result = CheckResult(("x",), 0, "", 0, 0.5)
    assert result.for_model(100) == "exit code 0 (0.5 s)\n(no output)"
