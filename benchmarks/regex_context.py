"""Definitions from the rest of the workspace that the code at the cursor or selection uses
(pure: files come through a :class:`Sources`, which decides what may be read).

Today's prompts show the current file only; the model then guesses the signature of
``scale()`` imported from ``util.py``. Here: the names the code near the cursor (or in the
selection) uses are looked up in what the file imports (Python ``import``/``from … import``,
JS/TS relative ``import … from``/``require``, Go imports inside the module and the package's
own files) and in the open buffers, and come back as short snippets with their paths:
signatures and docstrings first, whole bodies only where the budget allows, the rendered
block never longer than ``max_chars``. A name the file defines or binds itself is not looked
up elsewhere, and a name found nowhere is simply left out.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

PYTHON = frozenset({"python"})
JS_LIKE = frozenset({"javascript", "javascriptreact", "typescript", "typescriptreact"})
GO = frozenset({"go"})
JS_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".d.ts")
# How far from the cursor a completion looks for names (lines), inside its enclosing block.
NEAR_LINES_ABOVE = 40
NEAR_LINES_BELOW = 8
# A class or struct signature shows at most this many member lines.
MEMBER_LINES = 30
HEADER = "Definitions from other files of the workspace that this code uses or imports:"


class Sources(Protocol):
    """Confined access to workspace files by workspace-relative POSIX path: the open buffer's
    text when the file is open, else the disk's; None when missing or not allowed."""

    def read(self, relative: str) -> str | None: ...

    def list_dir(self, relative: str) -> list[str]:
        """Names of the readable files directly in a directory ("" is the root)."""
        ...


@dataclass(frozen=True)
class Definition:
    name: str
    path: str  # workspace-relative, as the model is told
    line: int  # 0-based line of the header
    signature: str  # doc comment or docstring, header, members: what a caller needs
    body: str  # the whole definition

    @property
    def key(self) -> tuple[str, str]:
        return (self.path, self.name)


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


# --- definitions in one file --------------------------------------------------------------

_PY_HEADER = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?(?:def|class)\s+(?P<name>\w+)")
_PY_ASSIGN = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)")
_JS_DECL = re.compile(
    r"^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?"
    r"(?P<kind>function\*?|class|interface|type|enum|const|let|var)\s+(?P<name>[A-Za-z_$][\w$]*)"
)
_JS_DEFAULT = re.compile(r"^export\s+default\s+(?:async\s+)?(?:function\*?|class)\b")
_GO_FUNC = re.compile(r"^func\s+(?:\((?P<receiver>[^)]*)\)\s*)?(?P<name>\w+)")
_GO_TYPE = re.compile(r"^type\s+(?P<name>\w+)")
_GO_VALUE = re.compile(r"^(?:var|const)\s+(?P<name>\w+)")
# A line ending like this continues the statement on the next line.
_CONTINUES = ("=", ",", "=>", "(", "+", "|", "&", "?", ":")


def definitions_in(text: str, language: str, path: str) -> dict[str, Definition]:
    """Top-level definitions of a file by name (methods of Go types also as ``Type.Name``)."""
    lines = text.split("\n")
    if language in PYTHON:
        return _python_definitions(lines, path)
    if language in JS_LIKE:
        return _js_definitions(lines, path)
    if language in GO:
        return _go_definitions(lines, path)
    return {}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _python_block_end(lines: list[str], header: int) -> int:
    level = _indent(lines[header])
    end = _python_header_end(lines, header)
    for index in range(end + 1, len(lines)):
        line = lines[index]
        if line.strip() and _indent(line) <= level:
            break
        if line.strip():
            end = index
    return end


def _python_header_end(lines: list[str], header: int) -> int:
    """Last line of a (maybe multi-line) ``def``/``class`` header: brackets closed, ``:``."""
    depth = 0
    for index in range(header, min(len(lines), header + 30)):
        code = lines[index].split("#", 1)[0]
        depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
        if depth <= 0 and code.rstrip().endswith(":"):
            return index
    return header


def _python_docstring(lines: list[str], first: int) -> list[str]:
    """The docstring starting at line ``first`` (if one does), as lines."""
    if first >= len(lines):
        return []
    stripped = lines[first].strip()
    quote = next((q for q in ('"""', "'''") if stripped.lstrip("rbuRBU").startswith(q)), None)
    if quote is None:
        return []
    rest = stripped.lstrip("rbuRBU")[3:]
    if quote in rest:
        return [lines[first]]
    for index in range(first + 1, min(len(lines), first + 40)):
        if quote in lines[index]:
            return lines[first : index + 1]
    return [lines[first]]


