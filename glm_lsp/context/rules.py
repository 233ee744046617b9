"""Project rules files (``AGENTS.md``, ``CLAUDE.md``, ``.github/copilot-instructions.md``):
what the project tells every assistant, read the way the agent reads and bounded, for the
system prompt of code actions and the agent."""

from __future__ import annotations

from collections.abc import Sequence

from glm_lsp.workspace import Workspace, WorkspaceError

RULES_LIMIT_BYTES = 8 * 1024
RULES_HEADER = "The project's rules for assistants (follow them where they apply):"


def read_rules(workspace: Workspace, names: Sequence[str]) -> str:
    """The rules block for the system prompt: each listed file that exists and the agent may
    read (never an ``agent.exclude``d, ``.git/`` or outside path), in order, the whole block
    at most :data:`RULES_LIMIT_BYTES` bytes of UTF-8; empty when there are none."""
    parts: list[str] = []
    left = RULES_LIMIT_BYTES - len(RULES_HEADER.encode("utf-8")) - 2
    for name in dict.fromkeys(names):
        try:
            text = workspace.read_text(workspace.resolve(name))
        except WorkspaceError:  # excluded, outside, missing, binary: never sent
            continue
        text = text.replace("\r\n", "\n").strip()
        if not text:
            continue
        piece = f"## {workspace.display(workspace.resolve(name))}\n{text}".encode()
        separator = 2 if parts else 0
        if len(piece) + separator > left:
            piece = piece[: max(0, left - separator)]
        if not piece:
            break
        parts.append(piece.decode("utf-8", errors="ignore"))
        left -= len(parts[-1].encode("utf-8")) + separator
        if left <= 0:
            break
    return f"{RULES_HEADER}\n\n" + "\n\n".join(parts) if parts else ""


def with_rules(system_prompt: str, rules: str) -> str:
    """The system prompt with the rules after it: both stable, so the cached prefix holds."""
    return f"{system_prompt}\n\n{rules}" if rules else system_prompt
