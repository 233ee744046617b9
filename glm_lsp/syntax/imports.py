"""Import statements (syntax nodes the query captured) as plain data (pure): which module,
which names under which local names. Where the module lives is :mod:`.resolve`'s job."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True)
class ImportSpec:
    """One import: ``module`` as written (``./util``, ``..models``, ``crate::queue``,
    ``example.com/shop/cart``, ``com.shop.Money``, ``timer.h``, ``App\\Util\\Slugger``)."""

    module: str
    names: tuple[tuple[str, str], ...] = ()  # (name in the module, local name)
    namespace: str | None = None  # the local name bound to the module itself
    default: str | None = None  # JS: the local name of the default export
    wildcard: bool = False  # every name of the module (``*``, a Ruby require, a C include)
    kind: str = ""  # "require", "require_relative", "include", "mod", "package", "static"


def read_imports(language: str, nodes: Iterable[Node], data: bytes) -> list[ImportSpec]:
    reader = _READERS.get(language)
    if reader is None:
        return []

    def text(node: Node | None) -> str:
        return (
            "" if node is None else data[node.start_byte : node.end_byte].decode("utf-8", "replace")
        )

    found: list[ImportSpec] = []
    for node in nodes:
        found += reader(node, text)
    return found


Text = Callable[["Node | None"], str]  # a node's source text ("" for None)


def _string(node: Node | None, text: Text) -> str:
    """A string literal's content (quotes dropped)."""
    if node is None:
        return ""
    for child in node.named_children:
        if child.type in (
            "string_fragment",
            "string_content",
            "interpreted_string_literal_content",
        ):
            return text(child)
    return text(node).strip("'\"`<>")


def _python(node: Node, text: Text) -> list[ImportSpec]:
    found: list[ImportSpec] = []
    if node.type == "import_statement":
        for item in node.children_by_field_name("name"):
            if item.type == "aliased_import":
                module = text(item.child_by_field_name("name"))
                found.append(ImportSpec(module, namespace=text(item.child_by_field_name("alias"))))
            else:
                found.append(ImportSpec(text(item), namespace=text(item)))
        return found
    module_node = node.child_by_field_name("module_name")
    module = "" if module_node is None else text(module_node).replace(" ", "")
    names: list[tuple[str, str]] = []
    for item in node.children_by_field_name("name"):
        if item.type == "aliased_import":
            names.append(
                (text(item.child_by_field_name("name")), text(item.child_by_field_name("alias")))
            )
        else:
            names.append((text(item), text(item)))
    wildcard = any(child.type == "wildcard_import" for child in node.children)
    return [ImportSpec(module, tuple(names), wildcard=wildcard)]


def _js(node: Node, text: Text) -> list[ImportSpec]:
    if node.type in ("lexical_declaration", "variable_declaration"):  # require()
        found: list[ImportSpec] = []
        for declarator in node.named_children:
            value = declarator.child_by_field_name("value")
            name = declarator.child_by_field_name("name")
            if value is None or name is None or value.type != "call_expression":
                continue
            arguments = value.child_by_field_name("arguments")
            spec = _string(
                arguments.named_children[0] if arguments and arguments.named_children else None,
                text,
            )
            if name.type == "identifier":
                found.append(ImportSpec(spec, namespace=text(name), kind="require"))
            elif name.type == "object_pattern":
                names: list[tuple[str, str]] = []
                for item in name.named_children:
                    if item.type == "shorthand_property_identifier_pattern":
                        names.append((text(item), text(item)))
                    elif item.type == "pair_pattern":
                        key, value_node = (
                            item.child_by_field_name("key"),
                            item.child_by_field_name("value"),
                        )
                        if key is not None and value_node is not None:
                            names.append((text(key), text(value_node)))
                found.append(ImportSpec(spec, tuple(names), kind="require"))
        return found
    source = _string(node.child_by_field_name("source"), text)
    names = []
    namespace = default = None
    wildcard = False
    for child in node.named_children:
        if child.type == "import_clause":
            for part in child.named_children:
                if part.type == "identifier":
                    default = text(part)
                elif part.type == "namespace_import":
                    namespace = text(part.named_children[-1]) if part.named_children else None
                elif part.type == "named_imports":
                    names += _specifiers(part, text)
        elif child.type == "export_clause":
            names += _specifiers(child, text)
        elif child.type == "namespace_export":
            namespace = text(child.named_children[-1]) if child.named_children else None
    if node.type == "export_statement" and not names and namespace is None:
        wildcard = True  # export * from './a'
    return [ImportSpec(source, tuple(names), namespace, default, wildcard)]


def _specifiers(node: Node, text: Text) -> list[tuple[str, str]]:
    names = []
    for item in node.named_children:
        if item.type not in ("import_specifier", "export_specifier"):
            continue
        name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
        if name is not None:
            names.append((text(name), text(alias) if alias is not None else text(name)))
    return names


def _go(node: Node, text: Text) -> list[ImportSpec]:
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "import_spec":
            path = _string(current.child_by_field_name("path"), text)
            alias = current.child_by_field_name("name")
            found.append(ImportSpec(path, namespace=text(alias) if alias is not None else None))
        else:
            stack += current.named_children
    return found


