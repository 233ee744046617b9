"""Where the editors live, and settings sections flattened to `glm.a.b` keys and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EDITORS = Path(__file__).resolve().parents[2] / "editors"


def flatten(section: dict[str, Any], prefix: str = "glm") -> dict[str, Any]:
    """``{"completion": {"enabled": True}}`` -> ``{"glm.completion.enabled": True}``."""
    flat: dict[str, Any] = {}
    for key, value in section.items():
        if isinstance(value, dict) and value:  # an empty one is a setting's value ({})
            flat.update(flatten(value, f"{prefix}.{key}"))
        else:
            flat[f"{prefix}.{key}"] = value
    return flat


def nest(flat: dict[str, Any], prefix: str = "glm.") -> dict[str, Any]:
    """The inverse of :func:`flatten`: the section an editor sends to the server."""
    section: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.removeprefix(prefix).split(".")
        node = section
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return section
