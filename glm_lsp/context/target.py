"""What a code action works on, worked out from plain text (pure, no LSP server).

Language ids, the block around the cursor, ``glm:`` instruction comments, the code around a
selection that goes into a prompt, and the conventional place for generated tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath
from urllib.parse import unquote, urlparse

from glm_lsp.syntax.blocks import enclosing_block as syntax_block

# --- language ---------------------------------------------------------------------------

_LANGUAGE_BY_SUFFIX = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascriptreact",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".kt": "kotlin",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".swift": "swift",
    ".lua": "lua",
    ".sh": "shellscript",
    ".bash": "shellscript",
    ".sql": "sql",
    ".hs": "haskell",
    ".md": "markdown",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".html": "html",
    ".css": "css",
}

JS_LIKE = frozenset({"javascript", "javascriptreact", "typescript", "typescriptreact"})


def uri_path(uri: str) -> PurePosixPath:
    """The path part of a URI (``file:///a/b.py`` -> ``/a/b.py``), percent-decoded."""
    parsed = urlparse(uri)
    return PurePosixPath(unquote(parsed.path) if parsed.scheme else uri)


def language_id(uri: str, client_language_id: str | None = None) -> str:
    """The client's languageId when it sent one, else a guess from the file suffix."""
    if client_language_id:
        return client_language_id
    return _LANGUAGE_BY_SUFFIX.get(uri_path(uri).suffix.lower(), "text")


# --- blocks -----------------------------------------------------------------------------

_DEFINITION = re.compile(
    r"^\s*(?:@|(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:def|class|function|fn|func|impl|"
    r"struct|enum|trait|interface|module|type|pub|public|private|protected|static|"
    r"internal|override|local\s+function|const\s+\w+\s*=|let\s+\w+\s*=|var\s+\w+\s*=)\b)"
)
_CLOSER = re.compile(r"^\s*(?:[}\])]|(?:end|fi|done|esac)\b(?!\s*[(=.]))")
_REOPENS = re.compile(r"[{(\[:]\s*$")


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _blank(line: str) -> bool:
    return not line.strip()


def _next_content(lines: list[str], start: int, step: int) -> int | None:
    index = start
    while 0 <= index < len(lines):
        if not _blank(lines[index]):
            return index
        index += step
    return None


def _is_header(lines: list[str], index: int) -> bool:
    following = _next_content(lines, index + 1, 1)
    return following is not None and _indent(lines[following]) > _indent(lines[index])


def _block_end(lines: list[str], header: int) -> int:
    """Last line of the block opened by ``header``: its deeper-indented body, plus a closing
    line at the header's indentation (``}``, ``end``…), continuing through ``} else {``."""
    level = _indent(lines[header])
    end = header
    index = header + 1
    while index < len(lines):
        if _blank(lines[index]) or _indent(lines[index]) > level:
            if not _blank(lines[index]):
                end = index
            index += 1
            continue
        if _CLOSER.match(lines[index]):
            end = index
            if _REOPENS.search(lines[index]):
                index += 1
                continue
        break
    return end


def _block_start(lines: list[str], header: int) -> int:
    """Include decorators directly above a definition."""
    start = header
    while start > 0 and lines[start - 1].strip().startswith("@"):
        if _indent(lines[start - 1]) != _indent(lines[header]):
            break
        start -= 1
    return start


def _ancestors(lines: list[str], index: int) -> list[int]:
    """Header lines enclosing ``index``, innermost first (by indentation)."""
    found: list[int] = []
    level = _indent(lines[index])
    for above in range(index - 1, -1, -1):
        line = lines[above]
        if _blank(line) or _indent(line) >= level or _CLOSER.match(line):
            continue
        found.append(above)
        level = _indent(line)
        if level == 0:
            break
    return found


def _anchor_line(lines: list[str], line: int) -> int | None:
    """A blank cursor line belongs to its more indented neighbour."""
    if not _blank(lines[line]):
        return line
    above, below = _next_content(lines, line - 1, -1), _next_content(lines, line + 1, 1)
    if above is None or below is None:
        return below if above is None else above
    return above if _indent(lines[above]) > _indent(lines[below]) else below


def enclosing_block(
    lines: list[str], line: int, path: str | None = None, *, load_grammar: bool = True
) -> tuple[int, int]:
    """First and last line (inclusive) of the block around ``line``: the nearest enclosing
    definition (``def``, ``function``, ``class``…), else the innermost enclosing block, else
    the line itself. Read from the syntax tree when ``path``'s language has a grammar, else
    by indentation (also, without ``load_grammar``, while the grammar is not loaded)."""
    if not lines:
        return 0, 0
    if path is not None:
        found = syntax_block(
            "\n".join(lines), path, max(0, min(line, len(lines) - 1)), load_grammar=load_grammar
        )
        if found is not None:
            return found
    line = max(0, min(line, len(lines) - 1))
    anchor = _anchor_line(lines, line)
    if anchor is None:
        return line, line
    candidates = ([anchor] if _is_header(lines, anchor) else []) + _ancestors(lines, anchor)
    if not candidates:
        return anchor, anchor
    definitions = [c for c in candidates if _DEFINITION.match(lines[c])]
    header = definitions[0] if definitions else candidates[0]
    return _block_start(lines, header), _block_end(lines, header)


# --- instruction comments ---------------------------------------------------------------

_INSTRUCTION = re.compile(
    r"^\s*(?:#+|//+|--+|;+|%+|/\*+|<!--|\*)\s*glm:\s*(?P<instruction>.*?)\s*(?:\*/|-->)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class InstructionComment:
    line: int
    instruction: str


def instruction_comments(lines: list[str], first: int, last: int) -> list[InstructionComment]:
    """``glm: <instruction>`` comment lines (``#``, ``//``, ``--``, ``;``, ``/* */``,
    ``<!-- -->``…) between ``first`` and ``last`` inclusive."""
    found: list[InstructionComment] = []
    for index in range(max(0, first), min(last, len(lines) - 1) + 1):
        match = _INSTRUCTION.match(lines[index])
        if match and match["instruction"]:
            found.append(InstructionComment(index, match["instruction"]))
    return found


def instruction_target(
    lines: list[str], comment_line: int, path: str | None = None, *, load_grammar: bool = True
) -> tuple[int, int]:
    """The lines an instruction comment is about: the block it sits in, or the block right
    below it when it stands alone (a comment above a function); always includes the comment.
    Blocks come from the syntax tree when ``path``'s grammar is there (see
    :func:`enclosing_block`)."""
    start, end = enclosing_block(lines, comment_line, path, load_grammar=load_grammar)
    if (start, end) != (comment_line, comment_line):
        return min(start, comment_line), max(end, comment_line)
    below = _next_content(lines, comment_line + 1, 1)
    if below is None:
        return comment_line, comment_line
    if _INSTRUCTION.match(lines[below]) or _indent(lines[below]) != _indent(lines[comment_line]):
        return comment_line, comment_line
    block_start, block_end = enclosing_block(lines, below, path, load_grammar=load_grammar)
    if block_start < comment_line:  # the block below is really around the comment
        return comment_line, comment_line
    return comment_line, block_end


# --- code around a selection ------------------------------------------------------------


@dataclass(frozen=True)
class Excerpt:
    """The code shown to the model: the whole file when it is small, else a window."""

    text: str
    first_line: int  # 0-based line number of the excerpt's first line
    whole_file: bool


def excerpt_around(text: str, start: int, end: int, max_chars: int = 16000) -> Excerpt:
    """The file, or the lines around ``text[start:end]`` within about ``max_chars``
    (two thirds before the selection, one third after), cut at line boundaries."""
    if len(text) <= max_chars:
        return Excerpt(text, 0, True)
    spare = max(0, max_chars - (end - start))
    window_start = text.rfind("\n", 0, max(0, start - spare * 2 // 3)) + 1
    cut = text.find("\n", min(len(text), end + spare // 3))
    window_end = len(text) if cut < 0 else cut + 1
    window_start = min(window_start, text.rfind("\n", 0, start) + 1)
    return Excerpt(text[window_start:window_end], text.count("\n", 0, window_start), False)


# --- where tests go ---------------------------------------------------------------------


def looks_like_test_file(path: PurePath) -> bool:
    name = path.name
    if name.startswith("test_") or path.stem.endswith(("_test", ".test", ".spec", "_spec")):
        return True
    return "tests" in path.parts[:-1] and name not in ("__init__.py", "conftest.py")


def conventional_test_path(
    source: PurePath,
    language: str,
    workspace_root: PurePath | None,
    root_has_tests_dir: bool,
) -> PurePath:
    """Where tests for ``source`` go. Python: ``tests/test_<stem>.py`` when ``tests/`` exists
    at the workspace root, else ``test_<stem>.py`` beside the source; JS/TS:
    ``<stem>.test.<ext>``; Go: ``<stem>_test.go``; Rust: the source itself (a ``mod tests``
    is appended); a file that is already a test file gets the new tests itself; otherwise
    ``test_<stem><suffix>`` beside the source."""
    stem, suffix = source.stem, source.suffix
    if looks_like_test_file(source) or language == "rust":
        return source
    if language == "python":
        if workspace_root is not None and root_has_tests_dir:
            return workspace_root / "tests" / f"test_{stem}.py"
        return source.with_name(f"test_{stem}.py")
    if language in JS_LIKE:
        return source.with_name(f"{stem}.test{suffix}")
    if language == "go":
        return source.with_name(f"{stem}_test.go")
    return source.with_name(f"test_{stem}{suffix}")


def path_for_model(path: Path, root: Path | None) -> str:
    """How a file is named to the model: relative to its workspace folder, else its name."""
    if root is not None and path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return path.name
