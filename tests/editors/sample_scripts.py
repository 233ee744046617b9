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