def _python_signature(lines: list[str], start: int, header: int, end: int) -> str:
    header_end = _python_header_end(lines, header)
    kept = lines[start : header_end + 1]
    body_start = next((i for i in range(header_end + 1, end + 1) if lines[i].strip()), None)
    if body_start is None:
        return "\n".join(kept)
    doc = _python_docstring(lines, body_start)
    kept += doc
    if not lines[header].lstrip().startswith("class"):
        return "\n".join(kept)
    # A class: its fields and the headers of its methods (with their docstrings' first line).
    member_indent = _indent(lines[body_start])
    index, members = body_start + len(doc), 0
    while index <= end and members < MEMBER_LINES:
        line = lines[index]
        if not line.strip() or _indent(line) != member_indent:
            index += 1
            continue
        stripped = line.strip()
        if stripped.startswith("@"):
            kept.append(line)
        elif _PY_HEADER.match(line):
            last = _python_header_end(lines, index)
            kept += lines[index : last + 1]
            follow = next((i for i in range(last + 1, end + 1) if lines[i].strip()), None)
            if follow is not None and _python_docstring(lines, follow):
                kept.append(_python_docstring(lines, follow)[0])
            index = last
        elif _PY_ASSIGN.match(stripped) or re.match(r"^\w+\s*:", stripped):
            kept.append(line)
        members += 1
        index += 1
    return "\n".join(kept)


def _python_definitions(lines: list[str], path: str) -> dict[str, Definition]:
    found: dict[str, Definition] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        header = _PY_HEADER.match(line)
        if header and not header["indent"]:
            start = index
            while start > 0 and lines[start - 1].startswith("@"):
                start -= 1
            end = _python_block_end(lines, index)
            body = "\n".join(lines[start : end + 1])
            signature = _python_signature(lines, start, index, end)
            found.setdefault(
                header["name"], Definition(header["name"], path, index, signature, body)
            )
            index = end + 1
            continue
        assign = _PY_ASSIGN.match(line)
        if assign and not line.startswith((" ", "\t")):
            end = index
            while end + 1 < len(lines) and lines[end + 1][:1] in (" ", "\t", ")", "]", "}"):
                end += 1
            body = "\n".join(lines[index : end + 1])
            signature = body if end - index < 6 else line
            found.setdefault(
                assign["name"], Definition(assign["name"], path, index, signature, body)
            )
            index = end + 1
            continue
        index += 1
    return found


def _doc_comment_above(lines: list[str], header: int, *, go: bool) -> int:
    """First line of the comment block directly above ``header`` (``header`` when none)."""
    start = header
    if go:
        while start > 0 and lines[start - 1].lstrip().startswith("//"):
            start -= 1
        return start
    if start > 0 and lines[start - 1].rstrip().endswith("*/"):
        for above in range(start - 1, max(-1, start - 40), -1):
            if lines[above].lstrip().startswith("/*"):
                return above
    while start > 0 and lines[start - 1].lstrip().startswith(("//", "@")):
        start -= 1
    return start


def _brace_block_end(lines: list[str], header: int) -> int:
    """Last line of a declaration: its brackets balanced again (strings are not parsed:
    good enough for declarations), or the statement's end when it has none."""
    depth, opened = 0, False
    for index in range(header, len(lines)):
        code = re.sub(r"//.*$", "", lines[index])
        for char in code:
            if char in "{([":
                depth, opened = depth + 1, True
            elif char in "})]":
                depth -= 1
        if opened and depth <= 0:
            return index
        if not opened and not code.rstrip().endswith(_CONTINUES):
            return index
    return len(lines) - 1


def _header_until_brace(lines: list[str], header: int, end: int) -> list[str]:
    """The declaration up to its opening ``{`` (the parameters may span lines)."""
    kept: list[str] = []
    depth = 0
    for index in range(header, end + 1):
        line = lines[index]
        for position, char in enumerate(line):
            if char in "([":
                depth += 1
            elif char in ")]":
                depth -= 1
            elif char == "{" and depth <= 0:
                kept.append(line[:position].rstrip())
                return kept
        kept.append(line)
    return kept


