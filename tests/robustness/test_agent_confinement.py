"""Agent confinement attacks beyond the agent's own tests: what a model (or a prompt
injection in a file it read) could try. Each must answer ``error: …`` (or find nothing),
never show a secret, and stage nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from glm_lsp.agent.tools import AgentTools
from glm_lsp.workspace import Workspace

SECRET = "s3cr3t-confinement-DO-NOT-LEAK"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    files = {
        "a.py": "def helper():\n    return 1\n",
        "docs/readme.md": "# docs\n",
        ".env": f"TOKEN={SECRET}\n",
        ".git/config": f"url = https://{SECRET}@example.com\n",
        ".git/hooks/pre-commit.sample": "#!/bin/sh\n",
        "keys/server.pem": SECRET,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (root / "linked_outside").symlink_to(outside, target_is_directory=True)
    (root / "linked_git").symlink_to(root / ".git", target_is_directory=True)
    (root / "linked_keys").symlink_to(root / "keys", target_is_directory=True)
    (root / "loop").symlink_to(root, target_is_directory=True)
    return root


def call(tools: AgentTools, name: str, **arguments: object) -> str:
    return tools.run(name, json.dumps(arguments))


def tools_for(root: Path) -> AgentTools:
    return AgentTools(Workspace([root]), max_output_bytes=32768)


READ_ATTACKS = [
    "./.git/../.git/config",  # .git reached again after leaving it
    "docs/../.git/config",
    "linked_git/config",  # a directory symlink into .git
    "linked_outside/secret.txt",  # a directory symlink out of the workspace
    "linked_keys/server.pem",  # a directory symlink onto an excluded file
    "loop/.env",  # a symlink loop back onto the root
    "loop/loop/loop/.git/config",
    "%2e%2e/outside/secret.txt",  # URL-encoded .. (must not be decoded)
    "..%2Foutside%2Fsecret.txt",
    "~/../outside/secret.txt",  # no ~ expansion
    "//" + "etc/passwd",
    "/proc/self/root/etc/passwd",
    "a.py/../../outside/secret.txt",
    "..\\outside\\secret.txt",  # Windows separators
    ".git",
    "docs/./../.env",
]

# On a case-insensitive file system (macOS, Windows) these ARE .git/config, .env and the key.
CASE_ATTACKS = [".GIT/config", ".Git/config", ".ENV", ".Env", "keys/SERVER.PEM", "KEYS/server.PEM"]


@pytest.mark.parametrize("path", READ_ATTACKS)
def test_reads_that_leave_the_workspace_or_reach_secrets_fail(tree: Path, path: str) -> None:
    tools = tools_for(tree)
    output = call(tools, "read_file", path=path)
    assert output.startswith("error: "), output
    assert SECRET not in output


@pytest.mark.parametrize("path", CASE_ATTACKS)
def test_case_variants_of_secrets_are_refused_on_every_file_system(tree: Path, path: str) -> None:
    """The rule must not depend on the file system: on macOS ``.GIT/config`` opens
    ``.git/config``. Refused by name, whatever the case."""
    tools = tools_for(tree)
    for name, arguments in [
        ("read_file", {"path": path}),
        ("write_file", {"path": path, "content": "pwned"}),
    ]:
        output = call(tools, name, **arguments)
        assert output.startswith("error: ") and "not found" not in output.lower(), (name, output)
    assert tools.workspace.changes() == []


WRITE_ATTACKS = [
    "./.git/../.git/hooks/pre-commit",  # a hook is code the next git commit runs
    "linked_git/hooks/post-checkout",
    "linked_outside/new.py",  # a new file below a symlink that leaves
    "linked_keys/new.pem",
    "loop/.env.production",
]


@pytest.mark.parametrize("path", WRITE_ATTACKS)
def test_writes_renames_and_deletes_off_limits_stage_nothing(tree: Path, path: str) -> None:
    tools = tools_for(tree)
    results = [
        call(tools, "write_file", path=path, content="pwned"),
        call(tools, "edit_file", path=path, old_text="a", new_text="b"),
        call(tools, "rename_file", path="a.py", new_path=path),
        call(tools, "delete_file", path=path),
    ]
    for output in results:
        assert output.startswith("error: "), (path, results)
    assert tools.workspace.changes() == []


def test_url_encoded_dot_dot_is_a_plain_name_inside_the_workspace(tree: Path) -> None:
    """Paths are never URL-decoded: ``%2e%2e`` is a directory name, and the edit's URI
    encodes the ``%`` again, so an editor decoding it gets the same name back."""
    tools = tools_for(tree)
    assert call(tools, "write_file", path="%2e%2e/new.py", content="x = 1\n").startswith("created")
    (change,) = tools.workspace.changes()
    assert change.path == tree.resolve() / "%2e%2e" / "new.py"  # type: ignore[union-attr]
    assert "%252e%252e" in tools.workspace.client_path(change.path).as_uri()  # type: ignore[union-attr]


def test_rename_of_a_secret_into_plain_sight_is_refused(tree: Path) -> None:
    tools = tools_for(tree)
    assert call(tools, "rename_file", path=".env", new_path="notes.txt").startswith("error: ")
    assert call(tools, "rename_file", path="linked_keys/server.pem", new_path="k.txt").startswith(
        "error: "
    )
    assert tools.workspace.changes() == []


def test_listing_and_search_do_not_follow_links_out_or_into_secrets(tree: Path) -> None:
    tools = tools_for(tree)
    listing = call(tools, "list_files")
    assert "secret.txt" not in listing and "server.pem" not in listing
    assert "config" not in listing.replace("linked", "")
    for query in (SECRET, "TOKEN="):
        assert call(tools, "search", query=query) == "(no matches)"
    # The symlink loop neither hangs the walk nor multiplies the results.
    assert listing.count("a.py") == 1
    for path in ("linked_outside", "linked_git", "loop/.git"):
        output = call(tools, "search", query="s3cr3t", path=path)
        assert SECRET not in output


def test_the_secret_stays_off_disk_writes(tree: Path) -> None:
    """Nothing the agent does reaches the disk; the files are as before."""
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file() and not p.is_symlink()}
    tools = tools_for(tree)
    for path in WRITE_ATTACKS:
        call(tools, "write_file", path=path, content="pwned")
    after = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file() and not p.is_symlink()}
    assert before == after
    assert not any("pwned" in p.read_text() for p in (tree.parent / "outside").iterdir())
    assert os.listdir(tree.parent / "outside") == ["secret.txt"]
