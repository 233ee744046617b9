"""What the check's sandbox shows, found on this machine: the paths for a
:class:`~glm_lsp.sandbox.SandboxPlan`, the environment, and whether bubblewrap can start.

The check sees the system read-only, its scratch copy (the only writable host folder), and
what its program needs to run, read-only:

- the program named by the argv with its installation: the prefix above its ``bin`` folder,
  and for a Python venv the venv and its base interpreter's prefix (``pyvenv.cfg``'s
  ``home``), which often lives in ``$HOME`` (pyenv, uv); a script's interpreter likewise;
- the workspace's ignored toolchain folders (``.venv``, ``node_modules``, ...), at their
  place in the user's folder and at the same place in the copy;
- ``agent.checkReadPaths``.

Never: the rest of ``$HOME`` (the check's ``$HOME`` is private and empty), the secret places
listed below (covered wherever a mount would bring them in), glm-lsp's state and config
folders, any other process (its own PID namespace), the network unless ``agent.checkNetwork``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from glm_lsp.sandbox import Bind, SandboxPlan, Secret

# Credentials kept in $HOME by common tools; never visible, even inside a folder the check
# may read (a program installed in ~/.local, a read path of the user's).
SECRET_HOME_PLACES = (
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".kube",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".config/gh",
    ".config/git/credentials",
    ".password-store",
    ".local/share/keyrings",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".pgpass",
    ".vault-token",
)
# What /etc says about this machine or holds as secrets: the check needs none of it.
SECRET_SYSTEM_PLACES = (
    "/etc/hostname",
    "/etc/machine-id",
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/ssh",
    "/etc/ssl/private",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/krb5.keytab",
)
SYSTEM_FOLDERS = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/opt",
    "/nix",
    "/gnu",
)
# Ignored folders that hold a project's tools, not its output: the check reads them (a
# build folder such as target/ or dist/ is output: the check makes its own in the copy).
TOOLCHAIN_FOLDERS = frozenset(
    {".venv", "venv", "node_modules", ".tox", ".nox", "bower_components", ".yarn", ".pnp"}
)
# Where a program's installation starts: the folder above these.
_BIN_FOLDERS = frozenset({"bin", "sbin", "shims", "Scripts", "libexec"})
_PROBE_SECONDS = 10.0


@dataclass(frozen=True)
class SandboxOptions:
    """What the settings and the server add to the sandbox."""

    network: bool = False
    read_paths: tuple[str, ...] = ()
    private_dirs: tuple[str, ...] = ()  # glm-lsp's own state and config folders
    tmp_bytes: int = 256 * 1024 * 1024


def find_bwrap(environ: Mapping[str, str]) -> str | None:
    return shutil.which("bwrap", path=environ.get("PATH", os.defpath))


_probed: dict[str, str | None] = {}


def sandbox_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """None when bubblewrap can start a sandbox here; else why not, in words for a person.
    Tried once per server life (a few milliseconds)."""
    env = os.environ if environ is None else environ
    bwrap = find_bwrap(env)
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed or not on PATH"
    if bwrap in _probed:
        return _probed[bwrap]
    true = shutil.which("true") or "/bin/true"
    # Every option the check's sandbox uses (an old bubblewrap lacks --size or --perms).
    probe = [bwrap, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    probe += ["--hostname", "glm-check", "--unshare-net", "--die-with-parent", "--new-session"]
    probe += ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    probe += ["--perms", "0500", "--size", "1048576", "--tmpfs", "/tmp", "--remount-ro", "/tmp"]
    probe += ["--", true]
    problem: str | None
    try:
        done = subprocess.run(
            probe,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_PROBE_SECONDS,
            env={"PATH": env.get("PATH", os.defpath)},
        )
        problem = None
        if done.returncode != 0:
            said = done.stderr.decode("utf-8", "replace").strip().splitlines()
            problem = f"bwrap cannot make a sandbox here ({said[-1] if said else 'no reason'})"
            problem += "; unprivileged user namespaces may be off"
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = f"bwrap did not start ({exc})"
    _probed[bwrap] = problem
    return problem


def sandbox_report() -> str:
    """One line for ``doctor``: whether agent.checkCommand can run in a sandbox here."""
    if not sys.platform.startswith("linux"):
        return (
            "the check cannot be sandboxed on this system (bubblewrap is Linux's): it runs only "
            "after a question saying it runs with your full rights"
        )
    problem = sandbox_problem()
    if problem is None:
        return f"ok: the check runs sandboxed ({bwrap_version() or 'bubblewrap'})"
    return (
        f"the check cannot be sandboxed: {problem} (Debian/Ubuntu: apt install bubblewrap); "
        "it runs only after a question saying it runs with your full rights"
    )


def bwrap_version(environ: Mapping[str, str] | None = None) -> str:
    bwrap = find_bwrap(os.environ if environ is None else environ)
    if bwrap is None:
        return ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([bwrap, "--version"], capture_output=True, timeout=5).stdout
        return out.decode("utf-8", "replace").strip()
    return ""


def sandbox_environment(
    environ: Mapping[str, str],
    *,
    home: str,
    scratch: str,
    extra: Mapping[str, str],
) -> dict[str, str]:
    """The check's environment, built from scratch: PATH, a private HOME, LANG, TERM, a
    byte-code cache in the scratch folder, then ``agent.checkEnv``."""
    env = {
        "PATH": environ.get("PATH") or os.defpath,
        "HOME": home,
        "LANG": environ.get("LANG") or "C.UTF-8",
        "TERM": environ.get("TERM") or "dumb",
        "TMPDIR": "/tmp",
        "PYTHONPYCACHEPREFIX": os.path.join(scratch, "pycache"),
    }
    env.update(extra)
    return env


def sandbox_home(environ: Mapping[str, str]) -> str:
    """$HOME inside the sandbox: the user's path (tools that write there keep working) on a
    private empty tmpfs; a home that is a system folder or ``/`` is replaced."""
    home = os.path.abspath(environ.get("HOME") or "/home/check")
    if home == "/" or any(_within(home, s) for s in SYSTEM_FOLDERS) or _within("/tmp", home):
        return "/home/check"
    return home


def resolve_program(program: str, path_env: str, workdir: Path) -> str | None:
    """The file ``program`` names when run in ``workdir`` (a bare name: on PATH)."""
    if os.sep in program or (os.altsep and os.altsep in program):
        candidate = program if os.path.isabs(program) else os.path.join(workdir, program)
        return os.path.abspath(candidate) if os.path.exists(candidate) else None
    found = shutil.which(program, path=path_env)
    return os.path.abspath(found) if found else None


def installation(program: str, home: str) -> list[str]:
    """The folders a program needs to run: the prefix above its ``bin`` folder, a venv's base
    interpreter's prefix, the same for a script's interpreter (its ``#!`` line), each by
    the path named and by its real path. Never ``$HOME`` itself or a folder above it: then
    only the program's own folder (``~/bin``) or the file itself."""
    found: list[str] = []
    for path in dict.fromkeys([program, os.path.realpath(program)]):
        found += _prefix_and_base(path, home)
    interpreter = _shebang_interpreter(program)
    if interpreter is not None and os.path.isabs(interpreter):
        for path in dict.fromkeys([interpreter, os.path.realpath(interpreter)]):
            found += _prefix_and_base(path, home)
    return list(dict.fromkeys(found))


def _prefix_and_base(program: str, home: str) -> list[str]:
    folder = os.path.dirname(program)
    prefix = os.path.dirname(folder) if os.path.basename(folder) in _BIN_FOLDERS else folder
    found = [_allowed(prefix, folder, program, home)]
    config = os.path.join(prefix, "pyvenv.cfg")
    base_home = _venv_home(config) if os.path.isfile(config) else None
    if base_home:  # a venv: its base interpreter lives elsewhere (pyenv, uv, /usr)
        in_bin = os.path.basename(base_home) in _BIN_FOLDERS
        base = os.path.dirname(base_home) if in_bin else base_home
        found.append(_allowed(base, base_home, base_home, home))
    return found


def _allowed(prefix: str, folder: str, program: str, home: str) -> str:
    """``prefix`` unless it is ``/``, $HOME or above it; then the folder, else the file."""
    for candidate in (prefix, folder):
        if candidate not in ("", os.sep) and not _within(home, candidate):
            return candidate
    return program


def _venv_home(config: str) -> str | None:
    """``home`` from a venv's ``pyvenv.cfg``: the folder of the interpreter it was made from."""
    try:
        with open(config, encoding="utf-8", errors="replace") as text:
            for line in text.read(64 * 1024).splitlines():
                key, sep, value = line.partition("=")
                if sep and key.strip() == "home" and os.path.isabs(value.strip()):
                    return value.strip()
    except OSError:
        return None
    return None


def _shebang_interpreter(program: str) -> str | None:
    try:
        with open(program, "rb") as file:
            head = file.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    return words[0] if words else None


def toolchain_folders(user_root: Path, copy_root: Path) -> list[str]:
    """The workspace's toolchain folders the copy lacks (ignored, so never copied),
    relative: at the top and up to two levels down (a monorepo's ``packages/web``)."""
    found: list[str] = []
    for parent in ("", *_subfolders(user_root, _TOOLCHAIN_DEPTH)):
        if parent and not (copy_root / parent).is_dir():
            continue  # not in the copy (ignored itself, or excluded)
        for name in sorted(TOOLCHAIN_FOLDERS):
            relative = os.path.join(parent, name) if parent else name
            if (user_root / relative).is_dir() and not os.path.lexists(copy_root / relative):
                found.append(relative)
    return sorted(found)


_TOOLCHAIN_DEPTH = 2
_MAX_FOLDERS_LOOKED_AT = 400  # a bound on the walk: a huge tree costs no more


def _subfolders(root: Path, depth: int) -> list[str]:
    """Folders below ``root`` to ``depth`` levels, relative; never into a toolchain folder,
    ``.git`` or a link."""
    found: list[str] = []
    level = [""]
    for _ in range(depth):
        deeper: list[str] = []
        for relative in level:
            try:
                with os.scandir(root / relative) as entries:
                    names = sorted(
                        e.name
                        for e in entries
                        if e.is_dir(follow_symlinks=False)
                        and e.name not in TOOLCHAIN_FOLDERS
                        and e.name != ".git"
                    )
            except OSError:
                continue
            deeper += [os.path.join(relative, n) if relative else n for n in names]
            if len(found) + len(deeper) >= _MAX_FOLDERS_LOOKED_AT:
                return found + deeper[: _MAX_FOLDERS_LOOKED_AT - len(found)]
        found += deeper
        level = deeper
    return found


def secrets(home: str, private_dirs: Iterable[str]) -> list[Secret]:
    """Every secret place that exists, by its real path (a mount's source is a real path)."""
    paths = [os.path.join(home, p) for p in SECRET_HOME_PLACES]
    paths += [*SECRET_SYSTEM_PLACES, *private_dirs]
    found: dict[str, Secret] = {}
    for path in paths:
        for candidate in dict.fromkeys([os.path.abspath(path), os.path.realpath(path)]):
            if os.path.lexists(candidate) and not os.path.islink(candidate):
                found[candidate] = Secret(candidate, os.path.isdir(candidate))
    return list(found.values())


def system_mounts() -> tuple[list[Bind], list[tuple[str, str]]]:
    """The system folders that exist, and those that are links (``/bin -> usr/bin``)."""
    binds: list[Bind] = []
    links: list[tuple[str, str]] = []
    for folder in SYSTEM_FOLDERS:
        if os.path.islink(folder):
            links.append((folder, os.readlink(folder)))
        elif os.path.isdir(folder):
            binds.append(Bind(folder))
    return binds, links


def _binds(paths: Iterable[str]) -> list[Bind]:
    """Each path shown where it is named, and at its real path when that differs (a link
    in a shebang or a venv's ``home`` may use either)."""
    binds: list[Bind] = []
    for path in paths:
        if not os.path.exists(path):
            continue
        real = os.path.realpath(path)
        binds.append(Bind(real, os.path.abspath(path)))
        if real != os.path.abspath(path):
            binds.append(Bind(real))
    return binds


def plan_sandbox(
    bwrap: str,
    *,
    argv: Sequence[str],
    environ: Mapping[str, str],
    scratch: Path,
    copy_root: Path,
    user_root: Path,
    options: SandboxOptions,
) -> SandboxPlan:
    """Everything the check of ``argv`` in ``copy_root`` sees, found now."""
    home = sandbox_home(environ)
    real_home = os.path.abspath(environ.get("HOME") or home)
    system, links = system_mounts()
    needed: list[str] = []
    program = resolve_program(argv[0], environ.get("PATH") or os.defpath, copy_root)
    if program is None and not os.path.isabs(argv[0]):  # only in the user's toolchain folders
        program = resolve_program(str(user_root / argv[0]), "", user_root)
    if program is not None and not _within(program, str(scratch)):
        needed += installation(program, real_home)
    tools = toolchain_folders(user_root, copy_root)
    for relative in tools:
        config = os.path.join(user_root, relative, "pyvenv.cfg")
        if os.path.isfile(config):
            needed += installation(os.path.join(user_root, relative, "bin", "python"), real_home)
    needed += [os.path.abspath(os.path.expanduser(p)) for p in options.read_paths]
    if options.network and os.path.islink("/etc/resolv.conf"):  # systemd-resolved's stub
        needed.append(os.path.dirname(os.path.realpath("/etc/resolv.conf")))
    workspace = os.path.abspath(user_root)
    found = [b for b in _binds(dict.fromkeys(needed)) if not _covered(b, system)]
    # What lies in the user's folder is mounted after that folder is covered (never all of it).
    read_only = [b for b in found if not _within(b.target, workspace)]
    toolchains = _binds(str(user_root / r) for r in tools)
    toolchains += [b for b in found if _within(b.target, workspace) and b.target != workspace]
    in_copy = [Bind(os.path.realpath(user_root / r), str(copy_root / r)) for r in tools]
    return SandboxPlan(
        bwrap=bwrap,
        workdir=str(copy_root),
        scratch=str(scratch),
        home=home,
        system=tuple(system),
        links=tuple(links),
        read_only=tuple(read_only),
        workspace=workspace,
        toolchains=tuple(toolchains),
        after_scratch=tuple(in_copy),
        secrets=tuple(secrets(real_home, options.private_dirs)),
        network=options.network,
        tmp_bytes=options.tmp_bytes,
    )


def _covered(bind: Bind, system: Sequence[Bind]) -> bool:
    """Already visible, read-only, at the same place through a system folder."""
    return bind.source == bind.target and any(_within(bind.source, s.source) for s in system)


def _within(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep) or os.sep
    return path == folder or path.startswith(folder if folder == os.sep else folder + os.sep)
