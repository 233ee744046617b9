"""One agent request, from instruction to verdict, whatever the front door.

A front door (the LSP server's ``glm.agent``, the ACP agent's ``session/prompt``) gathers what
only it knows — the workspace folders, the open buffers, the file the user is in — into an
``AgentRequest``, and hands over the ``AgentPort``: how to ask the user and how to report
progress. This module sets up the confined workspace with its overlay, the project rules, the
check and its consent, runs the tool loop, and returns an ``AgentOutcome`` whose staged changes
the front door delivers in its own protocol (one WorkspaceEdit; diffs and one permission).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from glm_lsp.agent.check import CHECK_PROMPT, CheckRunner, CheckStatus, Permit
from glm_lsp.agent.check_gate import allow_check, check_settings
from glm_lsp.agent.loop import AgentEvents, AgentRun, run_agent
from glm_lsp.agent.prompt import CurrentFile, build_agent_messages
from glm_lsp.agent.tools import AgentTools, BufferSource, ExtraTools
from glm_lsp.context.rules import read_rules
from glm_lsp.context.target import instruction_comments
from glm_lsp.trust.asker import Asker
from glm_lsp.trust.consent import ConsentStore
from glm_lsp.workspace import Workspace, WorkspaceError

if TYPE_CHECKING:
    from glm_lsp.config import GlmSettings
    from glm_lsp.glm.client import GlmClient


class AgentPort(Protocol):
    """What the agent needs from the editor, whichever protocol it speaks."""

    asker: Asker
    consent: ConsentStore

    def report(self, message: str) -> None:
        """Show a progress message (thinking, the tool running, tokens so far)."""
        ...


@dataclass(frozen=True)
class Selection:
    """The file the user ran the agent from, and the 0-based lines they had selected."""

    path: Path
    first_line: int | None = None
    last_line: int | None = None  # inclusive


@dataclass
class AgentRequest:
    instruction: str
    folders: list[Path]
    open_buffers: dict[Path, str] = field(default_factory=dict)  # real path -> unsaved text
    selection: Selection | None = None
    # An editor that cannot list its unsaved buffers up front is asked per file (ACP).
    buffers: BufferSource | None = None
    events: AgentEvents | None = None  # streamed text, thoughts and tool calls (ACP)
    extra_tools: ExtraTools | None = None  # the user's MCP servers' tools for this run


@dataclass
class AgentOutcome:
    run: AgentRun
    workspace: Workspace
    comment: tuple[Path, int] | None  # the `glm:` comment line to remove (0-based)
    check: CheckStatus | None = None  # the last check's verdict; None: no check configured


async def run_agent_session(
    request: AgentRequest, settings: GlmSettings, client: GlmClient, port: AgentPort
) -> AgentOutcome:
    """Run the tool loop over a staged overlay; nothing is written anywhere."""
    agent = settings.agent
    workspace = Workspace(request.folders, open_buffers=request.open_buffers, exclude=agent.exclude)
    current, comment = current_file(workspace, request.selection)
    from glm_lsp.glm.models import ChatRequest  # lazy: pydantic is not needed to start

    check = check_runner(settings, port, workspace.root)
    rules = read_rules(workspace, settings.rules_files)  # confined like every read
    messages = build_agent_messages(request.instruction, workspace, current, rules=rules)
    if check is not None:
        add_check_rules(messages, check)
    chat = ChatRequest(
        model=settings.model,
        messages=messages,
        max_tokens=agent.max_tokens,
        thinking=agent.thinking,
        preserve_thinking=agent.preserve_thinking,
        temperature=settings.temperature,
    )
    tools = AgentTools(
        workspace,
        max_output_bytes=agent.max_tool_output_bytes,
        check=check,
        buffers=request.buffers,
        extra=request.extra_tools,
        max_tools=agent.max_tools,
    )
    try:
        run = await run_agent(
            client,
            chat,
            tools,
            max_iterations=agent.max_iterations,
            progress=port.report,
            events=request.events,
        )
    finally:
        if check is not None:  # its scratch copy goes with the run, cancelled or not
            await asyncio.shield(asyncio.to_thread(check.close))
    # Judged before the comment line goes: removing it is not a change the check missed.
    status = check.status(workspace) if check is not None else None
    if comment is not None and workspace.changes():
        remove_comment(workspace, *comment)
    return AgentOutcome(run, workspace, comment, status)


# -- the check -------------------------------------------------------------------------------


def check_runner(settings: GlmSettings, port: AgentPort, root: Path) -> CheckRunner | None:
    check = check_settings(settings)
    if check is None:
        return None

    async def allow() -> Permit | str:
        return await allow_check(port.asker, port.consent, root, settings, check, port.report)

    return CheckRunner(check, allow)


def add_check_rules(messages: list[dict[str, Any]], check: CheckRunner) -> None:
    """run_check's rules go at the end of the system prompt: the stable prefix stays."""
    for message in messages:
        if message.get("role") == "system" and isinstance(message.get("content"), str):
            message["content"] += CHECK_PROMPT.format(command=f"`{check.command}`")
            return


# -- the file the user is in -----------------------------------------------------------------


def current_file(
    workspace: Workspace, selection: Selection | None
) -> tuple[CurrentFile | None, tuple[Path, int] | None]:
    """The current file for the prompt, and the `glm:` comment line the run answers (when the
    selection is exactly one such line)."""
    if selection is None:
        return None, None
    try:
        real = workspace.resolve(str(selection.path))
        text = workspace.read_text(real)
    except WorkspaceError:
        return None, None
    if selection.first_line is None or selection.last_line is None:
        return CurrentFile(real), None
    first, last = selection.first_line, selection.last_line
    comments = instruction_comments(text.splitlines(), first, last)
    comment = (real, comments[0].line) if len(comments) == 1 and first == last else None
    return CurrentFile(real, first + 1, last + 1, instruction_comment=comment is not None), comment


def remove_comment(workspace: Workspace, path: Path, line: int) -> None:
    """Drop the `glm:` comment line from the result, wherever the run left it."""
    try:
        comment_text = workspace.base_text(path).splitlines()[line]
        text = workspace.read_text(path)
    except (WorkspaceError, IndexError):
        return
    changed = remove_line(text, comment_text, near=line)
    if changed != text:
        workspace.write(path, changed)


def remove_line(text: str, line_text: str, *, near: int) -> str:
    """``text`` without the line equal to ``line_text`` closest to line ``near`` (0-based);
    unchanged when there is no such line."""
    lines = text.splitlines(keepends=True)
    matches = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == line_text]
    if not matches:
        return text
    closest = min(matches, key=lambda i: abs(i - near))
    return "".join(lines[:closest] + lines[closest + 1 :])
