"""Definitions from the rest of the workspace that the code at the cursor or selection uses
(pure: files come through a :class:`Sources`, which decides what may be read).

Today's prompts show the current file only; the model then guesses the signature of
``scale()`` imported from ``util.py``. Here: the names the code near the cursor (or in the
selection) uses are looked up in what the file imports and in the open buffers of its
language, and come back as short snippets with their paths: signatures and docstrings first,
whole bodies only where the budget allows, the rendered block never longer than
``max_chars``. Files are read with tree-sitter (:mod:`glm_lsp.syntax`) in every language it
knows: Python, JavaScript, TypeScript, Go, Rust, Java, C, C++, C#, Ruby, PHP. A name the file
binds where the cursor sees it is not looked up elsewhere; a variable whose type the file
states (``inv: Inventory``, ``let q = JobQueue::new()``) brings the method called on it; a
name found nowhere is simply left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from glm_lsp.syntax.languages import Grammar, grammar_for_path, grammar_named
from glm_lsp.syntax.outline import Definition, Outline, outline_of
from glm_lsp.syntax.resolve import (
    Bindings,
    OutlineIndex,
    Sources,
    bindings_for,
    files_in,
    js_reexports,
)

__all__ = ["Bindings", "Definition", "Sources"]

# How far from the cursor a completion looks for names (lines), inside its enclosing block.
NEAR_LINES_ABOVE = 40
NEAR_LINES_BELOW = 8
HEADER = "Definitions from other files of the workspace that this code uses or imports:"
# Languages whose methods live outside the type (Go receivers, Rust impl blocks): a type
# found brings them.
_METHODS_OUTSIDE = frozenset({"go", "rust"})
# Languages whose package is its folder: a definition's own names live in its siblings.
_FOLDER_PACKAGES = {"go": (".go",), "java": (".java",), "csharp": (".cs",), "php": (".php",)}


@dataclass(frozen=True)
class Document:
    path: str  # workspace-relative POSIX path
    language: str
    text: str  # "\n" line endings


@dataclass(frozen=True)
class Context:
    """The rendered block (empty when nothing was found) and what it holds."""

    text: str = ""
    definitions: tuple[Definition, ...] = ()
    whole: tuple[bool, ...] = ()  # per definition: body shown (True) or signature only


# --- one file -----------------------------------------------------------------------------

_GRAMMAR_BY_LANGUAGE = {"javascriptreact": "javascript", "typescriptreact": "tsx"}


def _grammar(language: str, path: str) -> Grammar | None:
    return grammar_for_path(path) or grammar_named(_GRAMMAR_BY_LANGUAGE.get(language, language))


def _outline(text: str, language: str, path: str) -> Outline | None:
    grammar = _grammar(language, path)
    return None if grammar is None else outline_of(text, path, grammar)


def definitions_in(text: str, language: str, path: str) -> dict[str, Definition]:
    """Top-level definitions of a file by name (methods also as ``Type.name``)."""
    found = _outline(text, language, path)
    return {} if found is None else found.definitions


class DefinitionIndex(OutlineIndex):
    """Outlines per file, parsed once per text (a changed buffer or file is parsed again)."""


_SHARED_INDEX = DefinitionIndex()


def language_of(path: str) -> str | None:
    grammar = grammar_for_path(path)
    return None if grammar is None else grammar.language_id


def _family(path: str) -> str:
    grammar = grammar_for_path(path)
    return "" if grammar is None else grammar.family


def bindings_of(
    document: Document, sources: Sources, index: DefinitionIndex | None = None
) -> Bindings:
    """What the document's imports refer to inside the workspace."""
    index = index or _SHARED_INDEX
    outline = _outline(document.text, document.language, document.path)
    return Bindings() if outline is None else bindings_for(outline, sources, index)


# Past this size a document is analysed (imports, names it binds) in its head and around
# the cursor only: a keystroke in a 2 MB file must not cost a parse of 2 MB.
LARGE_DOCUMENT_CHARS = 200_000
HEAD_CHARS = 64_000
AROUND_CHARS = 32_000


def analysed_part(document: Document, start: int, end: int) -> tuple[Document, int]:
    """The document itself, or for a large one its head (where imports are) and the text
    around ``start:end``; with how many characters before the cursor were left out."""
    text = document.text
    if len(text) <= LARGE_DOCUMENT_CHARS:
        return document, 0
    head = text[: text.rfind("\n", 0, HEAD_CHARS) + 1]
    low = max(len(head), text.rfind("\n", 0, max(len(head), start - AROUND_CHARS)) + 1)
    high = text.find("\n", min(len(text), end + AROUND_CHARS))
    around = text[low : len(text) if high < 0 else high]
    return Document(document.path, document.language, head + around), low - len(head)


