"""Where a file's imports point inside the workspace, per language (pure: files come through
a :class:`Sources`, which decides what may be read).

- Python: packages (``pkg/__init__.py``), a ``src/`` layout, relative imports; a name an
  ``__init__.py`` re-exports is followed by the gatherer through that file's own bindings.
- JavaScript/TypeScript: relative specifiers with their extensions and ``index`` files,
  ``tsconfig.json``/``jsconfig.json`` ``baseUrl`` and ``paths``; barrel re-exports.
- Go: packages of the module ``go.mod`` names, and the package's other files.
- Rust: ``mod x;``, ``use crate::…``, ``super::``, ``self::`` and the crate's own name.
- Java: packages under the source root the file's ``package`` implies; its own package.
- C/C++: ``#include "…"`` beside the file, then in include folders.
- C#: ``using`` namespaces by folder convention, and the file's own folder.
- Ruby: ``require_relative`` and ``require`` of the workspace's own files.
- PHP: ``use`` through composer.json's PSR-4 map, ``require``/``include``; its own folder.
Anything not found in the workspace is a package: its names are ``external`` and never looked
up elsewhere.
"""

from __future__ import annotations

import json
import posixpath
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .imports import ImportSpec
from .languages import Grammar
from .outline import Definition, Outline, Scope, outline_of, scope_at


class Sources(Protocol):
    """Confined access to workspace files by workspace-relative POSIX path: the open buffer's
    text when the file is open, else the disk's; None when missing or not allowed."""

    def read(self, relative: str) -> str | None: ...

    def list_dir(self, relative: str) -> list[str]:
        """Names of the readable files directly in a directory ("" is the root)."""
        ...


@dataclass(frozen=True)
class Bindings:
    """What a file's imports bring in: names (local name -> (module file, remote name)) and
    modules (local name -> module files)."""

    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    modules: dict[str, tuple[str, ...]] = field(default_factory=dict)
    same_package: tuple[str, ...] = ()  # Go, Java, C#, PHP: the package's other files
    wildcard: tuple[str, ...] = ()  # `*` imports, includes, requires: where unbound names may be
    external: frozenset[str] = frozenset()  # imported from outside the workspace (packages)


KEPT_TREES = 8


# Parsed text kept by an OutlineIndex, all files together.
OUTLINE_CHARS = 16 * 1024 * 1024


class OutlineIndex:
    """Outlines per file, parsed once per text (a changed buffer or file is parsed again).

    Parses are also kept by text object: the context cache holds one text per real file, so
    links to one module share one parse (300 symlinks to a 491 KB file once cost 290 MB and
    more time than a code action's bound). At most ``max_chars`` of parsed text is kept, the
    oldest parse going first, with the paths that led to it."""

    def __init__(self, max_chars: int = OUTLINE_CHARS) -> None:
        self.max_chars = max_chars
        self._parsed: dict[str, tuple[str, Outline | None]] = {}
        # id(text) -> (text, outline); the tuple keeps the text alive, so its id stays its own.
        self._by_text: OrderedDict[int, tuple[str, Outline | None]] = OrderedDict()
        self._chars = 0
        # The last tree of the documents typed in (a tree costs memory: the few recent ones).
        self._trees: OrderedDict[str, tuple[bytes, Any]] = OrderedDict()

    def scope(self, path: str, text: str, grammar: Grammar, start: int, end: int) -> Scope | None:
        """What the code at ``start:end`` sees of its own file; the document's last tree is
        kept, so the next keystroke re-parses only around the change."""
        found = scope_at(text, path, grammar, start, end, self._trees.get(path))
        if found is None:
            self._trees.pop(path, None)
            return None
        scope, self._trees[path] = found
        self._trees.move_to_end(path)
        while len(self._trees) > KEPT_TREES:
            self._trees.popitem(last=False)
        return scope

    def outline(self, path: str, text: str) -> Outline | None:
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == text:
            return cached[1]
        shared = self._by_text.get(id(text))
        if shared is not None and shared[0] is text:
            found = shared[1]
        else:
            found = outline_of(text, path)
            self._by_text[id(text)] = (text, found)
            self._chars += len(text)
            self._evict()
        self._parsed[path] = (text, found)
        return found

    def _evict(self) -> None:
        while self._chars > self.max_chars and len(self._by_text) > 1:
            _, (dropped, _) = self._by_text.popitem(last=False)
            self._chars -= len(dropped)
            for path in [p for p, (t, _) in self._parsed.items() if t is dropped]:
                del self._parsed[path]

    def definitions(self, path: str, text: str) -> dict[str, Definition]:
        found = self.outline(path, text)
        return {} if found is None else found.definitions


