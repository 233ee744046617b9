"""Reading GLM's stream (glm/sse.py, glm/chunks.py): events, frames, finishes and damaged chunks."""

from __future__ import annotations
