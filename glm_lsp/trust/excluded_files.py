"""Whether a file is one of ``agent.exclude``'s: a secret no request to the model may carry,
whichever feature asks (the agent, context, completions, next edits)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from pathspec import GitIgnoreSpec

from glm_lsp.linear_match import glob_spec


@lru_cache(maxsize=8)
def _spec(patterns: tuple[str, ...]) -> GitIgnoreSpec:
    return glob_spec([pattern.lower() for pattern in patterns])


def is_excluded(path: Path, root: Path | None, exclude: Sequence[str]) -> bool:
    """``path`` matches an exclude pattern: relative to ``root`` when inside it, else as a
    whole path (a pattern without a slash matches any file name). Checked for the path as
    named and for where its links lead; case-insensitive, as the agent's confinement."""
    spec = _spec(tuple(exclude))
    for candidate in {Path(os.path.abspath(path)), Path(os.path.realpath(path))}:
        relative: str | None = None
        for base in {root, Path(os.path.realpath(root))} if root is not None else set():
            if candidate.is_relative_to(base):
                relative = candidate.relative_to(base).as_posix()
                break
        # Outside the root, the absolute path: pathspec reads its leading "/" as the top.
        name = relative if relative is not None else candidate.as_posix()
        if spec.match_file(name.lower()):
            return True
    return False