def focus_code(text: str, start: int, end: int) -> str:
    """The code whose names matter: the selection, or the lines around the cursor."""
    if end > start:
        return text[start:end]
    first = text.rfind("\n", 0, start)
    for _ in range(NEAR_LINES_ABOVE):
        if first <= 0:
            first = 0
            break
        first = text.rfind("\n", 0, first)
    last = start
    for _ in range(NEAR_LINES_BELOW):
        found = text.find("\n", last + 1)
        if found < 0:
            last = len(text)
            break
        last = found
    # Nearest the cursor first: the lines above read from the cursor upwards.
    above = text[max(0, first) : start].split("\n")
    return "\n".join(reversed(above)) + "\n" + text[start:last]


# --- the names the code uses ---------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_HASH_COMMENTS = re.compile(
    r"\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|`[^`]*`"
    r"|#[^\n]*|//[^\n]*"
)
_SLASH_COMMENTS = re.compile(r"/\*[\s\S]*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'")
_HASH_LANGUAGES = frozenset({"python", "ruby"})


def used_names(code: str, language: str) -> list[str]:
    """Identifiers and dotted chains (``util.scale``; ``JobQueue::new`` and ``$m->send`` as
    ``JobQueue.new``, ``m.send``) in ``code``, first use first, strings and comments left
    out."""
    stripped = (_HASH_COMMENTS if language in _HASH_LANGUAGES else _SLASH_COMMENTS).sub(" ", code)
    stripped = stripped.replace("::", ".").replace("->", ".").replace("?.", ".")
    if language == "php":
        stripped = stripped.replace("$", "")
    return list(dict.fromkeys(m.group(0) for m in _IDENTIFIER.finditer(stripped)))


# --- finding the definitions ----------------------------------------------------------------


class _Finder:
    """One gather's look-ups: a name in a file (following re-exports), a used name through
    the document's bindings, a type's members."""

    def __init__(
        self,
        document: Document,
        sources: Sources,
        index: DefinitionIndex,
        bindings: Bindings,
        shadowed: set[str],
        open_paths: Sequence[str],
        inner: set[str] | None = None,
    ) -> None:
        self.document = document
        self.sources = sources
        self.index = index
        self.bindings = bindings
        self.shadowed = shadowed
        self.inner = inner or set()  # bound in the functions around the code (not at the top level)
        self.open_paths = open_paths
        self.family = _family(document.path) or document.language
        self._followed: dict[str, Bindings] = {}

    def outline(self, path: str) -> Outline | None:
        text = self.sources.read(path)
        return None if text is None else self.index.outline(path, text)

    def look_up(self, path: str, name: str, depth: int = 0) -> Definition | None:
        """``name`` as ``path`` defines it, or as a module it re-exports from does (a barrel
        file, an ``__init__.py``, a ``pub use``)."""
        outline = self.outline(path)
        if outline is None:
            return None
        definition = outline.definitions.get(name)
        if definition is not None or depth >= 3:
            return definition
        if outline.grammar.family == "js":
            for target, exported in js_reexports(outline, self.sources):
                if exported is None or name in exported:
                    remote = name if exported is None else exported[name]
                    definition = self.look_up(target, remote, depth + 1)
                    if definition is not None:
                        return definition
            return None
        if outline.grammar.family in ("python", "rust") and "." not in name:
            followed = self._followed.get(path)
            if followed is None:
                followed = self._followed[path] = bindings_for(outline, self.sources, self.index)
            if name in followed.names:
                target, remote = followed.names[name]
                if target != path:
                    return self.look_up(target, remote, depth + 1)
            for target in followed.wildcard:
                if target != path and (found := self.look_up(target, name, depth + 1)):
                    return found
        return None

    def resolve(self, parts: list[str]) -> Definition | None:
        """The definition a used name (``scale``, ``util.scale``, ``cart.Cart``) means."""
        head = parts[0]
        bindings = self.bindings
        if head in bindings.modules and len(parts) > 1:
            if head in self.inner:  # `cart := 3` in this function hides package cart
                return None
            for path in bindings.modules[head]:
                definition = self.look_up(path, parts[1])
                if definition is not None:
                    return definition
            return None
        if head in bindings.names and head not in self.shadowed:
            path, remote = bindings.names[head]
            return self.look_up(path, remote)
        if head in self.shadowed or head in bindings.external or head in bindings.modules:
            return None
        for path in (*bindings.wildcard, *bindings.same_package, *self.open_paths):
            if path != self.document.path and _family(path) == self.family:
                definition = self.look_up(path, head)
                if definition is not None:
                    return definition
        return None

    def member(self, owner: Definition, name: str) -> Definition | None:
        """``Owner.name`` where ``owner`` lives (its file, or its package's files)."""
        key = f"{owner.name}.{name}"
        for path in self.package_of(owner.path):
            found = self.look_up(path, key)
            if found is not None:
                return found
        return None

    def package_of(self, path: str) -> tuple[str, ...]:
        """The files a definition's own names live in: its file, and its package's."""
        suffixes = _FOLDER_PACKAGES.get(_family(path))
        if suffixes is None:
            return (path,)
        for files in (*self.bindings.modules.values(), self.bindings.same_package):
            if path in files:
                return files
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        siblings = files_in(self.sources, folder, suffixes, path)
        return (path, *[p for p in siblings if not p.endswith("_test.go")])


