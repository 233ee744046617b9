"""The check's consent: what the question shows, what an answer is remembered for, and the
order of the questions. Knows nothing of LSP: the front door passes an ``ask`` function.

- **What you read is what runs.** Each argument is shown bare when it is printable ASCII
  without spaces or quotes, else in double quotes with a visible escape (``\\u00a0``) for
  anything but printable ASCII and spaces. An argv holding a control, format or look-alike
  space character (a no-break space that makes ``.venv/bin/python`` look like
  ``.venv/bin/python``) is refused outright: no question, nothing runs.
- **A program inside the workspace is named as such**: "the repository's own script
  `./tools/x`".
- **Consent is remembered for the workspace's identity and the exact argv**: the folder, the
  repository's first commit (another repository cloned into the same folder asks again), the
  content hash of the program when it lives in the workspace (a changed program asks again),
  and what the settings open beyond the default sandbox (network, read paths, environment).
- **No sandbox, no run** unless a separate question, which says plainly that GLM's code runs
  with the user's full rights, is answered Allow.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from glm_lsp.agent.check_sandbox import SYSTEM_FOLDERS, installation, resolve_program

CHECK = "check"  # the consent kinds (the state directory's consent file)
CHECK_UNCONFINED = "check-unconfined"
# Characters that look like nothing or like a plain space: refused in an argv.
_INVISIBLE = frozenset(
    "\u115f\u1160\u3164\uffa0\u034f\u180e\u2800\u17b4\u17b5"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)
_GIT_SECONDS = 10.0
_HASH_LIMIT = 64 * 1024 * 1024  # bytes of a workspace program hashed (then its size)

# (kind, subject, question) -> None when allowed (now or remembered), else why not.
AskFn = Callable[[str, str, str], Awaitable[str | None]]


def refusal(argv: Sequence[str]) -> str | None:
    """Why this argv is never run, or None. Control characters (a newline, an escape),
    format characters (zero-width, bidirectional) and spaces other than U+0020 can make a
    command read as another one."""
    for index, argument in enumerate(argv):
        for char in argument:
            if char == " ":
                continue
            category = unicodedata.category(char)
            if category in ("Cc", "Cf", "Zs", "Zl", "Zp", "Co", "Cs", "Cn") or char in _INVISIBLE:
                name = unicodedata.name(char, "unnamed character")
                which = "the program" if index == 0 else f"argument {index}"
                return (
                    f"{which} holds U+{ord(char):04X} ({name}), a character that can make a "
                    "command look like another; glm.agent.checkCommand must use plain characters"
                )
    return None


def shown_argument(argument: str) -> str:
    if argument and all("!" <= c <= "~" and c not in "\"'\\`" for c in argument):
        return argument
    out = []
    for char in argument:
        if char in '"\\`':
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def command_text(argv: Sequence[str]) -> str:
    """The argv as the question and the messages show it: what you read is what runs."""
    return " ".join(shown_argument(a) for a in argv)


@dataclass(frozen=True)
class CheckRequest:
    """One check to ask about: where, what, and what the settings open."""

    root: Path  # the user's workspace folder
    argv: tuple[str, ...]
    sandbox: str = "required"  # agent.checkSandbox
    network: bool = False
    read_paths: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    path_env: str = os.defpath


def workspace_program(request: CheckRequest) -> str | None:
    """The program as a workspace-relative ``./path`` when it lives in the workspace."""
    found = resolve_program(request.argv[0], request.path_env, request.root)
    if found is None:
        return None
    root = os.path.abspath(request.root)
    if found == root or not found.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return "./" + os.path.relpath(found, root).replace(os.sep, "/")


def workspace_identity(request: CheckRequest) -> str:
    """The folder, its repository's first commit(s), and the hash of the check's program
    when the program lives in the workspace. Blocking: call it in a thread."""
    parts = [str(os.path.abspath(request.root)), "git:" + _first_commits(request.root)]
    program = workspace_program(request)
    if program is not None:
        parts.append(f"program:{program}:{_content_hash(request.root / program)}")
    return "\n".join(parts)


def _first_commits(root: Path) -> str:
    """The root commit(s) of HEAD, read by git with no hook or fsmonitor of the repository's
    and without the server's environment; "none" outside a repository."""
    env = {"PATH": os.environ.get("PATH", os.defpath), "GIT_TERMINAL_PROMPT": "0"}
    if os.environ.get("HOME"):
        env["HOME"] = os.environ["HOME"]  # the user's safe.directory
    command = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"]
    command += ["-C", str(root), "rev-list", "--max-parents=0", "HEAD"]
    try:
        done = subprocess.run(
            command, capture_output=True, stdin=subprocess.DEVNULL, env=env, timeout=_GIT_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if done.returncode != 0:
        return "none"
    return ",".join(sorted(done.stdout.decode("ascii", "replace").split()))


def _content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            digest.update(file.read(_HASH_LIMIT))
            digest.update(str(os.fstat(file.fileno()).st_size).encode())
    except OSError:
        return "unreadable"
    return digest.hexdigest()


def consent_subject(request: CheckRequest, identity: str) -> str:
    opened = {
        "network": request.network,
        "readPaths": list(request.read_paths),
        "env": [list(pair) for pair in request.env],
    }
    # Hashed: checkEnv may hold a token, and the consent file is no place for it.
    opened_hash = hashlib.sha256(json.dumps(opened, sort_keys=True).encode()).hexdigest()
    return f"{identity}\0{json.dumps(list(request.argv))}\0opened:{opened_hash}"


def consent_question(
    request: CheckRequest, program: str | None, installed: Sequence[str] = ()
) -> str:
    """``installed``: the folders of the program's installation beyond the system's (a
    venv, its base interpreter in ``~/.pyenv``), named since some may be in the home folder."""
    command = f"`{command_text(request.argv)}`"
    if program is not None:
        kind = "script" if _is_script(request.root / program) else "program"
        command += f" (the repository's own {kind} `{shown_argument(program)}`)"
    installation = "the program's installation"
    if installed:
        installation += " (" + ", ".join(shown_argument(p) for p in installed) + ")"
    sees = (
        f"It sees the system and {installation} read-only, the workspace's ignored tool "
        "folders (.venv, node_modules) read-only, and the copy, its only writable folder"
    )
    if request.read_paths:
        sees += "; also, read-only: " + ", ".join(shown_argument(p) for p in request.read_paths)
    never = "not the rest of your home folder, your keys or other processes"
    never += "" if request.network else ", and no network"
    if request.network:
        sees += "; it may use the network (glm.agent.checkNetwork)"
    env = ""
    if request.env:
        env = " With " + ", ".join(shown_argument(f"{n}={v}") for n, v in request.env) + "."
    return (
        f"Let GLM run {command} in a sandbox, on a scratch copy of {request.root}? "
        f"{sees}; {never}.{env}"
    )


def program_installation(request: CheckRequest) -> list[str]:
    """What the sandbox will show of the program's installation, outside the system folders
    and the workspace (a few file-system looks: the program's path, a venv's pyvenv.cfg)."""
    found = resolve_program(request.argv[0], request.path_env, request.root)
    if found is None:
        return []
    home = os.path.abspath(os.environ.get("HOME") or "/")
    root = os.path.abspath(request.root)
    return [
        folder
        for folder in installation(found, home)
        if not any(_inside(folder, system) for system in SYSTEM_FOLDERS)
        and not _inside(folder, root)
    ]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def unconfined_question(request: CheckRequest, why: str) -> str:
    return (
        f"The check cannot run in a sandbox: {why}. Run `{command_text(request.argv)}` in a "
        f"scratch copy of {request.root} WITH YOUR FULL RIGHTS? Code GLM wrote could then "
        "read your files and keys, use the network and change anything you can change."
    )


def _is_script(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(2) == b"#!"
    except OSError:
        return False


@dataclass(frozen=True)
class Decision:
    """Allowed (``sandboxed`` says how) or not (``refusal`` says why)."""

    refusal: str | None = None
    sandboxed: bool = True


async def decide(
    request: CheckRequest,
    ask: AskFn,
    *,
    identity: Callable[[CheckRequest], Awaitable[str]],
    sandbox_problem: Callable[[], Awaitable[str | None]],
    report: Callable[[str], None] = lambda _: None,
) -> Decision:
    """The questions in order: a refused argv asks nothing; then the check's question; then,
    when the sandbox cannot start or the settings say ``none``, the full-rights question."""
    refused = refusal(request.argv)
    if refused is not None:
        return Decision(refusal=refused)
    program = workspace_program(request)
    subject = consent_subject(request, await identity(request))
    report(f"asking to run `{command_text(request.argv)}`…")
    question = consent_question(request, program, program_installation(request))
    why_not = await ask(CHECK, subject, question)
    if why_not is not None:
        return Decision(refusal=why_not)
    if request.sandbox == "none":
        problem: str | None = 'glm.agent.checkSandbox is "none"'
    else:
        problem = await sandbox_problem()
    if problem is None:
        return Decision(sandboxed=True)
    why_not = await ask(CHECK_UNCONFINED, subject, unconfined_question(request, problem))
    if why_not is not None:
        return Decision(refusal=f"{why_not} to run without a sandbox ({problem})")
    return Decision(sandboxed=False)


def request_env(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(env.items()))
