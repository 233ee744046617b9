"""One file read through its syntax tree (pure): its definitions as a reader needs them
(doc comment, header, members; the whole body beside), its imports, the names it binds in
each scope and the variables whose type it states.

What is captured is decided by the language's query file (``queries/<grammar>.scm``):
``@definition.<kind>`` with ``@name`` (and ``@container`` for a method kept as
``Type.name``), ``@import``/``@reexport`` statements, ``@namespace``, ``@local`` bindings and
``@receiver.var``/``@receiver.type`` pairs. This module only turns captures into text.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .imports import ImportSpec, read_imports
from .languages import Grammar, grammar_for_path, parse

if TYPE_CHECKING:
    from tree_sitter import Node

# Reading one file's outline never takes longer than this (the query, then the reading of
# its matches, each): a repository's huge generated file must not stall a keystroke.
READ_BUDGET_S = 0.25
# A class or struct signature shows at most this many member lines.
MEMBER_LINES = 30
# A value (constant, variable) longer than this shows its first line only.
SHORT_VALUE_LINES = 6
# Functions: names bound inside one (parameters, locals) are seen inside it only, and a
# definition inside one is not one of the file's own names.
_FUNCTION_SCOPES = frozenset(
    {
        "function_definition",  # Python, C, C++, PHP
        "function_declaration",  # JS, TS, Go
        "generator_function_declaration",
        "generator_function",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "method_declaration",  # Java, C#, Go, PHP
        "constructor_declaration",
        "local_function_statement",
        "lambda",
        "lambda_expression",
        "anonymous_function_creation_expression",
        "anonymous_function",
        "func_literal",
        "function_item",  # Rust
        "closure_expression",
        "method",  # Ruby
        "singleton_method",
    }
)
_LEADING = ("comment", "attribute_item", "attribute", "annotation", "decorator")
_NO_TYPE = frozenset({"var", "auto", "let", "const", "val"})


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
class Scoped:
    """A name bound in the byte range ``start:end`` of the file (its scope)."""

    name: str
    start: int
    end: int
    at: int  # where it is bound
    type: str = ""  # for a receiver: its type as written (``cart.Cart``, ``Inventory``)
    top: bool = False  # bound at the top level of the file (not in a function)


@dataclass(frozen=True)
class Outline:
    path: str
    grammar: Grammar
    definitions: dict[str, Definition] = field(default_factory=dict)
    imports: tuple[ImportSpec, ...] = ()
    reexports: tuple[ImportSpec, ...] = ()
    namespace: str = ""  # C#, PHP: the namespace the file declares; Java: its package
    locals: tuple[Scoped, ...] = ()
    receivers: tuple[Scoped, ...] = ()
    size: int = 0  # bytes

    def bound_at(self, start: int, end: int, *, in_functions: bool = False) -> set[str]:
        """Names bound where the code at ``start:end`` (byte offsets) sees them; with
        ``in_functions``, only those of the functions around it (not the file's)."""
        return {
            s.name
            for s in self.locals
            if _visible(s, start, end)
            and not (in_functions and s.start == 0 and s.end >= self.size)
        }

    def receiver_types(self, start: int, end: int) -> dict[str, str]:
        """Variable -> type for the variables visible at ``start:end``, nearest binding last."""
        found: dict[str, str] = {}
        for scoped in sorted(self.receivers, key=lambda s: s.at):
            if _visible(scoped, start, end) and scoped.at <= max(start, end):
                found[scoped.name] = scoped.type
        return found


def _visible(scoped: Scoped, start: int, end: int) -> bool:
    if scoped.start <= start <= scoped.end:
        return True
    return end > start and scoped.start < end and start < scoped.end


def outline_of(text: str, path: str, grammar: Grammar | None = None) -> Outline | None:
    """The outline of ``text`` read as the file at ``path``; None when the file gives nothing
    (unknown language, binary, over 1 MB, too slow to parse)."""
    grammar = grammar or grammar_for_path(path)
    if grammar is None:
        return None
    parsed = parse(text, grammar)
    if parsed is None:
        return None
    tree, data, loaded = parsed
    from tree_sitter import QueryCursor

    root = tree.root_node
    # (The query's own progress callback crashes py-tree-sitter 0.25/0.26: the time bound is
    # on reading the matches; the query itself runs in C over at most 1 MB.)
    matches = QueryCursor(loaded.query).matches(root)
    return _Reader(path, grammar, data).read(root, matches)


class _Reader:
    def __init__(self, path: str, grammar: Grammar, data: bytes) -> None:
        self.path = path
        self.grammar = grammar
        self.data = data
        self.scopes: dict[int, tuple[int, int]] = {}  # function node id -> its scope
        self.around: set[int] | None = None  # when set: the only functions worth a scope

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def slice(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", errors="replace")

    def line_start(self, byte: int) -> int:
        return self.data.rfind(b"\n", 0, byte) + 1

    def line_end(self, byte: int) -> int:
        end = self.data.find(b"\n", byte)
        return len(self.data) if end < 0 else end

    def read(self, root: Node, matches: list[tuple[int, dict[str, list[Node]]]]) -> Outline:
        tops: list[tuple[str, Node, Node]] = []  # kind, definition node, name node
        methods: list[tuple[Node, Node, Node]] = []  # definition, name, container
        imports: list[Node] = []
        reexports: list[Node] = []
        namespace = ""
        locals_: list[Scoped] = []
        receivers: list[Scoped] = []
        deadline = time.monotonic() + READ_BUDGET_S
        for count, (_pattern, captures) in enumerate(matches):
            if count % 512 == 511 and time.monotonic() > deadline:
                break  # what was read so far: a huge file gives part of its outline
            for capture, nodes in captures.items():
                if capture.startswith("definition."):
                    kind = capture.split(".", 1)[1]
                    name = _first(captures.get("name"))
                    if name is None:
                        continue
                    for node in nodes:
                        if kind == "method":
                            container = _first(captures.get("container"))
                            if container is not None:
                                methods.append((node, name, container))
                        else:
                            tops.append((kind, node, name))
                elif capture == "import":
                    imports += nodes
                elif capture == "reexport":
                    reexports += nodes
                elif capture == "namespace" and not namespace:
                    namespace = self.text(nodes[0])
                elif capture == "local":
                    for node in nodes:
                        start, end = self.scope_of(node, root)
                        top = end > len(self.data)
                        locals_.append(
                            Scoped(self.text(node), start, end, node.start_byte, "", top)
                        )
            var, type_ = _first(captures.get("receiver.var")), _first(captures.get("receiver.type"))
            if var is not None and type_ is not None:
                written = self.text(type_).lstrip("*&").strip()
                if written and written not in _NO_TYPE:
                    start, end = self.scope_of(var, root)
                    receivers.append(
                        Scoped(self.text(var).lstrip("$@"), start, end, var.start_byte, written)
                    )
        # What an import binds is the import's, not a name the file defines itself.
        spans = [(n.start_byte, n.end_byte) for n in imports]

        def imported(byte: int) -> bool:
            return any(low <= byte < high for low, high in spans)

        tops = [top for top in tops if not imported(top[1].start_byte)]
        locals_ = [scoped for scoped in locals_ if not imported(scoped.at)]
        definitions = self.definitions(tops, methods)
        language = self.grammar.name
        specs = read_imports(language, imports, self.data)
        if language == "java":
            namespace = next((s.module for s in specs if s.kind == "package"), namespace)
        return Outline(
            self.path,
            self.grammar,
            definitions,
            tuple(s for s in specs if s.kind != "package"),
            tuple(read_imports(language, reexports, self.data)),
            namespace,
            tuple(locals_),
            tuple(receivers),
            len(self.data),
        )

    # -- scopes ------------------------------------------------------------------------------
    def scope_of(self, node: Node, root: Node) -> tuple[int, int]:
        """The byte range where a name bound at ``node`` is seen: its enclosing function (a
        parameter: that function), else the whole file."""
        parent = node.parent
        broken: Node | None = None
        while parent is not None:
            if parent.type in _FUNCTION_SCOPES:
                if self.around is not None and parent.id not in self.around:
                    return -1, -1  # a function the cursor is not in: never visible there
                known = self.scopes.get(parent.id)
                if known is None:
                    known = self.scopes[parent.id] = (parent.start_byte, self.scope_end(parent))
                return known
            if parent.type == "ERROR" and broken is None:
                broken = parent
            parent = parent.parent
        if broken is not None:
            # Code being typed (a function not closed yet) parses as an error: a name bound
            # there is seen from there on, as a local of the unfinished function.
            return broken.start_byte, len(self.data)
        return root.start_byte, len(self.data) + 1  # one past: the file's own scope

    def scope_end(self, node: Node) -> int:
        """Where a function's scope ends for a cursor: the end of its last line, and (an
        indented language) the blank or deeper-indented lines after it, where the user types
        its next line before the tree holds it."""
        end = self.line_end(node.end_byte)
        if self.grammar.braces:
            return end
        line = self.line_start(node.start_byte)
        indent = len(self.data[line : node.start_byte]) - len(
            self.data[line : node.start_byte].lstrip()
        )
        while end < len(self.data):
            following = self.line_end(end + 1)
            text = self.data[end + 1 : following]
            if text.strip() and len(text) - len(text.lstrip()) <= indent:
                break
            end = following
        return end

    # -- definitions -------------------------------------------------------------------------
    def definitions(
        self, tops: list[tuple[str, Node, Node]], methods: list[tuple[Node, Node, Node]]
    ) -> dict[str, Definition]:
        # The widest node per name (an `export` around a declaration is part of it).
        widest: dict[int, tuple[str, Node, Node]] = {}
        for kind, node, name in tops:
            held = widest.get(name.start_byte)
            if (
                held is None
                or node.end_byte - node.start_byte > held[1].end_byte - held[1].start_byte
            ):
                widest[name.start_byte] = (kind, node, name)
        spans = {(n.start_byte, n.end_byte) for _, n, _ in widest.values()}
        members = {(n.start_byte, n.end_byte) for n, _, _ in methods}
        found: dict[str, Definition] = {}
        for kind, node, name in sorted(widest.values(), key=lambda t: t[1].start_byte):
            if (node.start_byte, node.end_byte) in members or self.nested(node, spans):
                continue
            label = self.text(name)
            definition = self.definition(kind, node, label)
            found.setdefault(label, definition)
            if any(child.type == "default" for child in node.children):
                found.setdefault("default", definition)
        for node, name, container in sorted(methods, key=lambda t: t[0].start_byte):
            owner = _type_name(self.text(container))
            label = self.text(name)
            found.setdefault(f"{owner}.{label}", self.definition("function", node, label))
        return found

    def nested(self, node: Node, spans: set[tuple[int, int]]) -> bool:
        """Inside another definition or a function: not one of the file's own names."""
        parent = node.parent
        while parent is not None:
            if parent.type in _FUNCTION_SCOPES or (
                (parent.start_byte, parent.end_byte) in spans
                and (parent.start_byte, parent.end_byte) != (node.start_byte, node.end_byte)
            ):
                return True
            parent = parent.parent
        return False

    def leading_start(self, node: Node) -> int:
        """Where the doc comments, attributes or decorators right above ``node`` start."""
        start = node.start_byte
        row = node.start_point.row
        above = node.prev_sibling
        while (
            above is not None
            and self.grammar.name != "python"
            and any(word in above.type for word in _LEADING)
            and above.end_point.row >= row - 1
        ):
            start, row = above.start_byte, above.start_point.row
            above = above.prev_sibling
        return self.line_start(start)

    def definition(self, kind: str, node: Node, name: str) -> Definition:
        start = self.leading_start(node)
        body_text = self.slice(start, node.end_byte).rstrip()
        lines = body_text.count("\n") + 1
        body = _body_of(node)
        if kind == "value" or (kind == "type" and (body is None or lines <= MEMBER_LINES + 2)):
            if kind == "value" and lines >= SHORT_VALUE_LINES:
                signature = self.slice(start, self.line_end(node.start_byte))
            else:
                signature = body_text
        elif kind in ("class", "type") and body is not None:
            signature = self.members(start, node, body)
        else:
            signature = self.header(start, node, body)
        return Definition(name, self.path, node.start_point.row, signature, body_text)

    def header(self, start: int, node: Node, body: Node | None) -> str:
        """Doc comment and header up to the body (a Python docstring kept)."""
        if body is None:
            if self.grammar.braces:
                return self.slice(start, node.end_byte)
            return self.slice(start, self.line_end(node.start_byte))
        header = self.slice(start, body.start_byte).rstrip()
        if self.grammar.name == "python":
            doc = _docstring(body)
            if doc is not None:
                header += "\n" + self.slice(self.line_start(doc.start_byte), doc.end_byte)
        elif header.endswith("{"):
            header = header[:-1].rstrip()
        return header

    def members(self, start: int, node: Node, body: Node) -> str:
        """A class's header, docstring, fields and method headers; its closing line."""
        header = self.slice(start, body.start_byte).rstrip()
        braces = self.slice(body.start_byte, body.start_byte + 1) == "{"
        kept = [header + (" {" if braces and not header.endswith("{") else "")]
        children = list(_member_nodes(body))
        if self.grammar.name == "python" and (doc := _docstring(body)) is not None:
            kept.append(self.slice(self.line_start(doc.start_byte), doc.end_byte))
            children = children[1:]  # the docstring's statement
        count = 0
        for child in children:
            if count >= MEMBER_LINES:
                break
            if "comment" in child.type:
                continue
            count += 1
            inner = _body_of(child)
            line = self.line_start(child.start_byte)
            if inner is not None and inner.type not in _FIELD_BODIES:  # a method: its header
                member = self.slice(line, inner.start_byte).rstrip()
                if self.grammar.name == "python":
                    doc = _docstring(inner)
                    if doc is not None:
                        first = self.slice(
                            self.line_start(doc.start_byte), self.line_end(doc.start_byte)
                        )
                        member += "\n" + first
                elif self.slice(inner.start_byte, inner.start_byte + 1) == "{":
                    member = member.rstrip("{").rstrip() + " { … }"
                kept.append(member)
            else:  # a field, a property, a constant: its first line
                kept.append(self.slice(line, self.line_end(child.start_byte)))
        indent = self.slice(self.line_start(node.start_byte), node.start_byte)
        indent = indent if not indent.strip() else ""
        if braces:
            kept.append(indent + "}")
        elif self.grammar.name == "ruby":
            kept.append(indent + "end")
        return "\n".join(kept)


# Bodies that belong to a field or property, shown whole on their line.
_FIELD_BODIES = frozenset({"accessor_list", "field_declaration_list"})


def _first(nodes: list[Node] | None) -> Node | None:
    return nodes[0] if nodes else None


def _type_name(written: str) -> str:
    """``*pkg.Cart[T]`` -> ``Cart``: the bare name methods are kept under."""
    bare = written.lstrip("*&").split("<", 1)[0].split("[", 1)[0]
    return bare.replace("::", ".").rsplit(".", 1)[-1].strip()


def _body_of(node: Node) -> Node | None:
    """The node's body (or the body of the declaration it wraps: export, decorator,
    template)."""
    queue: list[tuple[Node, int]] = [(node, 0)]
    while queue:
        current, depth = queue.pop(0)
        body = current.child_by_field_name("body")
        if body is not None:
            return body
        if depth < 2:
            queue += [(child, depth + 1) for child in current.named_children]
    return None


def _member_nodes(body: Node) -> Iterable[Node]:
    for child in body.named_children:
        if child.type == "enum_body_declarations":
            yield from child.named_children
        else:
            yield child


def _docstring(body: Node) -> Any:
    """The string literal that opens a Python body, if one does."""
    first = body.named_children[0] if body.named_children else None
    if first is None or first.type != "expression_statement" or not first.named_children:
        return None
    string = first.named_children[0]
    return string if string.type in ("string", "concatenated_string") else None


# --- what the code at a cursor sees (the typing path) -------------------------------------

# Around the cursor, the bytes whose bindings are read on each keystroke.
WINDOW_BEFORE = 4_000
WINDOW_AFTER = 2_000
HEAD_BYTES = 16_000
# Where a file's own top-level names start (namespaces nest them in C++, C#, PHP).
_TOP_DEPTH = {"cpp": 3, "csharp": 3, "php": 3}


@dataclass(frozen=True)
class Scope:
    """The names the code at ``start:end`` sees bound in its own file."""

    names: frozenset[str]  # top-level definitions and the locals visible there
    inner: frozenset[str]  # of those, the ones bound in the functions around it
    receivers: dict[str, str]  # variable -> type as written


def scope_at(
    text: str,
    path: str,
    grammar: Grammar,
    start: int,
    end: int,
    previous: tuple[bytes, Any] | None = None,
) -> tuple[Scope, tuple[bytes, Any]] | None:
    """What the code at character offsets ``start:end`` sees of its own file, read from the
    tree (incrementally from ``previous``, the bytes and tree of the last call) in a window
    around it plus the file's top-level names; with this call's bytes and tree."""
    parsed = parse(text, grammar, previous)
    if parsed is None:
        return None
    tree, data, loaded = parsed
    from tree_sitter import QueryCursor

    ascii_text = text.isascii()
    at = start if ascii_text else len(text[:start].encode("utf-8", errors="replace"))
    until = end if ascii_text else len(text[:end].encode("utf-8", errors="replace"))
    reader = _Reader(path, grammar, data)
    root = tree.root_node
    low, high = max(0, at - WINDOW_BEFORE), min(len(data), until + WINDOW_AFTER)
    named: list[Node] = []
    imports: list[Node] = []
    # The file's own top-level names: in its head (imports, constants) and in the window;
    # a large file's far-away definitions are not read on each keystroke.
    for first, last in ((0, min(len(data), HEAD_BYTES)), (low, high)):
        top = QueryCursor(loaded.query)
        top.set_max_start_depth(_TOP_DEPTH.get(grammar.name, 1))
        top.set_byte_range(first, last)
        for _pattern, captures in top.matches(root):
            if "import" in captures:
                imports += captures["import"]
            if "container" in captures or "name" not in captures:
                continue
            if any(c.startswith("definition.") for c in captures):
                named.append(captures["name"][0])
        if last >= len(data) or first == low:
            break
    spans = [(n.start_byte, n.end_byte) for n in imports]
    names = {reader.text(n) for n in named if not any(lo <= n.start_byte < hi for lo, hi in spans)}
    # The functions the cursor may be in: around it, or around the code just before it (a
    # blank line after a Python body is still in it).
    reader.around = set()
    before = len(data[:at].rstrip())
    for byte in {at, max(0, before - 1)}:
        node: Node | None = root.descendant_for_byte_range(byte, byte)
        while node is not None:
            if node.type in _FUNCTION_SCOPES:
                reader.around.add(node.id)
            node = node.parent
    window = QueryCursor(loaded.query)
    window.set_byte_range(low, high)
    locals_: list[Scoped] = []
    receivers: list[Scoped] = []
    for _pattern, captures in window.matches(root):
        if "import" in captures:
            spans += [(n.start_byte, n.end_byte) for n in captures["import"]]
        for node in captures.get("local", ()):
            low, high = reader.scope_of(node, root)
            locals_.append(
                Scoped(reader.text(node), low, high, node.start_byte, "", high > len(data))
            )
        var, type_ = _first(captures.get("receiver.var")), _first(captures.get("receiver.type"))
        if var is not None and type_ is not None:
            written = reader.text(type_).lstrip("*&").strip()
            if written and written not in _NO_TYPE:
                low, high = reader.scope_of(var, root)
                receivers.append(
                    Scoped(reader.text(var).lstrip("$@"), low, high, var.start_byte, written)
                )
    locals_ = [s for s in locals_ if not any(lo <= s.at < hi for lo, hi in spans)]
    seen = Outline(path, grammar, locals=tuple(locals_), receivers=tuple(receivers), size=len(data))
    inner = seen.bound_at(at, until, in_functions=True)
    scope = Scope(
        frozenset(names | seen.bound_at(at, until)),
        frozenset(inner),
        seen.receiver_types(at, until),
    )
    return scope, (data, tree)
