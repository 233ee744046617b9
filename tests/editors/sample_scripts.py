"""Fake GLM scripts shared by the real-editor tests, against tests/editors/sample_workspace."""

from __future__ import annotations

from tests.fake_glm import FakeGlm, Reply


def script_type_hints_agent(fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(
            tool_calls=[
                {
                    "name": "edit_file",
                    "arguments": {
                        "path": "calc.py",
                        "old_text": "def add(a, b):",
                        "new_text": "def add(a: float, b: float) -> float:",
                    },
                },
                {
                    "name": "edit_file",
                    "arguments": {
                        "path": "util.py",
                        "old_text": "def clamp(value, low, high):",
                        "new_text": "def clamp(value: float, low: float, high: float) -> float:",
                    },
                },
            ]
        ),
        Reply(text="Added type hints to add() and clamp()."),
    )


NEW_TEST_FILE = "tests/test_calc.py"
NEW_TEST_TEXT = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def script_edit_and_create_agent(fake_glm: FakeGlm) -> None:
    """One turn edits calc.py and creates tests/test_calc.py (a folder that does not exist)."""
    fake_glm.enqueue(
        Reply(
            tool_calls=[
                {
                    "name": "edit_file",
                    "arguments": {
                        "path": "calc.py",
                        "old_text": "def add(a, b):",
                        "new_text": "def add(a: float, b: float) -> float:",
                    },
                },
                {
                    "name": "write_file",
                    "arguments": {"path": NEW_TEST_FILE, "content": NEW_TEST_TEXT},
                },
            ]
        ),
        Reply(text="Added type hints to add() and a test for it."),
    )


def script_three_turn_agent(fake_glm: FakeGlm) -> None:
    """Read calc.py, edit it, say what was done: three turns, streamed slowly enough that
    progress reports arrive between them."""
    slow = {"first_token_delay": 0.2, "chunk_delay": 0.05, "chunk_size": 3}
    read = {"name": "read_file", "arguments": {"path": "calc.py"}}
    edit = {
        "name": "edit_file",
        "arguments": {
            "path": "calc.py",
            "old_text": "def add(a, b):",
            "new_text": "def add(a: float, b: float) -> float:",
        },
    }
    fake_glm.enqueue(
        Reply(tool_calls=[read], **slow),
        Reply(tool_calls=[edit], **slow),
        Reply(text="Added type hints to add(); nothing else changed in calc.py.", **slow),
    )