def _member_lines(lines: list[str], header: int, end: int) -> list[str]:
    """Fields and method headers of a class/struct/interface: its direct members, with
    method bodies and comments left out."""
    kept: list[str] = []
    depth = 0
    for index in range(header, end + 1):
        line = lines[index]
        stripped = line.strip()
        direct = depth == 1 and index != header and stripped and stripped != "}"
        if direct and not stripped.startswith(("//", "/*", "*")) and len(kept) < MEMBER_LINES:
            brace = line.find("{")
            kept.append(line[:brace].rstrip() + " { … }" if brace >= 0 else line)
        depth += line.count("{") - line.count("}")
    return kept


def _js_definitions(lines: list[str], path: str) -> dict[str, Definition]:
    found: dict[str, Definition] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _JS_DECL.match(line)
        if not match:
            index += 1
            continue
        end = _brace_block_end(lines, index)
        start = _doc_comment_above(lines, index, go=False)
        doc = lines[start:index]
        kind = match["kind"]
        short = end - index < 6
        if kind in ("interface", "type", "enum") or (kind in ("const", "let", "var") and short):
            signature = lines[start : end + 1]
        elif kind == "class":
            header = _header_until_brace(lines, index, end)
            header[-1] += " {"
            signature = [*doc, *header, *_member_lines(lines, index, end), "}"]
        else:
            signature = [*doc, *_header_until_brace(lines, index, end)]
        definition = Definition(
            match["name"], path, index, "\n".join(signature), "\n".join(lines[start : end + 1])
        )
        found.setdefault(match["name"], definition)
        if _JS_DEFAULT.match(line):
            found.setdefault("default", definition)
        index = end + 1
    return found


def _go_definitions(lines: list[str], path: str) -> dict[str, Definition]:
    found: dict[str, Definition] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        func, type_, value = _GO_FUNC.match(line), _GO_TYPE.match(line), _GO_VALUE.match(line)
        match = func or type_ or value
        if not match:
            index += 1
            continue
        end = _brace_block_end(lines, index)
        start = _doc_comment_above(lines, index, go=True)
        doc = lines[start:index]
        if func:
            signature = [*doc, *_header_until_brace(lines, index, end)]
        elif type_ and end - index > MEMBER_LINES:
            signature = [*doc, *lines[index : index + 1], *_member_lines(lines, index, end), "}"]
        else:
            signature = lines[start : end + 1]
        name = match["name"]
        definition = Definition(
            name, path, index, "\n".join(signature), "\n".join(lines[start : end + 1])
        )
        if func and func["receiver"]:
            receiver = func["receiver"].split()[-1].lstrip("*").split("[")[0]
            found.setdefault(f"{receiver}.{name}", definition)
        else:
            found.setdefault(name, definition)
        index = end + 1
    return found


# --- imports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bindings:
    """What a file's imports bring in: names (local name -> (module file, remote name)) and
    modules (local name -> module files)."""

    names: dict[str, tuple[str, str]] = field(default_factory=dict)
    modules: dict[str, tuple[str, ...]] = field(default_factory=dict)
    same_package: tuple[str, ...] = ()  # Go: the package's other files
    wildcard: tuple[str, ...] = ()  # Python `from m import *`: where unbound names may be
    external: frozenset[str] = frozenset()  # imported from outside the workspace (packages)