def _rust(node: Node, text: Text) -> list[ImportSpec]:
    if node.type == "mod_item":
        name = node.child_by_field_name("name")
        return [] if name is None else [ImportSpec(text(name), namespace=text(name), kind="mod")]
    argument = node.child_by_field_name("argument")
    return [] if argument is None else _use_tree(argument, "", text)


def _use_tree(node: Node, prefix: str, text: Text) -> list[ImportSpec]:
    """``use a::{b, c::d as e, f::*}`` as (module, name, local) triples."""

    def join(tail: str) -> str:
        return f"{prefix}::{tail}" if prefix and tail else prefix or tail

    if node.type == "scoped_use_list":
        path = node.child_by_field_name("path")
        inner = join(text(path) if path is not None else "")
        found: list[ImportSpec] = []
        listed = node.child_by_field_name("list")
        for item in listed.named_children if listed is not None else []:
            found += _use_tree(item, inner, text)
        return found
    if node.type == "use_list":
        return [spec for item in node.named_children for spec in _use_tree(item, prefix, text)]
    if node.type == "use_wildcard":
        path = node.named_children[0] if node.named_children else None
        return [ImportSpec(join(text(path) if path is not None else ""), wildcard=True)]
    if node.type == "use_as_clause":
        path, alias = node.child_by_field_name("path"), node.child_by_field_name("alias")
        if path is None or alias is None:
            return []
        full = join(text(path))
        module, _, name = full.rpartition("::")
        return [ImportSpec(module, ((name, text(alias)),))]
    full = join(text(node))
    if full == "self" or full.endswith("::self"):
        module = full.rsplit("::", 1)[0]
        return [ImportSpec(module, namespace=module.rsplit("::", 1)[-1])]
    module, _, name = full.rpartition("::")
    return [ImportSpec(module, ((name, name),))]


def _java(node: Node, text: Text) -> list[ImportSpec]:
    path = next(
        (c for c in node.named_children if c.type in ("scoped_identifier", "identifier")), None
    )
    if path is None:
        return []
    full = text(path)
    if node.type == "package_declaration":
        return [ImportSpec(full, kind="package")]
    static = any(child.type == "static" for child in node.children)
    if any(child.type == "asterisk" for child in node.children):
        return [ImportSpec(full, wildcard=True, kind="static" if static else "")]
    module, _, name = full.rpartition(".")
    return [ImportSpec(module, ((name, name),), kind="static" if static else "")]


def _c(node: Node, text: Text) -> list[ImportSpec]:
    if node.type != "preproc_include":
        return []
    path = node.child_by_field_name("path")
    if path is None or path.type != "string_literal":
        return []  # <system> headers are not the workspace's
    return [ImportSpec(_string(path, text), wildcard=True, kind="include")]


def _csharp(node: Node, text: Text) -> list[ImportSpec]:
    alias = node.child_by_field_name("name")
    target = next(
        (
            c
            for c in node.named_children
            if c.type in ("qualified_name", "identifier") and c != alias
        ),
        None,
    )
    if target is None:
        return []
    full = text(target)
    if alias is not None:
        module, _, name = full.rpartition(".")
        return [ImportSpec(module, ((name, text(alias)),))]
    return [ImportSpec(full, wildcard=True)]


def _ruby(node: Node, text: Text) -> list[ImportSpec]:
    method = node.child_by_field_name("method")
    arguments = node.child_by_field_name("arguments")
    if method is None or arguments is None or not arguments.named_children:
        return []
    return [
        ImportSpec(_string(arguments.named_children[0], text), wildcard=True, kind=text(method))
    ]


def _php(node: Node, text: Text) -> list[ImportSpec]:
    if node.type == "expression_statement":  # require_once 'x.php'
        stack = list(node.named_children)
        while stack:  # the first string literal in it (`__DIR__ . '/x.php'` too)
            current = stack.pop(0)
            if current.type in ("string", "encapsed_string"):
                path = _string(current, text).lstrip("/")
                return [ImportSpec(path, wildcard=True, kind="require")]
            stack += current.named_children
        return []
    prefix = ""
    found: list[ImportSpec] = []
    group = node.child_by_field_name("body")
    for child in node.named_children:
        if child.type == "namespace_name":
            prefix = text(child)
    clauses = group.named_children if group is not None else node.named_children
    for clause in clauses:
        if clause.type != "namespace_use_clause":
            continue
        alias = clause.child_by_field_name("alias")
        target = next((c for c in clause.named_children if c != alias), None)
        if target is None:
            continue
        full = (prefix + "\\" if prefix else "") + text(target).lstrip("\\")
        name = full.rsplit("\\", 1)[-1]
        found.append(ImportSpec(full, ((name, text(alias) if alias is not None else name),)))
    return found


_READERS: dict[str, Callable[[Node, Text], list[ImportSpec]]] = {
    "python": _python,
    "javascript": _js,
    "typescript": _js,
    "tsx": _js,
    "go": _go,
    "rust": _rust,
    "java": _java,
    "c": _c,
    "cpp": _c,
    "csharp": _csharp,
    "ruby": _ruby,
    "php": _php,
}
