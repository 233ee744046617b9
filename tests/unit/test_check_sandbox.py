"""The check's sandbox without a server: the bubblewrap argv (pure), what the check is shown
(real folders), the question's rendering and refusals, and the limits (real processes)."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glm_lsp.agent.check import CheckSettings, check_workspace
from glm_lsp.agent.check_consent import (
    CheckRequest,
    command_text,
    consent_question,
    consent_subject,
    program_installation,
    refusal,
    shown_argument,
    workspace_program,
)
from glm_lsp.agent.check_sandbox import installation, toolchain_folders
from glm_lsp.sandbox import Bind, SandboxPlan, Secret, bwrap_argv, hidden_places
from glm_lsp.workspace import Workspace

PY = sys.executable
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and paths")


def plan(**changes: object) -> SandboxPlan:
    base = {
        "bwrap": "/usr/bin/bwrap",
        "workdir": "/dev/shm/glm-check-x/project",
        "scratch": "/dev/shm/glm-check-x",
        "home": "/home/u",
        "system": (Bind("/usr"), Bind("/etc")),
        "links": (("/bin", "usr/bin"),),
    }
    base.update(changes)
    return SandboxPlan(**base)  # type: ignore[arg-type]


def pairs(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == option]


def test_the_argv_confines_processes_network_and_writes() -> None:
    argv = bwrap_argv(plan(), ["python", "-m", "pytest"])
    assert argv[0] == "/usr/bin/bwrap"
    for option in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session"):
        assert option in argv
    assert pairs(argv, "--proc") == ["/proc"]
    assert pairs(argv, "--bind") == ["/dev/shm/glm-check-x"]  # the only writable host folder
    assert pairs(argv, "--ro-bind") == ["/usr", "/etc"]
    assert pairs(argv, "--tmpfs") == ["/dev/shm", "/tmp", "/home/u"]
    assert argv[-5:] == ["/dev/shm/glm-check-x/project", "--", "python", "-m", "pytest"]
    assert "--unshare-net" not in bwrap_argv(plan(network=True), ["true"])


def test_the_private_home_comes_before_what_is_read_inside_it() -> None:
    pyenv = Bind("/home/u/.pyenv/versions/3.12.1")
    argv = bwrap_argv(plan(read_only=(pyenv,)), ["true"])
    home = argv.index("/home/u")
    assert argv[home - 1] == "--tmpfs"
    assert argv.index("/home/u/.pyenv/versions/3.12.1") > home


def test_secrets_are_covered_wherever_a_mount_brings_them_in() -> None:
    secrets = (
        Secret("/home/u/.local/state/glm-lsp", True),
        Secret("/etc/hostname", False),
        Secret("/home/u/.ssh", True),
        Secret("/home/u/.netrc", False),
    )
    read = (
        Bind("/home/u/.local"),
        Bind("/data/u/proj/.venv", "/home/u/proj/.venv"),
        Bind("/home/u/.ssh/config"),  # inside a secret folder: left out
        Bind("/home/u/.netrc"),  # the secret file itself: covered
    )
    p = plan(read_only=read, secrets=secrets)
    assert hidden_places(p) == [
        ("/etc/hostname", False),
        ("/home/u/.local/state/glm-lsp", True),
        ("/home/u/.netrc", False),
    ]
    argv = bwrap_argv(p, ["true"])
    assert "/home/u/.ssh/config" not in argv
    masked = argv.index("/home/u/.local/state/glm-lsp")
    assert argv[masked - 1] == "--tmpfs" and argv[masked + 1 : masked + 3] == [
        "--remount-ro",
        "/home/u/.local/state/glm-lsp",
    ]
    hostname = argv.index("/etc/hostname")
    assert argv[hostname - 2 : hostname] == ["--ro-bind", "/dev/null"]
    assert argv.index("/etc/hostname") > argv.index("/etc")  # after the mount it covers


def test_the_users_folder_is_covered_where_a_mount_reveals_it_but_its_tools_are_not() -> None:
    venv = Bind("/opt/proj/.venv")
    argv = bwrap_argv(plan(system=(Bind("/opt"),), workspace="/opt/proj", toolchains=(venv,)), [])
    assert pairs(argv, "--tmpfs")[-1] == "/opt/proj"
    cover = argv.index("/opt/proj")
    assert argv[cover - 1] == "--tmpfs"
    assert argv.index("/opt/proj/.venv") > cover  # mounted after the cover
    assert argv[argv.index("--remount-ro") + 1] == "/opt/proj"
    # A folder no mount reveals needs no cover.
    assert "/srv/proj" not in bwrap_argv(plan(workspace="/srv/proj"), [])


def test_a_venv_brings_its_base_interpreter_from_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    base = home / ".pyenv" / "versions" / "3.12.1"
    (base / "bin").mkdir(parents=True)
    (base / "bin" / "python3.12").write_text("")
    venv = tmp_path / "proj" / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(base / "bin" / "python3.12")
    (venv / "pyvenv.cfg").write_text(f"home = {base / 'bin'}\nversion = 3.12.1\n")
    found = installation(str(venv / "bin" / "python"), str(home))
    assert found == [str(venv), str(base)]
    # The question names them: the base interpreter may be in the home folder.
    request = CheckRequest(root=tmp_path / "elsewhere", argv=(str(venv / "bin" / "python"),))
    assert program_installation(request) == [str(venv), str(base)]
    question = consent_question(request, None, program_installation(request))
    assert f"the program's installation ({venv}, {base}) read-only" in question


def test_a_program_in_home_never_opens_home_itself(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "tool").write_text("")
    (home / "tool").write_text("")
    assert installation(str(home / "bin" / "tool"), str(home)) == [str(home / "bin")]
    assert installation(str(home / "tool"), str(home)) == [str(home / "tool")]


def test_toolchain_folders_are_the_ignored_ones_the_copy_lacks(tmp_path: Path) -> None:
    user, copy = tmp_path / "user", tmp_path / "copy"
    for folder in (".venv", "packages/web/node_modules", "packages/web/src", "venv", "target"):
        (user / folder).mkdir(parents=True)
    (copy / "packages" / "web").mkdir(parents=True)
    (copy / "venv").mkdir()  # a folder of the project's own, copied: not a toolchain
    assert toolchain_folders(user, copy) == [".venv", "packages/web/node_modules"]


@pytest.mark.parametrize(
    ("argv", "character"),
    [
        ([".venv/bin/python\u00a0-m\u00a0pytest"], "U+00A0 (NO-BREAK SPACE)"),
        (["pytest", "-k", "a\u200bb"], "U+200B (ZERO WIDTH SPACE)"),
        (["python", "-c", "import os\nos.system('x')"], "U+000A"),
        (["echo", "\x1b[2K"], "U+001B"),
        (["ls\u202e"], "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        (["ls", "\u3164"], "U+3164 (HANGUL FILLER)"),
    ],
)
def test_look_alike_and_control_characters_are_refused(argv: list[str], character: str) -> None:
    reason = refusal(argv)
    assert reason is not None and character in reason


def test_plain_arguments_are_allowed_and_shown_as_they_run() -> None:
    argv = ["python", "-m", "pytest", "-k", "not slow", "--name=café", 'say "hi"', "a\\b", ""]
    assert refusal(argv) is None
    assert command_text(argv) == (
        'python -m pytest -k "not slow" "--name=caf\\u00e9" "say \\"hi\\"" "a\\\\b" ""'
    )
    assert shown_argument("x`y") == '"x\\`y"'


def test_the_question_names_a_workspace_program(tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "check").write_text("#!/bin/sh\n")
    request = CheckRequest(root=tmp_path, argv=("./tools/check", "-q"))
    assert workspace_program(request) == "./tools/check"
    question = consent_question(request, workspace_program(request))
    assert question.startswith(
        "Let GLM run `./tools/check -q` (the repository's own script `./tools/check`) in a "
        f"sandbox, on a scratch copy of {tmp_path}? "
    )
    assert "and no network" in question
    outside = CheckRequest(root=tmp_path, argv=(PY, "-m", "pytest"))
    assert workspace_program(outside) is None


def test_what_the_settings_open_is_part_of_the_consent(tmp_path: Path) -> None:
    closed = CheckRequest(root=tmp_path, argv=("pytest",))
    opened = CheckRequest(root=tmp_path, argv=("pytest",), network=True)
    assert consent_subject(closed, "id") != consent_subject(opened, "id")
    assert consent_subject(closed, "id") != consent_subject(closed, "another repository")
    assert "it may use the network (glm.agent.checkNetwork)" in consent_question(opened, None)
    token = CheckRequest(root=tmp_path, argv=("pytest",), env=(("NPM_TOKEN", "s3cr3t-value"),))
    assert consent_subject(token, "id") != consent_subject(closed, "id")
    assert "s3cr3t-value" not in consent_subject(token, "id")  # the consent file keeps a hash


def _workspace(tmp_path: Path, script: str) -> Workspace:
    root = tmp_path / "project"
    root.mkdir()
    (root / "script.py").write_text(script)
    return Workspace([root])


async def test_a_check_that_writes_too_much_is_stopped(tmp_path: Path) -> None:
    script = (
        "import os, time\n"
        "for n in range(20):\n"
        "    with open(f'blob{n}', 'wb') as f: f.write(os.urandom(4 << 20))\n"
        "print('wrote 80 MB', flush=True)\n"
        "time.sleep(60)\n"
    )
    settings = CheckSettings((PY, "script.py"), 30, 4096, write_bytes=16 << 20)
    result = await check_workspace(_workspace(tmp_path, script), settings)
    assert not result.passed and result.exit_code is None
    assert "wrote more than 16 MB (glm.agent.checkWriteMb) and was stopped" in result.headline()
    assert result.seconds < 30


async def test_a_check_past_its_memory_limit_fails(tmp_path: Path) -> None:
    script = "data = bytearray(512 << 20)\nprint('allocated')\n"
    settings = CheckSettings((PY, "script.py"), 30, 4096, memory_bytes=128 << 20)
    result = await check_workspace(_workspace(tmp_path, script), settings)
    assert result.exit_code not in (0, None)
    assert "MemoryError" in result.output and "allocated" not in result.output


def _read_back(shown: str) -> list[str]:
    """What a person reading the question takes the command to be: words split at spaces,
    a quoted word up to its closing quote with each escape as written."""
    words: list[str] = []
    i = 0
    while i < len(shown):
        if shown[i] == " ":
            i += 1
            continue
        if shown[i] != '"':
            end = shown.find(" ", i)
            end = len(shown) if end < 0 else end
            words.append(shown[i:end])
            i = end
            continue
        i += 1
        word = []
        while shown[i] != '"':
            if shown[i] == "\\":
                kind = shown[i + 1]
                size = {"x": 2, "u": 4, "U": 8}.get(kind)
                if size is None:
                    word.append(kind)
                    i += 2
                else:
                    word.append(chr(int(shown[i + 2 : i + 2 + size], 16)))
                    i += 2 + size
            else:
                word.append(shown[i])
                i += 1
        words.append("".join(word))
        i += 1
    return words


# Characters that need quoting or escaping (but are allowed), beside any character at all.
_QUOTED = st.sampled_from(list(" \"'\\`ab-=\u00e9\U0001f600"))
_ARGUMENTS = st.one_of(st.text(_QUOTED, max_size=12), st.text(max_size=12))


@given(st.lists(_ARGUMENTS, min_size=1, max_size=5))
def test_what_the_question_shows_is_exactly_what_runs(argv: list[str]) -> None:
    shown = command_text(argv)
    assert all(" " <= c <= "~" for c in shown)  # nothing in it that could hide or look alike
    reason = refusal(argv)
    if reason is None:
        assert _read_back(shown) == argv
    else:  # refused: it names a character of the argv that prints as nothing or a space
        named = chr(int(reason.split("U+", 1)[1].split(" ", 1)[0], 16))
        assert named in "".join(argv) and named != " "
        assert not named.isprintable() or unicodedata.category(named) == "Lo"