_PY_FROM = re.compile(
    r"^[ \t]*from[ \t]+(?P<module>\.*[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#]+)",
    re.MULTILINE,
)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+(?P<names>[^\n#]+)", re.MULTILINE)
_JS_IMPORT = re.compile(
    r"^[ \t]*import\s+(?:type\s+)?(?P<what>[^'\";]*?)\s*from\s*['\"](?P<spec>[^'\"]+)['\"]",
    re.MULTILINE,
)
_JS_REQUIRE = re.compile(
    r"^[ \t]*(?:const|let|var)\s+(?P<what>[\w$]+|\{[^}]*\})\s*=\s*"
    r"require\(\s*['\"](?P<spec>[^'\"]+)['\"]\s*\)",
    re.MULTILINE,
)
_GO_IMPORT_BLOCK = re.compile(r"^import\s*\((?P<body>[^)]*)\)", re.MULTILINE)
_GO_IMPORT_LINE = re.compile(r"^import\s+(?P<spec>(?:[\w.]+\s+)?\"[^\"]+\")", re.MULTILINE)
_GO_SPEC = re.compile(r"^\s*(?:(?P<alias>[\w.]+)\s+)?\"(?P<path>[^\"]+)\"", re.MULTILINE)
_GO_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)


def _first_readable(sources: Sources, candidates: Iterable[str]) -> str | None:
    for candidate in candidates:
        normal = posixpath.normpath(candidate)
        if normal.startswith("../") or normal == "..":
            continue
        if sources.read(normal) is not None:
            return normal
    return None


def _python_module_file(sources: Sources, module: str, directory: str) -> str | None:
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
    return _first_readable(sources, candidates)


def _python_bindings(text: str, path: str, sources: Sources, index: DefinitionIndex) -> Bindings:
    directory = posixpath.dirname(path)
    names: dict[str, tuple[str, str]] = {}
    modules: dict[str, tuple[str, ...]] = {}
    wildcard: list[str] = []
    external: set[str] = set()
    for match in _PY_FROM.finditer(text):
        module = match["module"]
        file = _python_module_file(sources, module, directory)
        for item in match["names"].strip("()").replace("\n", " ").split(","):
            words = item.split()
            if words == ["*"] and file is not None:
                wildcard.append(file)
            if not words or words[0] == "*":
                continue
            remote, local = (
                words[0],
                words[-1] if len(words) == 3 and words[1] == "as" else words[0],
            )
            sub = _python_module_file(
                sources, f"{module}.{remote}" if module.strip(".") else module + remote, directory
            )
            if file is not None and remote in _names_in(sources, file, index):
                names[local] = (file, remote)
            elif sub is not None:
                modules[local] = (sub,)
            elif file is not None:
                names[local] = (file, remote)
            else:
                external.add(local)
    for match in _PY_IMPORT.finditer(text):
        for item in match["names"].split(","):
            words = item.split()
            if not words:
                continue
            file = _python_module_file(sources, words[0], directory)
            local = words[2] if len(words) == 3 and words[1] == "as" else words[0]
            if file is None:
                external.add(local.split(".")[0])
                continue
            modules[local] = (file,)
    return Bindings(names, modules, wildcard=tuple(wildcard), external=frozenset(external))


def _js_module_file(sources: Sources, spec: str, directory: str) -> str | None:
    if not spec.startswith("."):
        return None  # packages from node_modules are not the workspace's code
    base = posixpath.join(directory, spec)
    stem = re.sub(r"\.(?:m|c)?js$", "", base)
    candidates = [base] if posixpath.splitext(base)[1] else []
    candidates += [stem + suffix for suffix in JS_SUFFIXES]
    candidates += [posixpath.join(base, "index" + suffix) for suffix in JS_SUFFIXES]
    return _first_readable(sources, candidates)


def _js_bindings(text: str, path: str, sources: Sources) -> Bindings:
    directory = posixpath.dirname(path)
    names: dict[str, tuple[str, str]] = {}
    modules: dict[str, tuple[str, ...]] = {}
    found = [(m["what"], m["spec"], False) for m in _JS_IMPORT.finditer(text)]
    found += [(m["what"], m["spec"], True) for m in _JS_REQUIRE.finditer(text)]
    external: set[str] = set()
    for what, spec, required in found:
        file = _js_module_file(sources, spec, directory)
        if file is None:  # a package: its names mean what the package says
            external.update(re.findall(r"[A-Za-z_$][\w$]*", what))
            continue
        braces = re.search(r"\{([^}]*)\}", what)
        for item in braces.group(1).split(",") if braces else []:
            words = item.replace("type ", "").replace(":", " as ").split()
            if words:
                local = words[-1] if len(words) == 3 and words[1] == "as" else words[0]
                names[local] = (file, words[0])
        rest = re.sub(r"\{[^}]*\}", "", what).strip().strip(",").strip()
        namespace = re.match(r"\*\s+as\s+([\w$]+)", rest)
        if namespace:
            modules[namespace.group(1)] = (file,)
        elif rest and re.fullmatch(r"[\w$]+", rest.split(",")[0].strip()):
            local = rest.split(",")[0].strip()
            if required:  # `const util = require('./util')`: the module itself
                modules[local] = (file,)
            else:  # `import Scaler from './util'`: the default export
                names[local] = (file, "default")
    return Bindings(names, modules, external=frozenset(external))


_JS_REEXPORT = re.compile(
    r"^[ \t]*export\s+(?:type\s+)?(?P<what>\*|\{[^}]*\})\s*from\s*['\"](?P<spec>[^'\"]+)['\"]",
    re.MULTILINE,
)


def _js_reexports(
    text: str, path: str, sources: Sources
) -> list[tuple[str, dict[str, str] | None]]:
    """A barrel file's ``export * from './a'`` (None: every name) and ``export { x as y }
    from './b'`` (exported name -> name in that module)."""
    found: list[tuple[str, dict[str, str] | None]] = []
    for match in _JS_REEXPORT.finditer(text):
        target = _js_module_file(sources, match["spec"], posixpath.dirname(path))
        if target is None:
            continue
        if match["what"] == "*":
            found.append((target, None))
            continue
        exported: dict[str, str] = {}
        for item in match["what"].strip("{}").split(","):
            words = item.replace("type ", "").split()
            if words:
                exported[words[-1] if len(words) == 3 and words[1] == "as" else words[0]] = words[0]
        found.append((target, exported))
    return found


def _go_package_files(sources: Sources, directory: str, exclude: str = "") -> tuple[str, ...]:
    return tuple(
        posixpath.join(directory, name)
        for name in sorted(sources.list_dir(directory))
        if name.endswith(".go")
        and not name.endswith("_test.go")
        and posixpath.join(directory, name) != exclude
    )


def _go_bindings(text: str, path: str, sources: Sources) -> Bindings:
    modules: dict[str, tuple[str, ...]] = {}
    go_mod = sources.read("go.mod")
    declared = _GO_MODULE.search(go_mod or "")
    module = declared.group(1) if declared else None
    specs = [m["body"] for m in _GO_IMPORT_BLOCK.finditer(text)]
    specs += [m["spec"] for m in _GO_IMPORT_LINE.finditer(text)]
    external: set[str] = set()
    for body in specs:
        for spec in _GO_SPEC.finditer(body):
            import_path = spec["path"]
            if module is None or not import_path.startswith(module + "/"):
                external.add(spec["alias"] or import_path.rsplit("/", 1)[-1])
                continue
            directory = import_path[len(module) + 1 :]
            files = _go_package_files(sources, directory)
            if files:
                modules[spec["alias"] or import_path.rsplit("/", 1)[-1]] = files
    siblings = _go_package_files(sources, posixpath.dirname(path), exclude=path)
    return Bindings({}, modules, siblings, external=frozenset(external))


def bindings_of(
    document: Document, sources: Sources, index: DefinitionIndex | None = None
) -> Bindings:
    """What the document's imports refer to inside the workspace."""
    if document.language in PYTHON:
        return _python_bindings(document.text, document.path, sources, index or _SHARED_INDEX)
    if document.language in JS_LIKE:
        return _js_bindings(document.text, document.path, sources)
    if document.language in GO:
        return _go_bindings(document.text, document.path, sources)
    return Bindings()


def language_of(path: str) -> str | None:
    suffix = posixpath.splitext(path)[1].lower()
    if suffix in (".py", ".pyi"):
        return "python"
    if suffix in (".go",):
        return "go"
    if suffix in (".ts", ".tsx", ".mts", ".cts"):
        return "typescript"
    if suffix in (".js", ".jsx", ".mjs", ".cjs"):
        return "javascript"
    return None


class DefinitionIndex:
    """Definitions per file, parsed once per text (a changed buffer or file is parsed again)."""

    def __init__(self) -> None:
        self._parsed: dict[str, tuple[str, dict[str, Definition]]] = {}

    def definitions(self, path: str, text: str) -> dict[str, Definition]:
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == text:
            return cached[1]
        language = language_of(path) or ""
        found = definitions_in(text, language, path)
        self._parsed[path] = (text, found)
        return found


_SHARED_INDEX = DefinitionIndex()


def _names_in(sources: Sources, path: str, index: DefinitionIndex) -> dict[str, Definition]:
    text = sources.read(path)
    return {} if text is None else index.definitions(path, text)


# --- the names the code uses ---------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_STRING_OR_COMMENT = re.compile(
    r"\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|`[^`]*`"
    r"|#[^\n]*|//[^\n]*"
)


