"""Which grammar reads which file, loaded on first use (pure; no tree-sitter import until a
file of that language is parsed, so an idle server never maps a grammar).

A language is one entry in :data:`GRAMMARS` plus one query file,
``glm_lsp/syntax/queries/<grammar>.scm``. Files over :data:`MAX_BYTES`, binary files and
unknown extensions give no tree (and no error): the caller then simply has no context.
"""

from __future__ import annotations

import importlib
import logging
import posixpath
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tree_sitter import Parser, Query, Tree

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024  # past this a file gives no definitions: parsing it would cost more
# Parsing never runs unbounded (repositories control the input): a parse is halted after
# this long and the file gives nothing.
PARSE_BUDGET_S = 0.5
QUERIES = Path(__file__).with_name("queries")


@dataclass(frozen=True)
class Grammar:
    name: str  # also the query file's stem
    module: str  # the grammar wheel's module
    function: str  # its function returning the language pointer
    language_id: str  # the LSP languageId files of this grammar get by default
    family: str  # files of one family see each other's names (C and C++; JS and TS)
    extensions: tuple[str, ...]
    braces: bool = True  # blocks close with `}` (else by indentation or `end`)
    queries: str = ""  # the query file's stem when not the grammar's name


GRAMMARS: tuple[Grammar, ...] = (
    Grammar(
        "python",
        "tree_sitter_python",
        "language",
        "python",
        "python",
        (".py", ".pyi"),
        braces=False,
    ),
    Grammar(
        "javascript",
        "tree_sitter_javascript",
        "language",
        "javascript",
        "js",
        (".js", ".jsx", ".mjs", ".cjs"),
    ),
    Grammar(
        "typescript",
        "tree_sitter_typescript",
        "language_typescript",
        "typescript",
        "js",
        (".ts", ".mts", ".cts"),
    ),
    Grammar(
        "tsx",
        "tree_sitter_typescript",
        "language_tsx",
        "typescript",
        "js",
        (".tsx",),
        queries="typescript",
    ),
    Grammar("go", "tree_sitter_go", "language", "go", "go", (".go",)),
    Grammar("rust", "tree_sitter_rust", "language", "rust", "rust", (".rs",)),
    Grammar("java", "tree_sitter_java", "language", "java", "java", (".java",)),
    Grammar("c", "tree_sitter_c", "language", "c", "c", (".c",)),
    Grammar(
        "cpp",
        "tree_sitter_cpp",
        "language",
        "cpp",
        "c",
        (".h", ".hh", ".hpp", ".hxx", ".cc", ".cpp", ".cxx", ".c++", ".h++"),
    ),
    Grammar("csharp", "tree_sitter_c_sharp", "language", "csharp", "csharp", (".cs",)),
    Grammar("ruby", "tree_sitter_ruby", "language", "ruby", "ruby", (".rb", ".rake")),
    Grammar("php", "tree_sitter_php", "language_php_only", "php", "php", (".php",), braces=True),
)
_BY_EXTENSION = {extension: g for g in GRAMMARS for extension in g.extensions}
_BY_NAME = {g.name: g for g in GRAMMARS}


def grammar_for_path(path: str) -> Grammar | None:
    """The grammar a file is read with, by its extension (``.d.ts`` is TypeScript)."""
    return _BY_EXTENSION.get(posixpath.splitext(path)[1].lower())


def grammar_named(name: str) -> Grammar | None:
    return _BY_NAME.get(name)


@dataclass
class Loaded:
    """A grammar in memory: its parser and its compiled query (one each per process)."""

    grammar: Grammar
    language: Any  # tree_sitter.Language
    parser: Parser
    query: Query
    lock: threading.Lock  # a Parser is not safe to share between threads


_loaded: dict[str, Loaded] = {}
_failed: set[str] = set()
_load_lock = threading.Lock()


# Grammars a file's imports are read with besides its own: C's headers (.h) are read as C++.
_ALSO_READS = {"c": ("cpp",)}


def unloaded_for(path: str) -> list[Grammar]:
    """The grammars reading ``path`` and what it includes need, not loaded yet: what a caller
    loads in a thread before reading, since compiling a grammar's query takes up to half a
    second once."""
    grammar = grammar_for_path(path)
    if grammar is None:
        return []
    needed = [grammar.name, *_ALSO_READS.get(grammar.name, ())]
    return [_BY_NAME[name] for name in needed if name not in _loaded and name not in _failed]