def find_definitions(
    document: Document,
    start: int,
    end: int,
    sources: Sources,
    *,
    open_paths: Sequence[str] = (),
    index: DefinitionIndex | None = None,
    bindings: Bindings | None = None,
    all_imports: bool = False,
) -> list[Definition]:
    """The definitions the code at ``text[start:end]`` (a cursor when empty) uses, nearest
    use first, each once; with ``all_imports``, then every other name the file imports
    (what the file can use next: a block that does not change as a name is typed)."""
    index = index or _SHARED_INDEX
    analysed, left_out = analysed_part(document, start, end)
    grammar = _grammar(document.language, document.path)
    if bindings is None:
        outline = None if grammar is None else outline_of(analysed.text, document.path, grammar)
        bindings = Bindings() if outline is None else bindings_for(outline, sources, index)
    at, until = start - left_out, end - left_out
    scope = (
        None if grammar is None else index.scope(document.path, analysed.text, grammar, at, until)
    )
    shadowed = set() if scope is None else set(scope.names)
    inner = set() if scope is None else set(scope.inner)
    receivers = {} if scope is None else scope.receivers
    finder = _Finder(document, sources, index, bindings, shadowed, open_paths, inner)
    found: dict[tuple[str, str], Definition] = {}

    def add(definition: Definition | None) -> Definition | None:
        if definition is not None:
            found.setdefault(definition.key, definition)
        return definition

    for used in used_names(focus_code(document.text, start, end), document.language):
        parts = used.split(".")
        head = parts[0]
        if head in receivers and len(parts) > 1 and (head not in bindings.modules or head in inner):
            # `inv.reserve(` with `inv: Inventory`: the method, then its type.
            written = receivers[head].replace("::", ".").split("<", 1)[0].split("[", 1)[0]
            owner = finder.resolve(written.lstrip("*&").split("."))
            if owner is not None:
                add(finder.member(owner, parts[1]))
                add(owner)
            continue
        definition = add(finder.resolve(parts))
        if definition is None and len(parts) > 1 and finder.family == "c":
            # `stats::mean(`: a C++ namespace is not a file; its names are the includes'.
            definition = add(finder.resolve(parts[1:]))
            parts = parts[1:]
        if definition is None:
            continue
        if len(parts) > 1 and head not in bindings.modules:
            add(finder.member(definition, parts[1]))  # `Money.ofCents(`, `JobQueue::new(`
        elif len(parts) > 2:
            add(finder.member(definition, parts[2]))  # `pkg.Type.Method`
    _add_related(found, finder)
    if all_imports:
        for local, (path, remote) in bindings.names.items():
            imported = None if local in shadowed else finder.look_up(path, remote)
            if imported is not None:
                found.setdefault(imported.key, imported)
    return list(found.values())


RELATED_PER_DEFINITION = 3


def _add_related(found: dict[tuple[str, str], Definition], finder: _Finder) -> None:
    """What the found definitions' signatures name from their own module (``def
    make_order() -> Order``, ``func NewCart() *Cart``), and the methods of Go and Rust types
    found: the model then knows what a call returns."""
    for definition in list(found.values()):
        language = language_of(definition.path) or ""
        package = finder.package_of(definition.path)
        added = 0
        names = [n.split(".")[0] for n in used_names(definition.signature, language)]
        for name in dict.fromkeys(names):
            if name == definition.name or added >= RELATED_PER_DEFINITION:
                continue
            for path in package:
                related = finder.look_up(path, name)
                if related is not None and related.key not in found:
                    found[related.key] = related
                    added += 1
                    break
    for definition in list(found.values()):  # a type's methods come with it
        if _family(definition.path) not in _METHODS_OUTSIDE or "." in definition.name:
            continue
        for path in finder.package_of(definition.path):
            outline = finder.outline(path)
            methods = {} if outline is None else outline.definitions
            for key, method in methods.items():
                if key.startswith(definition.name + ".") and method.key not in found:
                    found[method.key] = method