def used_names(code: str, language: str) -> list[str]:
    """Identifiers and dotted chains (``util.scale``) in ``code``, first use first, strings
    and comments left out."""
    if language in GO or language in JS_LIKE:
        stripped = re.sub(r"//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", " ", code)
    else:
        stripped = _STRING_OR_COMMENT.sub(" ", code)
    return list(dict.fromkeys(m.group(0) for m in _IDENTIFIER.finditer(stripped)))


_PY_BOUND = re.compile(
    r"^[ \t]*(?:async\s+)?(?:def|class)\s+(\w+)|^[ \t]*(\w+)\s*(?::[^=\n]+)?=(?!=)"
    r"|\bfor\s+(\w+)\s+in\b|\bas\s+(\w+)",
    re.MULTILINE,
)
_PY_PARAMS = re.compile(r"^[ \t]*(?:async\s+)?def\s+\w+\s*\((?P<params>[^)]*)\)", re.MULTILINE)
_JS_BOUND = re.compile(
    r"\b(?:function\*?|class|const|let|var|interface|type|enum)\s+([A-Za-z_$][\w$]*)"
)
_GO_BOUND = re.compile(r"^(?:func|type|var|const)\s+(\w+)|\b(\w+)\s*:=", re.MULTILINE)


_PY_IMPORT_LINE = re.compile(r"^[ \t]*(?:from|import)[ \t].*$", re.MULTILINE)
_JS_IMPORT_LINE = re.compile(r"^[ \t]*import[ \t].*$", re.MULTILINE)
# Past this size a document is analysed (imports, names it binds) in its head and around
# the cursor only: a keystroke in a 2 MB file must not cost a scan of 2 MB.
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