def is_loaded(grammar: Grammar) -> bool:
    return grammar.name in _loaded


def loaded_names() -> list[str]:
    """The grammars loaded so far (what the RSS benchmark reports)."""
    return sorted(_loaded)


def load(grammar: Grammar) -> Loaded | None:
    """The grammar's parser and query, loaded the first time it is needed; None (logged once)
    when its wheel is missing or its query does not compile."""
    found = _loaded.get(grammar.name)
    if found is not None or grammar.name in _failed:
        return found
    with _load_lock:
        found = _loaded.get(grammar.name)
        if found is not None:
            return found
        try:
            from tree_sitter import Language, Parser, Query

            module = importlib.import_module(grammar.module)
            language = Language(getattr(module, grammar.function)())
            source = (QUERIES / f"{grammar.queries or grammar.name}.scm").read_text(
                encoding="utf-8"
            )
            found = Loaded(
                grammar, language, Parser(language), Query(language, source), threading.Lock()
            )
        except Exception:  # a missing wheel or a bad query costs this language only
            log.warning(
                "cannot load the %s grammar; no context for it", grammar.name, exc_info=True
            )
            _failed.add(grammar.name)
            return None
        _loaded[grammar.name] = found
        return found


def readable(text: str) -> bool:
    """Small enough and not binary: worth parsing."""
    return len(text) <= MAX_BYTES and "\x00" not in text[:8192]


def _common_prefix(old: bytes, new: bytes) -> int:
    """Length of the common prefix (slice comparisons run in C: a keystroke in a large file
    costs a few memcmp, not a Python loop)."""
    low, high = 0, min(len(old), len(new))
    while low < high:
        middle = (low + high + 1) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _point(data: bytes, byte: int) -> tuple[int, int]:
    row = data.count(b"\n", 0, byte)
    return row, byte - (data.rfind(b"\n", 0, byte) + 1)


def _edited(previous: tuple[bytes, Tree], data: bytes) -> Tree | None:
    """The previous tree told what changed (the one edited span between the two texts), so
    that tree-sitter re-parses only around it."""
    old, tree = previous
    start = _common_prefix(old, data)
    limit = min(len(old), len(data)) - start
    low, high = 0, limit
    while low < high:  # the common suffix, not overlapping the prefix
        middle = (low + high + 1) // 2
        if old[len(old) - middle :] == data[len(data) - middle :]:
            low = middle
        else:
            high = middle - 1
    old_end, new_end = len(old) - low, len(data) - low
    edited = tree.copy()
    edited.edit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=_point(old, start),
        old_end_point=_point(old, old_end),
        new_end_point=_point(data, new_end),
    )
    return edited


def parse(
    text: str, grammar: Grammar, previous: tuple[bytes, Tree] | None = None
) -> tuple[Tree, bytes, Loaded] | None:
    """The syntax tree of ``text`` (with its UTF-8 bytes, which node offsets index), or None
    for a file too large, binary, of a grammar that cannot load, or too slow to parse.
    ``previous`` (the bytes and tree of an earlier version of the same file) makes the parse
    incremental: typing in a large file re-parses only around the change."""
    if not readable(text):
        return None
    data = text.encode("utf-8", errors="replace")
    if len(data) > MAX_BYTES:
        return None
    loaded = load(grammar)
    if loaded is None:
        return None
    old_tree = None if previous is None else _edited(previous, data)
    deadline = time.monotonic() + PARSE_BUDGET_S

    def read(offset: int, _point: object) -> bytes:
        return data[offset : offset + 65536]

    def halt(_offset: int, _has_error: bool) -> bool:
        return time.monotonic() > deadline

    with loaded.lock:
        try:
            if old_tree is None:
                tree = loaded.parser.parse(read, progress_callback=halt)
            else:
                tree = loaded.parser.parse(read, old_tree, progress_callback=halt)
        except Exception:  # halted (or the binding refused): nothing, never an error
            loaded.parser.reset()
            return None
    if tree is None:
        loaded.parser.reset()
        return None
    return tree, data, loaded