def first_readable(sources: Sources, candidates: Iterable[str]) -> str | None:
    for candidate in candidates:
        normal = posixpath.normpath(candidate)
        if normal.startswith("../") or normal == ".." or normal == ".":
            continue
        if sources.read(normal) is not None:
            return normal
    return None


def files_in(
    sources: Sources, directory: str, suffixes: tuple[str, ...], exclude: str = ""
) -> tuple[str, ...]:
    directory = "" if directory == "." else directory
    return tuple(
        posixpath.join(directory, name)
        for name in sorted(sources.list_dir(directory))
        if name.endswith(suffixes) and posixpath.join(directory, name) != exclude
    )


def ancestors(path: str) -> list[str]:
    """The folders above ``path``, nearest first, down to the root ("")."""
    found = []
    directory = posixpath.dirname(path)
    while True:
        found.append(directory)
        if not directory:
            return found
        directory = posixpath.dirname(directory)


def nearest(sources: Sources, path: str, name: str) -> str | None:
    """The nearest ``name`` (tsconfig.json, composer.json, Cargo.toml) above ``path``: in a
    monorepo each project has its own."""
    for folder in ancestors(path):
        candidate = posixpath.join(folder, name) if folder else name
        if sources.read(candidate) is not None:
            return candidate
    return None


@dataclass
class _Builder:
    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    modules: dict[str, tuple[str, ...]] = field(default_factory=dict)
    same_package: tuple[str, ...] = ()
    wildcard: list[str] = field(default_factory=list)
    external: set[str] = field(default_factory=set)

    def done(self) -> Bindings:
        return Bindings(
            self.names,
            self.modules,
            self.same_package,
            tuple(dict.fromkeys(self.wildcard)),
            frozenset(self.external),
        )

    def outside(self, spec: ImportSpec, fallback: str = "") -> None:
        """A package's import: its local names mean what the package says."""
        for _, local in spec.names:
            self.external.add(local)
        for bound in (spec.namespace, spec.default):
            if bound:
                self.external.add(bound.split(".")[0])
        if not spec.names and not spec.namespace and not spec.default and fallback:
            self.external.add(fallback)


