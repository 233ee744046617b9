"""Blocks from the syntax tree (pure): the definition around a line (what a code action on
an empty range is about) and where a streamed suggestion's construct closes (early stop).

Both answer None when the file's language has no grammar (or the text gives no tree): the
caller then uses its indentation rules.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Literal

from .languages import grammar_for_path, is_loaded, parse

if TYPE_CHECKING:
    from tree_sitter import Node

# Nodes a code action on an empty range is about: functions, methods, types.
DEFINITIONS = frozenset(
    {
        "function_definition",
        "function_declaration",
        "generator_function_declaration",
        "method_definition",
        "method_declaration",
        "constructor_declaration",
        "class_definition",
        "class_declaration",
        "abstract_class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "struct_declaration",
        "trait_declaration",
        "type_declaration",
        "function_item",
        "impl_item",
        "struct_item",
        "enum_item",
        "trait_item",
        "mod_item",
        "class_specifier",
        "struct_specifier",
        "namespace_definition",
        "method",
        "singleton_method",
        "class",
        "module",
        "func_literal",
        "arrow_function",
        "function_expression",
        "lambda_expression",
    }
)
# Around a definition: decorators, `export`, templates belong to it.
WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration"})
# A definition stored in a variable (`const f = () => {…}`) is the whole declaration.
_DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration"})
_OPEN = frozenset({"{", "(", "[", "${", "#{"})  # (template and string interpolations too)
_CLOSE = frozenset({"}", ")", "]"})
# Keywords that open a construct closed by `end` (Ruby), when they start their statement
# (`return x if y` is a modifier, not an opener).
_END_OPENERS = frozenset(
    {"def", "class", "module", "do", "begin", "case", "if", "unless", "while", "until", "for"}
)
# How much of the text before the cursor is parsed with a suggestion (from a line start).
PREFIX_LINES = 30


# The last trees of the documents asked about: an editor asks for code actions at every
# cursor move, and the document is the same (or one edit away) each time.
_TREES: OrderedDict[str, tuple[bytes, Any]] = OrderedDict()
KEPT_TREES = 8


def enclosing_block(
    text: str, path: str, line: int, *, load_grammar: bool = True
) -> tuple[int, int] | None:
    """First and last line (inclusive) of the nearest definition around ``line`` (with its
    decorators), else of the innermost statement spanning several lines, else the line
    itself; None when ``path``'s language has no grammar (or, without ``load_grammar``, its
    grammar is not loaded yet: compiling one may take half a second)."""
    grammar = grammar_for_path(path)
    if grammar is None or (not load_grammar and not is_loaded(grammar)):
        return None
    previous = _TREES.get(path)
    data = text.encode("utf-8", errors="replace")
    if previous is not None and previous[0] == data:
        tree = previous[1]
    else:
        parsed = parse(text, grammar, previous)
        if parsed is None:
            _TREES.pop(path, None)
            return None
        tree = parsed[0]
        _TREES[path] = (parsed[1], tree)
    _TREES.move_to_end(path)
    while len(_TREES) > KEPT_TREES:
        _TREES.popitem(last=False)
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    content = lines[line]
    column = len(content[: len(content) - len(content.lstrip())].encode("utf-8"))
    end_column = len(content.rstrip().encode("utf-8"))
    node: Node | None = tree.root_node.descendant_for_point_range(
        (line, column), (line, max(column, end_column))
    )
    innermost: Node | None = None
    while node is not None and node.parent is not None:
        if node.type in DEFINITIONS:
            while node.parent is not None and (
                node.parent.type in WRAPPERS or node.parent.type in _DECLARATIONS
            ):
                node = node.parent
            if node.parent is not None and node.parent.type == "variable_declarator":
                declaration = node.parent.parent
                node = declaration if declaration is not None else node
            return node.start_point.row, _last_row(node)
        multiline = node.end_point.row > node.start_point.row
        if innermost is None and multiline and not _is_body(node):
            innermost = node
        node = node.parent
    if innermost is not None:
        return innermost.start_point.row, _last_row(innermost)
    return line, line


def _last_row(node: Node) -> int:
    """A node ending at column 0 ends on the line before."""
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def _is_body(node: Node) -> bool:
    return any(word in node.type for word in ("block", "body", "list", "statement_block")) or (
        node.type in ("compound_statement", "ERROR")
    )


Verdict = int | None | Literal["defer"]


def construct_end(prefix: str, reply: str, path: str, suffix: str = "") -> Verdict:
    """Where a streamed suggestion is complete by its brackets, read with the grammar (a
    bracket in a string or comment is not one). Brackets count from the start of the
    cursor's line: the suggestion is complete at the end of the line where what the cursor's
    line and the suggestion opened has closed (``foo(`` … ``)``, ``if (x) {`` … ``}``), and
    stops before a line that closes a block opened above the cursor's line (it ran past its
    own). None: an opened construct is still open; "defer": the brackets say nothing (a
    balanced first line, or no grammar), the indentation rules decide. ``suffix``: the rest
    of the cursor's line (brackets the editor closed there are not the suggestion's)."""
    grammar = grammar_for_path(path)
    if grammar is None or not reply or not is_loaded(grammar):
        return "defer"  # (a grammar is loaded by the context gatherer, off the event loop)
    context = "\n".join(prefix[-20000:].split("\n")[-PREFIX_LINES:])
    parsed = parse(context + reply, grammar)
    if parsed is None:
        return "defer"
    tree, data, _ = parsed
    offset = len(context.encode("utf-8"))
    line_start = data.rfind(b"\n", 0, offset) + 1
    events = _brackets(tree.root_node, line_start, ends=grammar.name == "ruby")
    depth = sum(step for byte, step in events if byte < offset)
    # Brackets the editor already closed after the cursor (`foo(|)`): the suggestion only
    # fills them, it does not close them.
    closed_after = len(suffix) - len(suffix.lstrip(")]} \t"))
    depth = max(0, depth - sum(1 for c in suffix[:closed_after] if c in ")]}"))
    opened = depth > 0
    position = sum(1 for byte, _ in events if byte < offset)
    encoded = reply.encode("utf-8")
    for number, (start, end) in enumerate(_line_ends(data, offset)):
        lowest = depth
        while position < len(events) and events[position][0] < end:
            depth += events[position][1]
            lowest = min(lowest, depth)
            position += 1
        if lowest < 0 and depth <= 0:
            # Closes a block opened above the cursor's line: not this suggestion's.
            return max(0, len(encoded[: start - offset].decode("utf-8", "ignore")) - 1)
        if depth == 0 and opened:
            return len(encoded[: end - offset].decode("utf-8", "ignore"))
        if number == 0 and depth == 0:
            return "defer"  # a balanced first line: the brackets say nothing
        opened = opened or depth > 0  # a construct spans this line's end
    return None if depth > 0 else "defer"


def _line_ends(data: bytes, offset: int) -> list[tuple[int, int]]:
    """(start, end) byte ranges of the complete lines of the reply (ended by a newline)."""
    ranges: list[tuple[int, int]] = []
    start = offset
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            return ranges
        ranges.append((start, end))
        start = end + 1


def _brackets(root: Node, offset: int, *, ends: bool) -> list[tuple[int, int]]:
    """(byte, +1/-1) for each bracket token at or after ``offset``, in order; with ``ends``,
    keyword blocks closed by ``end`` too."""
    found: list[tuple[int, int]] = []
    cursor = root.walk()
    visited_children = False
    while True:
        node = cursor.node
        if node is None:
            break
        if not visited_children:
            if node.end_byte > offset and node.child_count == 0 and node.start_byte >= offset:
                if node.type in _OPEN:
                    found.append((node.start_byte, 1))
                elif node.type in _CLOSE and not node.is_missing:
                    found.append((node.start_byte, -1))
                elif not ends:
                    pass
                elif node.type == "end" and not node.is_missing:
                    found.append((node.start_byte, -1))
                elif node.type in _END_OPENERS and _opens_end_block(node):
                    found.append((node.start_byte, 1))
            if node.end_byte > offset and node.child_count > 0 and cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
            continue
        if not cursor.goto_parent():
            break
        visited_children = True
    return found


def _opens_end_block(node: Node) -> bool:
    """A Ruby keyword that starts its statement (not `x if y`, not `.class`)."""
    parent = node.parent
    if parent is None or parent.type.endswith("_modifier") or parent.type == "call":
        return False
    return parent.type == "ERROR" or parent.child(0) == node
