"""Pattern matching whose time grows linearly with the text, for patterns and texts that a
model or a repository controls.

Python's ``re`` backtracks: ``(a+)+$`` on 28 characters, or a glob ``*a*a*a…b`` turned into
a regex, runs for minutes, and it holds the GIL while it does, so even a thread stalls the
event loop. RE2 (``google-re2``) runs every pattern as an automaton in time linear in the
text; it refuses the few constructs that need backtracking (backreferences, lookaround),
and we then say so instead of falling back to ``re``.

- :func:`compile_regex`: a model's (or our own) regular expression on RE2.
- :func:`glob_spec`: gitignore-style globs (``list_files`` patterns, ``.gitignore`` files,
  ``agent.exclude``), matched by pathspec on its RE2 backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import re2
from pathspec import GitIgnoreSpec

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would log every refused pattern to stderr


class TextPattern(Protocol):
    """What the callers use of a compiled pattern (RE2's and ``re``'s share it)."""

    def finditer(self, text: str, pos: int = ..., endpos: int = ...) -> Iterator[Any]: ...

    def findall(self, text: str, pos: int = ..., endpos: int = ...) -> list[Any]: ...

    def search(self, text: str, pos: int = ..., endpos: int = ...) -> Any: ...


class PatternError(ValueError):
    """The pattern is not valid, or needs backtracking (which RE2 does not do)."""


def compile_regex(pattern: str, *, multiline: bool = False) -> TextPattern:
    """``pattern`` on RE2; ``multiline``: ``^`` and ``$`` anchor at each line, as in grep."""
    try:
        compiled: TextPattern = re2.compile(("(?m)" if multiline else "") + pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise PatternError(
            f"{reason} (patterns run on RE2: no backreferences or lookaround)"
        ) from None
    return compiled


def compile_literal(text: str, *, multiline: bool = False) -> TextPattern:
    """A pattern that finds ``text`` as it is. An escaped literal has no repetition or
    alternation, so Python's ``re`` cannot backtrack on it; it runs several times faster
    than RE2 here (no UTF-8 copy of every file searched)."""
    return re.compile(re.escape(text), re.MULTILINE if multiline else 0)


def glob_spec(lines: Iterable[str]) -> GitIgnoreSpec:
    """Gitignore-style globs matched in linear time (pathspec's RE2 backend: never the
    backtracking one, whatever else is installed)."""
    return GitIgnoreSpec.from_lines(list(lines), backend="re2")
