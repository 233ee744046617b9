"""The server's own verdict goes first, the model's words after it, bounded.

The model's summary is text a model wrote: it may say "The last check passed", then 60 blank
lines, and only then would the server's real "check failed" note come (in Helix and Emacs
that note is the only warning). So the final message and the applyEdit label start with
what the server knows (check passed/failed/not run, unfinished, files that run on the
machine); the summary follows, blank runs collapsed and cut to :data:`SUMMARY_MAX_CHARS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SUMMARY_MAX_CHARS = 600
INSTRUCTION_MAX_CHARS = 200
_BLANK_RUN = re.compile(r"\n[ \t\r]*(?:\n[ \t\r]*)+")  # each step starts at a \n: linear


def model_summary(text: str, max_chars: int = SUMMARY_MAX_CHARS) -> str:
    """``text`` with every run of blank lines made one line break, cut to ``max_chars``."""
    text = _BLANK_RUN.sub("\n", text[: max_chars * 4]).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "…"
    return text


def final_message(verdict: Sequence[str], report: str, summary: str) -> str:
    """The server's sentences, then what it did, then the model's summary (marked as GLM's)."""
    said = model_summary(summary)
    parts = [*(v.strip() for v in verdict if v.strip()), report.strip()]
    if said:
        parts.append(f"GLM's summary: {said}")
    return " ".join(part for part in parts if part)


def edit_label(instruction: str, verdict: Sequence[str]) -> str:
    """``GLM (check failed; partial): <instruction>``: the verdict before anything else."""
    shown = model_summary(instruction, INSTRUCTION_MAX_CHARS).replace("\n", " ")
    flags = "; ".join(v for v in verdict if v)
    return f"GLM ({flags}): {shown}" if flags else f"GLM: {shown}"