_PY_TOP_BOUND = re.compile(
    r"^(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)|^(\w+)[ \t]*(?::[^=\n]+)?=(?!=)", re.MULTILINE
)
_JS_TOP_BOUND = re.compile(
    r"^(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:async[ \t]+)?"
    r"(?:function\*?|class|const|let|var|interface|type|enum)[ \t]+([A-Za-z_$][\w$]*)",
    re.MULTILINE,
)
_GO_TOP_BOUND = re.compile(r"^(?:func|type|var|const)[ \t]+(\w+)", re.MULTILINE)


def shadowed_names(document: Document, start: int, end: int) -> set[str]:
    """Names the document binds itself where the code at ``start:end`` sees them: at the
    top level, and (definitions, assignments, parameters, loop variables) in the lines
    around it. Their meaning is in the file, not elsewhere; import lines do not count.
    Only anchored patterns run over the whole file: a keystroke stays cheap."""
    text, language = document.text, document.language
    first = start
    for _ in range(NEAR_LINES_ABOVE):
        first = text.rfind("\n", 0, max(0, first - 1)) + 1
        if first == 0:
            break
    last = text.find("\n", end)
    near = text[first : len(text) if last < 0 else last]
    if language in PYTHON:
        bound = {g for m in _PY_TOP_BOUND.finditer(text) for g in m.groups() if g}
        near = _PY_IMPORT_LINE.sub("", near)
        bound |= {g for m in _PY_BOUND.finditer(near) for g in m.groups() if g}
        for match in _PY_PARAMS.finditer(near):
            for param in match["params"].split(","):
                name = re.match(r"\s*\**(\w+)", param)
                if name:
                    bound.add(name.group(1))
        return bound
    if language in JS_LIKE:
        bound = {m.group(1) for m in _JS_TOP_BOUND.finditer(text)}
        return bound | {m.group(1) for m in _JS_BOUND.finditer(_JS_IMPORT_LINE.sub("", near))}
    if language in GO:
        bound = {m.group(1) for m in _GO_TOP_BOUND.finditer(text)}
        return bound | {g for m in _GO_BOUND.finditer(near) for g in m.groups() if g}
    return set()


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


