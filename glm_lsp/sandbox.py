"""The bubblewrap command line that confines a check: a pure function of a :class:`SandboxPlan`.

The plan says which host folders the check sees and how; :func:`bwrap_argv` turns it into
``bwrap`` options in the order bubblewrap needs (a later mount covers an earlier one):

1. the system read-only (``/usr``, ``/etc``, ...; the ``/bin``-style links kept as links),
   its own ``/proc`` (a new PID namespace: no other process is visible), a minimal ``/dev``;
2. a private ``/tmp`` and a private, empty ``$HOME`` (tmpfs, size-limited);
3. what the program needs, read-only: its installation, the workspace's toolchain folders,
   the user's ``agent.checkReadPaths``;
4. the scratch folder, the only writable host folder;
5. masks last: each secret place of ``$HOME`` and glm-lsp's own state and config folders
   that lies inside something mounted above is covered (an empty tmpfs for a folder,
   ``/dev/null`` for a file), so no mount in 1-4 can reveal it.

Knows nothing of LSP, of the agent or of the file system: :mod:`glm_lsp.agent.check_sandbox`
finds the paths.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Namespaces the check never needs to share. (No user namespace of its own beyond the one
# bubblewrap makes when it is not setuid: as root, bwrap drops every capability itself.)
_UNSHARE = ("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")
HOSTNAME = "glm-check"


@dataclass(frozen=True)
class Bind:
    """A host path shown at ``dest`` (the same path unless said otherwise)."""

    source: str
    dest: str = ""

    @property
    def target(self) -> str:
        return self.dest or self.source


@dataclass(frozen=True)
class Secret:
    """A host path the check must never see, wherever a mount would bring it in."""

    path: str
    is_dir: bool


@dataclass(frozen=True)
class SandboxPlan:
    bwrap: str
    workdir: str  # the check's working directory (the copy's root)
    scratch: str  # the scratch folder: the only writable host folder
    home: str  # $HOME inside: a private empty tmpfs at this path
    system: tuple[Bind, ...] = ()  # read-only system folders
    links: tuple[tuple[str, str], ...] = ()  # (link, its target): /bin -> usr/bin
    read_only: tuple[Bind, ...] = ()  # the program's installation, the read paths
    workspace: str = ""  # the user's folder: covered wherever a mount above reveals it
    toolchains: tuple[Bind, ...] = ()  # its ignored tool folders, at their place in it
    after_scratch: tuple[Bind, ...] = ()  # read-only, mounted inside the copy
    secrets: tuple[Secret, ...] = ()
    network: bool = False
    tmp_bytes: int = 256 * 1024 * 1024  # each of /tmp, $HOME and /dev/shm
    env: Mapping[str, str] = field(default_factory=dict)  # informative: given to bwrap's process


def bwrap_argv(plan: SandboxPlan, command: Sequence[str]) -> list[str]:
    """``bwrap`` with its options and then ``command``, run in ``plan.workdir``."""
    argv = [plan.bwrap, *_UNSHARE, "--hostname", HOSTNAME]
    if not plan.network:
        argv.append("--unshare-net")
    argv += ["--die-with-parent", "--new-session"]
    for bind in _outside_secrets(plan.system, plan.secrets):
        argv += ["--ro-bind", bind.source, bind.target]
    for link, target in plan.links:
        argv += ["--symlink", target, link]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    size = str(plan.tmp_bytes)
    for private in ("/dev/shm", "/tmp", plan.home):
        argv += ["--size", size, "--tmpfs", private]
    for bind in _outside_secrets(plan.read_only, plan.secrets):
        argv += ["--ro-bind", bind.source, bind.target]
    # The user's folder is seen only through its copy (its .env, .git and unsaved state are
    # not the check's): an empty, read-only folder where a mount above would show it.
    covered = plan.workspace and _revealed(plan.workspace, [*plan.system, *plan.read_only])
    if covered:
        argv += ["--tmpfs", plan.workspace]
    for bind in _outside_secrets(plan.toolchains, plan.secrets):
        argv += ["--ro-bind", bind.source, bind.target]
    if covered:
        argv += ["--remount-ro", plan.workspace]
    argv += ["--bind", plan.scratch, plan.scratch]
    for bind in _outside_secrets(plan.after_scratch, plan.secrets):
        argv += ["--ro-bind", bind.source, bind.target]
    for secret, is_dir in hidden_places(plan):
        if is_dir:  # an empty folder the check cannot write in either
            argv += ["--perms", "0500", "--tmpfs", secret, "--remount-ro", secret]
        else:
            argv += ["--ro-bind", "/dev/null", secret]
    argv += ["--chdir", plan.workdir, "--", *command]
    return argv


def _outside_secrets(binds: Sequence[Bind], secrets: Sequence[Secret]) -> list[Bind]:
    """The binds that are not a secret place nor inside one (``~/.ssh`` named as a read
    path shows nothing: a mask could only cover it, a mount inside it is left out)."""
    return [
        b
        for b in binds
        if not any(b.source == s.path or (s.is_dir and _within(b.source, s.path)) for s in secrets)
    ]


def hidden_places(plan: SandboxPlan) -> list[tuple[str, bool]]:
    """Where a secret would show inside the sandbox, as (path inside, is a folder): every
    mount whose source holds a secret gets the secret covered at its place there."""
    mounts = [*plan.system, *plan.read_only, *plan.toolchains, Bind(plan.scratch)]
    mounts += plan.after_scratch
    places: dict[str, bool] = {}
    for secret in plan.secrets:
        for mount in mounts:
            if secret.path == mount.source and not secret.is_dir:
                places[mount.target] = False  # the mount is the secret file itself
            elif _within(secret.path, mount.source):
                inside = mount.target.rstrip("/") + secret.path[len(mount.source.rstrip("/")) :]
                places[inside] = secret.is_dir
    return sorted(places.items())


def _revealed(folder: str, mounts: Sequence[Bind]) -> bool:
    """Whether a mount shows ``folder`` or something inside it (by the path seen inside)."""
    return any(_within(folder, m.target) or _within(m.target, folder) for m in mounts)


def _within(path: str, folder: str) -> bool:
    folder = folder.rstrip(os.sep) or os.sep
    return path == folder or path.startswith(folder if folder == os.sep else folder + os.sep)
