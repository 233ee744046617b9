"""``agent.exclude``: which files no request to the model may carry (completions, next edits,
context and the agent all ask ``is_excluded``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from glm_lsp.trust.excluded_files import is_excluded

SECRETS = [".env", "*.pem", "secrets/**"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "secrets").mkdir(parents=True)
    (project / "src").mkdir()
    for name in ("src/app.py", ".env", "src/.env", "server.pem", "secrets/token.txt"):
        (project / name).write_text("x\n")
    return project


@pytest.mark.parametrize("name", [".env", "src/.env", "server.pem", "secrets/token.txt"])
def test_secrets_in_the_workspace_are_excluded(root: Path, name: str) -> None:
    assert is_excluded(root / name, root, SECRETS)


@pytest.mark.parametrize("name", ["src/app.py", "src/secrets.py", "env.txt"])
def test_ordinary_files_are_not(root: Path, name: str) -> None:
    assert not is_excluded(root / name, root, SECRETS)


def test_a_pattern_with_a_slash_is_anchored_at_the_workspace_root(root: Path) -> None:
    (root / "src" / "secrets").mkdir()
    nested = root / "src" / "secrets" / "token.txt"
    nested.write_text("x\n")
    assert not is_excluded(nested, root, ["/secrets/**"])
    assert is_excluded(root / "secrets" / "token.txt", root, ["/secrets/**"])


def test_names_and_patterns_match_whatever_their_case(root: Path) -> None:
    assert is_excluded(root / "SERVER.PEM", root, SECRETS)
    assert is_excluded(root / "Secrets" / "token.txt", root, SECRETS)
    assert is_excluded(root / "server.pem", root, ["*.PEM"])


def test_a_link_to_a_secret_is_excluded(root: Path) -> None:
    link = root / "src" / "settings.txt"
    link.symlink_to(root / ".env")
    assert is_excluded(link, root, SECRETS)
    assert not is_excluded(link, root, ["*.pem"])


def test_a_root_named_through_a_link_still_anchors_patterns(root: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(root)
    # The editor names the workspace by its link, the file by its real path, or the reverse.
    assert is_excluded(root / "secrets" / "token.txt", alias, ["/secrets/**"])
    assert is_excluded(alias / "secrets" / "token.txt", root, ["/secrets/**"])
    assert not is_excluded(alias / "src" / "app.py", root, ["/secrets/**"])


def test_outside_the_workspace_the_whole_path_is_matched(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "secrets" / "token.txt"
    outside.parent.mkdir(parents=True)
    outside.write_text("x\n")
    assert not is_excluded(outside, root, ["/secrets/**"])  # anchored at the root it is not in
    assert is_excluded(outside, root, ["**/secrets/**"])  # any folder named secrets
    whole = outside.as_posix().lstrip("/")
    assert is_excluded(outside, root, [f"/{whole}"])  # the whole path, from the top
    assert is_excluded(outside, None, [f"/{whole}"])
    assert is_excluded(tmp_path / "x" / ".env", None, SECRETS)
    assert not is_excluded(tmp_path / "x" / "app.py", None, SECRETS)


def test_no_patterns_exclude_nothing(root: Path) -> None:
    assert not is_excluded(root / ".env", root, [])
