"""LSP shapes of a suggestion: inline items, completion items, advertised capabilities."""

from __future__ import annotations

from lsprotocol import types

from glm_lsp.completion.cursor import cursor_at
from glm_lsp.lsp.features.completion.handlers import adjust_capabilities
from glm_lsp.lsp.features.completion.items import (
    completion_list,
    escape_snippet,
    first_line,
    inline_completion_list,
    relative_to_line_indent,
)

AT = types.Position(line=1, character=7)


def test_no_text_means_no_items() -> None:
    cursor = cursor_at("a.py", "python", "x = \n", 4)
    assert inline_completion_list(None, AT).items == []
    assert completion_list(None, AT, cursor, snippets=True).items == []


def test_inline_item_inserts_at_the_cursor() -> None:
    [item] = inline_completion_list("a + b", AT).items
    assert item.insert_text == "a + b"
    assert item.range == types.Range(start=AT, end=AT)


def test_plain_item_keeps_absolute_indentation_and_filters_by_the_typed_word() -> None:
    source = "def f(x):\n    ret\n"
    cursor = cursor_at("a.py", "python", source, source.index("ret") + 3)
    [item] = completion_list("urn x", AT, cursor, snippets=False).items
    assert item.label == "return x"  # what the menu shows: the word typed, completed
    assert item.filter_text == "return x"
    assert item.insert_text_format == types.InsertTextFormat.PlainText
    assert item.text_edit == types.TextEdit(range=types.Range(start=AT, end=AT), new_text="urn x")


def test_snippet_item_is_escaped_and_relative_to_the_line() -> None:
    source = "class A:\n    def f(self):\n        \n"
    cursor = cursor_at("a.py", "python", source, source.rindex("        ") + 8)
    text = 'if x:\n            return "$1 {}"\n        return 0'
    [item] = completion_list(text, AT, cursor, snippets=True).items
    assert item.insert_text_format == types.InsertTextFormat.Snippet
    assert item.insert_text_mode == types.InsertTextMode.AdjustIndentation
    assert isinstance(item.text_edit, types.TextEdit)
    assert item.text_edit.new_text == 'if x:\n    return "\\$1 {\\}"\nreturn 0'


def test_label_is_the_first_line_with_content() -> None:
    assert first_line("\n    return 1\n    x") == "return 1"
    assert first_line("a + b") == "a + b"


def test_relative_lines_that_dedent_below_the_line_lose_their_indentation() -> None:
    cursor = cursor_at("a.js", "javascript", "  if (x) {\n", len("  if (x) {"))
    assert relative_to_line_indent("\n    a();\n}", cursor) == "\n  a();\n}"


def test_escape_snippet() -> None:
    assert escape_snippet(r"${a}\n") == r"\${a\}\\n"


def test_capabilities_offer_inline_only_to_clients_that_declare_it() -> None:
    def server_caps() -> types.ServerCapabilities:
        return types.ServerCapabilities(
            completion_provider=types.CompletionOptions(),
            inline_completion_provider=types.InlineCompletionOptions(),
        )

    inline_client = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities()
        )
    )
    caps = server_caps()
    adjust_capabilities(inline_client, caps)
    assert caps.inline_completion_provider is not None and caps.completion_provider is None

    caps = server_caps()
    adjust_capabilities(types.ClientCapabilities(), caps)
    assert caps.inline_completion_provider is None and caps.completion_provider is not None