def bindings_for(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    """What ``outline``'s imports refer to inside the workspace."""
    resolver = _RESOLVERS.get(outline.grammar.family)
    return Bindings() if resolver is None else resolver(outline, sources, index)


# --- Python -------------------------------------------------------------------------------


def python_module_file(sources: Sources, module: str, directory: str) -> str | None:
    dots = len(module) - len(module.lstrip("."))
    parts = [p for p in module.lstrip(".").split(".") if p]
    if dots:
        base = directory
        for _ in range(dots - 1):
            base = posixpath.dirname(base)
        bases = [base]
    else:
        bases = ["", "src", directory]  # the root, a src/ layout, a script's siblings
    candidates: list[str] = []
    for base in dict.fromkeys(bases):
        stem = posixpath.join(base, *parts) if parts else base
        if parts:
            candidates.append(stem + ".py")
        candidates.append(posixpath.join(stem, "__init__.py"))
    return first_readable(sources, candidates)


def _python(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    directory = posixpath.dirname(outline.path)
    found = _Builder()
    for spec in outline.imports:
        file = python_module_file(sources, spec.module, directory)
        if spec.namespace is not None:  # import a.b [as c]
            if file is None:
                found.external.add(spec.namespace.split(".")[0])
            else:
                found.modules[spec.namespace] = (file,)
            continue
        if spec.wildcard and file is not None:
            found.wildcard.append(file)
        for remote, local in spec.names:
            joined = f"{spec.module}.{remote}" if spec.module.strip(".") else spec.module + remote
            sub = python_module_file(sources, joined, directory)
            defined = file is not None and remote in _definitions(sources, index, file)
            if defined:
                found.names[local] = (file, remote)  # type: ignore[assignment]
            elif sub is not None:
                found.modules[local] = (sub,)
            elif file is not None:
                found.names[local] = (file, remote)
            else:
                found.external.add(local)
    return found.done()


def _definitions(sources: Sources, index: OutlineIndex, path: str) -> dict[str, Definition]:
    text = sources.read(path)
    return {} if text is None else index.definitions(path, text)


# --- JavaScript / TypeScript --------------------------------------------------------------

JS_SUFFIXES = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def _strip_json_comments(text: str) -> str:
    """tsconfig.json allows // and /* */ comments and trailing commas; drop them outside
    strings."""
    out: list[str] = []
    index, length, in_string = 0, len(text), False
    while index < length:
        char = text[index]
        if in_string:
            out.append(char)
            if char == "\\" and index + 1 < length:
                out.append(text[index + 1])
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif text.startswith("//", index):
            index = text.find("\n", index)
            if index < 0:
                break
            continue
        elif text.startswith("/*", index):
            index = text.find("*/", index)
            if index < 0:
                break
            index += 2
            continue
        else:
            out.append(char)
        index += 1
    cleaned = "".join(out)
    # Trailing commas: a comma whose next non-blank character closes the object or list.
    kept: list[str] = []
    for position, char in enumerate(cleaned):
        if char == "," and cleaned[position + 1 :].lstrip()[:1] in ("}", "]"):
            continue
        kept.append(char)
    return "".join(kept)


def _ts_paths(sources: Sources, path: str) -> tuple[str, dict[str, list[str]]] | None:
    """The nearest tsconfig's ``baseUrl`` (relative to the root) and ``paths``; None
    without one."""
    for name in ("tsconfig.json", "jsconfig.json"):
        found = nearest(sources, path, name)
        text = None if found is None else sources.read(found)
        if found is None or text is None:
            continue
        try:
            options = json.loads(_strip_json_comments(text)).get("compilerOptions") or {}
        except (ValueError, AttributeError):
            return None
        folder = posixpath.dirname(found)
        base = posixpath.normpath(posixpath.join(folder, str(options.get("baseUrl") or ".")))
        paths = options.get("paths") or {}
        if not isinstance(paths, dict):
            paths = {}
        return base, {
            str(k): [str(v) for v in vs] for k, vs in paths.items() if isinstance(vs, list)
        }
    return None


def js_module_file(sources: Sources, spec: str, directory: str) -> str | None:
    """The file a specifier names, from a file in ``directory``; None for a package."""
    if spec.startswith("."):
        bases = [posixpath.join(directory, spec)]
    else:
        config = _ts_paths(sources, posixpath.join(directory, "_"))
        if config is None:
            return None  # packages from node_modules are not the workspace's code
        base, paths = config
        bases = []
        for pattern, targets in paths.items():
            prefix, star, suffix = pattern.partition("*")
            if star and spec.startswith(prefix) and spec.endswith(suffix):
                middle = spec[len(prefix) : len(spec) - len(suffix)]
                bases += [posixpath.join(base, t.replace("*", middle)) for t in targets]
            elif not star and spec == pattern:
                bases += [posixpath.join(base, t) for t in targets]
        if not paths or base != ".":
            bases.append(posixpath.join(base, spec))
    for base in bases:
        stem = base
        for ext in (".js", ".mjs", ".cjs", ".jsx"):
            if stem.endswith(ext):
                stem = stem[: -len(ext)]
        candidates = [base] if posixpath.splitext(base)[1] else []
        candidates += [stem + suffix for suffix in JS_SUFFIXES]
        candidates += [posixpath.join(base, "index" + suffix) for suffix in JS_SUFFIXES]
        found = first_readable(sources, candidates)
        if found is not None:
            return found
    return None


def _js(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    directory = posixpath.dirname(outline.path)
    found = _Builder()
    for spec in outline.imports:
        file = js_module_file(sources, spec.module, directory)
        if file is None:
            found.outside(spec)
            continue
        for remote, local in spec.names:
            found.names[local] = (file, remote)
        if spec.namespace:
            found.modules[spec.namespace] = (file,)
        if spec.default:
            found.names[spec.default] = (file, "default")
    return found.done()


def js_reexports(outline: Outline, sources: Sources) -> list[tuple[str, dict[str, str] | None]]:
    """A barrel file's ``export * from './a'`` (None: every name) and ``export { x as y }
    from './b'`` (exported name -> name in that module)."""
    found: list[tuple[str, dict[str, str] | None]] = []
    for spec in outline.reexports:
        target = js_module_file(sources, spec.module, posixpath.dirname(outline.path))
        if target is None:
            continue
        if spec.wildcard:
            found.append((target, None))
        elif spec.names:
            found.append((target, {local: remote for remote, local in spec.names}))
    return found


# --- Go -----------------------------------------------------------------------------------


def _go_module(sources: Sources) -> str | None:
    text = sources.read("go.mod") or ""
    for line in text.split("\n"):
        words = line.split()
        if len(words) >= 2 and words[0] == "module":
            return words[1]
    return None


def go_package_files(sources: Sources, directory: str, exclude: str = "") -> tuple[str, ...]:
    return tuple(
        p for p in files_in(sources, directory, (".go",), exclude) if not p.endswith("_test.go")
    )


def _go(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    found = _Builder()
    module = _go_module(sources)
    for spec in outline.imports:
        local = spec.namespace or spec.module.rsplit("/", 1)[-1]
        if module is None or not spec.module.startswith(module + "/"):
            found.external.add(local)
            continue
        files = go_package_files(sources, spec.module[len(module) + 1 :])
        if files:
            found.modules[local] = files
    found.same_package = go_package_files(sources, posixpath.dirname(outline.path), outline.path)
    return found.done()


# --- Rust ---------------------------------------------------------------------------------


def _rust_crate_root(path: str, sources: Sources) -> str:
    """The folder of the crate's main.rs/lib.rs above ``path`` (``src`` normally)."""
    directory = posixpath.dirname(path)
    while True:
        for name in ("lib.rs", "main.rs"):
            if sources.read(posixpath.join(directory, name) if directory else name) is not None:
                return directory
        if not directory:
            return posixpath.dirname(path)
        directory = posixpath.dirname(directory)


def _rust_module_dir(path: str) -> str:
    """Where the child modules of the module in ``path`` live."""
    name = posixpath.basename(path)
    if name in ("main.rs", "lib.rs", "mod.rs"):
        return posixpath.dirname(path)
    return path[: -len(".rs")]


def _rust_module_path(path: str, root: str) -> list[str]:
    relative = posixpath.relpath(path, root) if root else path
    parts = relative[: -len(".rs")].split("/")
    if parts[-1] in ("mod", "main", "lib"):
        parts = parts[:-1]
    return [p for p in parts if p and p != "."]


def _rust_file(sources: Sources, root: str, parts: list[str]) -> str | None:
    if not parts:
        return first_readable(
            sources, [posixpath.join(root, "lib.rs"), posixpath.join(root, "main.rs")]
        )
    stem = posixpath.join(root, *parts)
    return first_readable(sources, [stem + ".rs", posixpath.join(stem, "mod.rs")])


def _rust_crate_name(sources: Sources, path: str) -> str | None:
    """The package name in the nearest Cargo.toml (``use my_crate::…`` from its binaries)."""
    found = nearest(sources, path, "Cargo.toml")
    for line in ((sources.read(found) if found else None) or "").split("\n"):
        key, _, value = line.partition("=")
        if key.strip() == "name":
            return value.strip().strip("\"'").replace("-", "_")
    return None


def _rust(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    found = _Builder()
    root = _rust_crate_root(outline.path, sources)
    here = _rust_module_path(outline.path, root)
    crate = _rust_crate_name(sources, outline.path)
    for spec in outline.imports:
        if spec.kind == "mod":
            stem = posixpath.join(_rust_module_dir(outline.path), spec.module)
            file = first_readable(sources, [stem + ".rs", posixpath.join(stem, "mod.rs")])
            if file is not None:
                found.modules[spec.module] = (file,)
            continue
        segments = [s for s in spec.module.split("::") if s]
        if not segments:
            segments = []
        head = segments[0] if segments else ""
        if head == "crate" or (crate is not None and head == crate):
            parts = segments[1:]
        elif head == "super":
            parts = here[:-1] + segments[1:]
            while parts and segments and segments[1:2] == ["super"]:
                segments = segments[1:]
                parts = parts[:-1]
        elif head == "self":
            parts = here + segments[1:]
        else:
            # `use queue::X` after `mod queue;`, else a crate from crates.io.
            sibling = _rust_file(sources, root, [*here, *segments]) if segments else None
            if sibling is None:
                found.outside(spec, head)
                continue
            parts = [*here, *segments]
        file = _rust_file(sources, root, parts)
        if file is None:
            found.outside(spec, head)
            continue
        if spec.wildcard:
            found.wildcard.append(file)
        if spec.namespace:
            found.modules[spec.namespace] = (file,)
        for remote, local in spec.names:
            sub = _rust_file(sources, root, [*parts, remote])
            if remote not in _definitions(sources, index, file) and sub is not None:
                found.modules[local] = (sub,)
            else:
                found.names[local] = (file, remote)
    return found.done()


# --- Java ---------------------------------------------------------------------------------


def _java_root(outline: Outline) -> str:
    """The source root: the file's folder minus the folders its package names."""
    directory = posixpath.dirname(outline.path)
    package = outline.namespace.replace(".", "/")
    if package and (directory == package or directory.endswith("/" + package)):
        return directory[: len(directory) - len(package)].rstrip("/")
    return directory if not package else ""


def _java(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    found = _Builder()
    root = _java_root(outline)
    for spec in outline.imports:
        folder = posixpath.join(root, *spec.module.split("."))
        if spec.wildcard and spec.kind != "static":
            files = files_in(sources, folder, (".java",))
            if files:
                found.wildcard += files
            continue
        if spec.kind == "static":  # import static a.b.Class.member / .*
            owner = first_readable(sources, [folder + ".java"])
            if owner is None:
                found.outside(spec)
                continue
            cls = spec.module.rsplit(".", 1)[-1]
            if spec.wildcard:
                found.wildcard.append(owner)
            for remote, local in spec.names:
                found.names[local] = (owner, f"{cls}.{remote}")
            continue
        for remote, local in spec.names:
            file = first_readable(sources, [posixpath.join(folder, remote + ".java")])
            if file is None:
                found.external.add(local)
            else:
                found.names[local] = (file, remote)
    found.same_package = files_in(
        sources, posixpath.dirname(outline.path), (".java",), outline.path
    )
    return found.done()


# --- C / C++ ------------------------------------------------------------------------------

INCLUDE_FOLDERS = ("include", "src", "inc", "lib")


def _c(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    found = _Builder()
    bases = []
    for folder in ancestors(outline.path):  # beside the file, then include folders above
        bases.append(folder)
        bases += [posixpath.join(folder, name) for name in INCLUDE_FOLDERS]
    for spec in outline.imports:
        file = first_readable(sources, [posixpath.join(b, spec.module) for b in bases])
        if file is not None:
            found.wildcard.append(file)
    return found.done()


# --- C# -----------------------------------------------------------------------------------


def _namespace_folders(namespace: str) -> list[str]:
    """Folders a namespace's files conventionally live in: ``Shop.Billing`` in
    ``Shop/Billing``, ``Billing``, ``src/Shop.Billing``, ``src/Shop/Billing``…"""
    parts = namespace.split(".")
    folders = []
    for start in range(len(parts)):
        tail = parts[start:]
        folders += ["/".join(tail), posixpath.join("src", *tail)]
        folders.append(
            ".".join(parts[: start + 1])
            + ("/" + "/".join(parts[start + 1 :]) if parts[start + 1 :] else "")
        )
    folders.append(posixpath.join("src", namespace))
    return list(dict.fromkeys(folders))


def _csharp(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    found = _Builder()
    for spec in outline.imports:
        folders = [
            posixpath.join(above, folder)
            for above in ancestors(outline.path)
            for folder in _namespace_folders(spec.module)
        ]
        if spec.wildcard:
            for folder in folders:
                files = files_in(sources, folder, (".cs",))
                if files:
                    found.wildcard += files
                    break
            continue
        for remote, local in spec.names:
            file = first_readable(sources, [posixpath.join(f, remote + ".cs") for f in folders])
            if file is not None:
                found.names[local] = (file, remote)
    found.same_package = files_in(sources, posixpath.dirname(outline.path), (".cs",), outline.path)
    return found.done()


# --- Ruby ---------------------------------------------------------------------------------


def _ruby(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    found = _Builder()
    directory = posixpath.dirname(outline.path)
    for spec in outline.imports:
        name = spec.module if spec.module.endswith(".rb") else spec.module + ".rb"
        if spec.kind == "require_relative":
            candidates = [posixpath.join(directory, name)]
        else:
            candidates = [posixpath.join(directory, name)] + [
                posixpath.join(above, "lib", name) for above in ancestors(outline.path)
            ]
        file = first_readable(sources, candidates)
        if file is not None:
            found.wildcard.append(file)
    return found.done()


# --- PHP ----------------------------------------------------------------------------------


def _psr4(sources: Sources, path: str) -> list[tuple[str, str]]:
    """The nearest composer.json's PSR-4 prefixes and folders (autoload and autoload-dev)."""
    found_at = nearest(sources, path, "composer.json")
    text = None if found_at is None else sources.read(found_at)
    if found_at is None or text is None:
        return []
    try:
        composer = json.loads(text)
    except ValueError:
        return []
    project = posixpath.dirname(found_at)
    found: list[tuple[str, str]] = []
    for section in ("autoload", "autoload-dev"):
        mapping = (composer.get(section) or {}).get("psr-4") or {}
        for prefix, folders in mapping.items():
            for folder in folders if isinstance(folders, list) else [folders]:
                found.append((str(prefix), posixpath.join(project, str(folder).rstrip("/"))))
    return sorted(found, key=lambda pair: -len(pair[0]))


def php_class_file(sources: Sources, name: str, path: str) -> str | None:
    """The file of class ``name`` (fully qualified) for a file at ``path``."""
    name = name.lstrip("\\")
    candidates = []
    for prefix, folder in _psr4(sources, path):
        if name.startswith(prefix):
            rest = name[len(prefix) :].replace("\\", "/")
            candidates.append(posixpath.join(folder, rest + ".php"))
    parts = name.split("\\")
    for start in range(len(parts)):  # no composer.json: the usual folders
        tail = "/".join(parts[start:]) + ".php"
        candidates += [tail, posixpath.join("src", tail)]
    return first_readable(sources, candidates)


def _php(outline: Outline, sources: Sources, index: OutlineIndex) -> Bindings:
    found = _Builder()
    directory = posixpath.dirname(outline.path)
    for spec in outline.imports:
        if spec.kind == "require":
            file = first_readable(sources, [posixpath.join(directory, spec.module), spec.module])
            if file is not None:
                found.wildcard.append(file)
            continue
        file = php_class_file(sources, spec.module, outline.path)
        for remote, local in spec.names:
            if file is None:
                found.external.add(local)
            else:
                found.names[local] = (file, remote)
    found.same_package = files_in(sources, directory, (".php",), outline.path)
    return found.done()


_RESOLVERS: dict[str, Callable[[Outline, Sources, OutlineIndex], Bindings]] = {
    "python": _python,
    "js": _js,
    "go": _go,
    "rust": _rust,
    "java": _java,
    "c": _c,
    "csharp": _csharp,
    "ruby": _ruby,
    "php": _php,
}
