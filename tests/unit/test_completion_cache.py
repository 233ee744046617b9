"""The typeahead cache answers keystrokes that type through a shown suggestion."""

from __future__ import annotations

from glm_lsp.completion.cache import Anchor, TypeaheadCache

URI = "file:///w/app.py"


def test_typing_the_start_of_a_suggestion_returns_the_rest() -> None:
    cache = TypeaheadCache()
    cache.remember(URI, Anchor(3, "    return ", ""), "a + b")
    assert cache.lookup(URI, Anchor(3, "    return ", "")) == "a + b"
    assert cache.lookup(URI, Anchor(3, "    return a", "")) == " + b"
    assert cache.lookup(URI, Anchor(3, "    return a + ", "")) == "b"


def test_typing_something_else_misses() -> None:
    cache = TypeaheadCache()
    cache.remember(URI, Anchor(3, "    return ", ""), "a + b")
    assert cache.lookup(URI, Anchor(3, "    return x", "")) is None


def test_typing_all_of_it_misses() -> None:
    cache = TypeaheadCache()
    cache.remember(URI, Anchor(3, "    return ", ""), "a + b")
    assert cache.lookup(URI, Anchor(3, "    return a + b", "")) is None


def test_other_line_or_changed_suffix_misses() -> None:
    cache = TypeaheadCache()
    cache.remember(URI, Anchor(3, "print(", ")"), "x")
    assert cache.lookup(URI, Anchor(4, "print(", ")")) is None
    assert cache.lookup(URI, Anchor(3, "print(", "))")) is None
    assert cache.lookup("file:///w/other.py", Anchor(3, "print(", ")")) is None


def test_newest_suggestion_wins() -> None:
    cache = TypeaheadCache()
    cache.remember(URI, Anchor(1, "x = ", ""), "1")
    cache.remember(URI, Anchor(1, "x = ", ""), "2")
    assert cache.lookup(URI, Anchor(1, "x = ", "")) == "2"


def test_bounded_per_document_and_in_documents() -> None:
    cache = TypeaheadCache(max_documents=2, max_per_document=3)
    for line in range(10):
        cache.remember(URI, Anchor(line, "", ""), f"line {line}")
    assert len(cache) == 3
    assert cache.lookup(URI, Anchor(0, "", "")) is None
    assert cache.lookup(URI, Anchor(9, "", "")) == "line 9"
    cache.remember("file:///b", Anchor(0, "", ""), "b")
    cache.remember("file:///c", Anchor(0, "", ""), "c")
    assert cache.lookup(URI, Anchor(9, "", "")) is None  # least recently used went first
    assert cache.lookup("file:///c", Anchor(0, "", "")) == "c"


def test_forget_drops_a_document() -> None:
    cache = TypeaheadCache()
    cache.remember(URI, Anchor(0, "", ""), "x")
    cache.forget(URI)
    assert cache.lookup(URI, Anchor(0, "", "")) is None