# --- rendering within a budget --------------------------------------------------------------


def render(definitions: Sequence[Definition], whole: Sequence[bool], language: str) -> str:
    """The block as the model reads it: per file, a fenced block of its snippets."""
    if not definitions:
        return ""
    by_file: dict[str, list[str]] = {}
    for definition, full in zip(definitions, whole, strict=True):
        by_file.setdefault(definition.path, []).append(
            definition.body if full else definition.signature
        )
    parts = [HEADER]
    for path, snippets in by_file.items():
        code = "\n\n".join(snippets)
        fence = "`" * max(3, max((len(r) for r in re.findall(r"`+", code)), default=0) + 1)
        parts.append(f"{path}:\n{fence}{language}\n{code}\n{fence}")
    return "\n".join(parts) + "\n"


def fit(
    definitions: Sequence[Definition], max_chars: int, language: str, *, bodies: bool = True
) -> Context:
    """Signatures first, in order, each only when it still fits; then whole bodies, in order,
    where the budget allows. The rendered text is at most ``max_chars`` characters."""
    chosen: list[Definition] = []
    whole: list[bool] = []
    for definition in definitions:
        if len(render([*chosen, definition], [*whole, False], language)) <= max_chars:
            chosen.append(definition)
            whole.append(False)
    if bodies:
        for position, definition in enumerate(chosen):
            if definition.body == definition.signature:
                continue
            trial = [*whole]
            trial[position] = True
            if len(render(chosen, trial, language)) <= max_chars:
                whole = trial
    text = render(chosen, whole, language)
    return Context(text, tuple(chosen), tuple(whole))


def sticky_order(
    definitions: Sequence[Definition], previous: Sequence[tuple[str, str]]
) -> list[Definition]:
    """Keep the order of an earlier block for the definitions it already had, new ones after:
    typing a new name then adds to the end of the block instead of reshuffling it (the
    prompt's cached prefix survives)."""
    rank = {key: position for position, key in enumerate(previous)}
    kept = sorted((d for d in definitions if d.key in rank), key=lambda d: rank[d.key])
    return kept + [d for d in definitions if d.key not in rank]


def gather(
    document: Document,
    start: int,
    end: int,
    sources: Sources,
    *,
    max_chars: int,
    open_paths: Sequence[str] = (),
    index: DefinitionIndex | None = None,
    bindings: Bindings | None = None,
    previous: Sequence[tuple[str, str]] = (),
    bodies: bool = True,
    all_imports: bool = False,
) -> Context:
    """Find the definitions the code at ``text[start:end]`` uses (see
    :func:`find_definitions`) and render them within ``max_chars`` (0 turns context off)."""
    if max_chars <= 0:
        return Context()
    found = find_definitions(
        document,
        start,
        end,
        sources,
        open_paths=open_paths,
        index=index,
        bindings=bindings,
        all_imports=all_imports,
    )
    if previous:
        found = sticky_order(found, previous)
    return fit(found, max_chars, document.language, bodies=bodies)


# --- pytest fixtures ------------------------------------------------------------------------

_FIXTURE = re.compile(r"^@(?:pytest\.)?fixture\b", re.MULTILINE)


def fixtures_in(text: str, path: str) -> list[Definition]:
    """The ``@pytest.fixture`` functions of a conftest.py (signature and docstring)."""
    return [
        definition
        for name, definition in definitions_in(text, "python", path).items()
        if "." not in name and _FIXTURE.search(definition.signature.split("def ", 1)[0])
    ]


def render_fixtures(fixtures: Sequence[Definition], max_chars: int) -> str:
    """``Fixtures the project's conftest.py files provide…`` within ``max_chars``."""
    if not fixtures:
        return ""
    header = "Fixtures the project's conftest.py files provide (pytest passes them by name):\n"
    chosen: list[Definition] = []
    for fixture in fixtures:
        trial = [*chosen, fixture]
        if len(_render_fixture_block(header, trial)) <= max_chars:
            chosen = trial
    return _render_fixture_block(header, chosen) if chosen else ""


def _render_fixture_block(header: str, fixtures: Sequence[Definition]) -> str:
    by_file: dict[str, list[str]] = {}
    for fixture in fixtures:
        by_file.setdefault(fixture.path, []).append(fixture.signature)
    return (
        header
        + "\n".join(
            f"{path}:\n```python\n" + "\n\n".join(snippets) + "\n```"
            for path, snippets in by_file.items()
        )
        + "\n"
    )