# --- finding the definitions ----------------------------------------------------------------


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
    bindings = bindings if bindings is not None else bindings_of(analysed, sources, index)
    shadowed = shadowed_names(analysed, start - left_out, end - left_out)
    family = _family(document.language)
    found: dict[tuple[str, str], Definition] = {}

    def look_up(path: str, name: str, depth: int = 0) -> Definition | None:
        text = sources.read(path)
        if text is None:
            return None
        definition = index.definitions(path, text).get(name)
        if definition is None and depth < 3 and language_of(path) in JS_LIKE:
            for target, exported in _js_reexports(text, path, sources):
                if exported is None or name in exported:
                    remote = name if exported is None else exported[name]
                    definition = look_up(target, remote, depth + 1)
                    if definition is not None:
                        break
        return definition

    for used in used_names(focus_code(document.text, start, end), document.language):
        parts = used.split(".")
        head = parts[0]
        definition: Definition | None = None
        if head in bindings.modules and len(parts) > 1:
            for path in bindings.modules[head]:
                definition = look_up(path, parts[1])
                if definition is not None:
                    break
        elif head in bindings.names and head not in shadowed:
            path, remote = bindings.names[head]
            definition = look_up(path, remote)
        elif not {head} & (shadowed | bindings.external) and head not in bindings.modules:
            for path in (*bindings.wildcard, *bindings.same_package, *open_paths):
                if path != document.path and _family(language_of(path) or "") == family:
                    definition = look_up(path, head)
                    if definition is not None:
                        break
        if definition is not None:
            found.setdefault(definition.key, definition)
            _add_go_methods(parts, bindings, look_up, found)
    _add_related(found, bindings, look_up, index, sources)
    if all_imports:
        for local, (path, remote) in bindings.names.items():
            imported = None if local in shadowed else look_up(path, remote)
            if imported is not None:
                found.setdefault(imported.key, imported)
    return list(found.values())


RELATED_PER_DEFINITION = 3


def _add_related(
    found: dict[tuple[str, str], Definition],
    bindings: Bindings,
    look_up: Callable[[str, str], Definition | None],
    index: DefinitionIndex,
    sources: Sources,
) -> None:
    """What the found definitions' signatures name from their own module (``def
    make_order() -> Order``, ``func NewCart() *Cart``), and the methods of Go types found:
    the model then knows what a call returns."""
    for definition in list(found.values()):
        language = language_of(definition.path) or ""
        package = _package_of(definition.path, bindings)
        added = 0
        names = [n.split(".")[0] for n in used_names(definition.signature, language)]
        for name in dict.fromkeys(names):
            if name == definition.name or added >= RELATED_PER_DEFINITION:
                continue
            for path in package:
                related = look_up(path, name)
                if related is not None and related.key not in found:
                    found[related.key] = related
                    added += 1
                    break
    for definition in list(found.values()):  # Go: a type's methods come with it
        if language_of(definition.path) not in GO:
            continue
        for path in _package_of(definition.path, bindings):
            text = sources.read(path)
            methods = {} if text is None else index.definitions(path, text)
            for key, method in methods.items():
                if key.startswith(definition.name + ".") and method.key not in found:
                    found[method.key] = method


def _package_of(path: str, bindings: Bindings) -> tuple[str, ...]:
    """The files a definition's own names live in: its file, and for Go its package."""
    if language_of(path) not in GO:
        return (path,)
    for files in (*bindings.modules.values(), bindings.same_package):
        if path in files:
            return files
    return (path,)


def _add_go_methods(
    parts: list[str],
    bindings: Bindings,
    look_up: Callable[[str, str], Definition | None],
    found: dict[tuple[str, str], Definition],
) -> None:
    """``pkg.Type.Method`` chains: the method's definition too."""
    if len(parts) < 3 or parts[0] not in bindings.modules:
        return
    for path in bindings.modules[parts[0]]:
        method = look_up(path, f"{parts[1]}.{parts[2]}")
        if method is not None:
            found.setdefault(method.key, method)
            return


def _family(language: str) -> str:
    if language in PYTHON:
        return "python"
    if language in JS_LIKE:
        return "js"
    if language in GO:
        return "go"
    return language


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

_FIXTURE = re.compile(r"^@(?:pytest\.)?fixture\b")


def fixtures_in(text: str, path: str) -> list[Definition]:
    """The ``@pytest.fixture`` functions of a conftest.py (signature and docstring)."""
    lines = text.split("\n")
    found = []
    for definition in _python_definitions(lines, path).values():
        above = definition.line
        while above > 0 and lines[above - 1].startswith("@"):  # its decorators
            above -= 1
        if any(_FIXTURE.match(line) for line in lines[above : definition.line]):
            found.append(definition)
    return found


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
