"""``glm.agent {instruction, uri?, range?}``: a tool-using GLM run whose whole result comes
back as ONE ``workspace/applyEdit`` the editor previews, applies and undoes as a unit.

The handler only wires things: the tool loop (``agent/loop.py``) runs over a staged overlay
(``agent/workspace.py``); ``features/apply.py`` turns the result into a versioned, rebased
edit; ``agent_edit.py`` adapts it to what the client can take.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glm_lsp.agent.check import (
    CHECK_PROMPT,
    CheckRunner,
    CheckSettings,
    command_text,
    consent_question,
    consent_subject,
)
from glm_lsp.agent.loop import AgentRun, ProgressFn, run_agent
from glm_lsp.agent.prompt import CurrentFile, build_agent_messages
from glm_lsp.agent.tools import AgentTools
from glm_lsp.context.rules import read_rules
from glm_lsp.context.target import instruction_comments
from glm_lsp.glm.usage import is_coding_plan, is_peak
from glm_lsp.lsp.features.agent.edit import (
    AgentParams,
    ClientEditSupport,
    apply_problem,
    changed_names,
    changes_for_apply,
    files_that_run,
    parse_agent_params,
    prepare_for_client,
    remove_line,
    runs_note,
)
from glm_lsp.lsp.features.apply import DocumentSnapshot, apply_changes, uri_to_path
from glm_lsp.lsp.features.operation import Operation, run_operation
from glm_lsp.lsp.server import GlmLanguageServer
from glm_lsp.workspace import Workspace, WorkspaceError

log = logging.getLogger(__name__)


@dataclass
class AgentOutcome:
    run: AgentRun
    workspace: Workspace
    starts: dict[Path, DocumentSnapshot]  # open documents when the run started, by real path
    comment: tuple[Path, int] | None  # the `glm:` comment line to remove (0-based)
    check: CheckRunner | None = None  # agent.checkCommand is set: run_check was offered


async def run_agent_command(ls: GlmLanguageServer, args: Sequence[Any]) -> dict[str, Any] | None:
    """``glm.agent {instruction, uri?, range?}``: one run, one WorkspaceEdit (or nothing)."""
    try:
        params = parse_agent_params(args)
    except ValueError as exc:
        ls.show_warning(f"glm.agent: {exc}")
        return None
    outcome = await run_operation(
        ls,
        agent_title(params.instruction, peak=_plan_peak(ls)),
        lambda op: _run(ls, op, params),
        feature="agent",
    )
    if outcome is None:  # cancelled or failed: already told, nothing applied
        return {"applied": False}
    return await _deliver(ls, params, outcome)


def _plan_peak(ls: GlmLanguageServer) -> bool:
    """Peak hours matter only on the Coding Plan, whose quota they multiply."""
    return is_coding_plan(ls.settings.effective_base_url()) and is_peak()


def agent_title(instruction: str, *, peak: bool | None = None) -> str:
    short = instruction if len(instruction) <= 48 else instruction[:47] + "…"
    peak_now = is_peak() if peak is None else peak
    return f"GLM agent: {short}" + (" (peak hours: 3× quota)" if peak_now else "")


async def _run(ls: GlmLanguageServer, op: Operation, params: AgentParams) -> AgentOutcome | None:
    starts = open_documents(ls)
    folders = workspace_folders(ls, params.uri)
    if not folders:
        ls.show_warning("glm.agent needs a workspace folder (open a folder, not a single file).")
        return None
    settings = ls.settings.agent
    workspace = Workspace(
        folders,
        open_buffers={path: start.text for path, start in starts.items()},
        exclude=settings.exclude,
    )
    current, comment = _current_file(workspace, params)
    from glm_lsp.glm.models import ChatRequest  # lazy: pydantic is not needed to start

    check = check_runner(ls, workspace, op.report)
    rules = read_rules(workspace, ls.settings.rules_files)  # confined like every read
    messages = build_agent_messages(params.instruction, workspace, current, rules=rules)
    if check is not None:
        _add_check_rules(messages, check)
    request = ChatRequest(
        model=ls.model_for("agent"),
        messages=messages,
        max_tokens=settings.max_tokens,
        thinking=settings.thinking,
        preserve_thinking=settings.preserve_thinking,
        temperature=ls.settings.temperature,
    )
    tools = AgentTools(workspace, max_output_bytes=settings.max_tool_output_bytes, check=check)
    try:
        run = await run_agent(
            ls.glm_client(),
            request,
            tools,
            max_iterations=settings.max_iterations,
            progress=op.report,
        )
    finally:
        if check is not None:  # its scratch copy goes with the run, cancelled or not
            await asyncio.shield(asyncio.to_thread(check.close))
    op.tokens_used = run.total_tokens
    return AgentOutcome(run, workspace, starts, comment, check)


def check_settings(ls: GlmLanguageServer) -> CheckSettings | None:
    """The check as the settings name it; None when ``agent.checkCommand`` is empty."""
    settings = ls.settings
    if not settings.agent.check_command:
        return None
    from glm_lsp.config import DEFAULT_KEY_ENVS

    return CheckSettings(
        tuple(settings.agent.check_command),
        timeout=settings.agent.check_timeout,
        max_output_bytes=settings.agent.max_tool_output_bytes,
        key_names=(*settings.key_env_names(), *DEFAULT_KEY_ENVS),
        key=settings.api_key(),
    )


async def allow_check(ls: GlmLanguageServer, root: Path, argv: Sequence[str]) -> str | None:
    """None when the user lets this command run in this folder (asked once, remembered in
    the user's state directory), else why not. Settings can name the command but never
    answer for the user."""
    from glm_lsp.trust.consent import CHECK, Answer, ask

    answer = await ask(ls, CHECK, consent_subject(root, argv), consent_question(root, argv))
    if answer is Answer.ALLOWED:
        return None
    if answer is Answer.UNSUPPORTED:
        return (
            "this editor cannot ask the user (no window/showMessageRequest), so it is not allowed"
        )
    if answer is Answer.DISMISSED:
        return "the user closed the question without allowing it"
    return "the user did not allow it"


def check_runner(
    ls: GlmLanguageServer, workspace: Workspace, report: ProgressFn
) -> CheckRunner | None:
    settings = check_settings(ls)
    if settings is None:
        return None

    async def allow() -> str | None:
        report(f"asking to run `{command_text(settings.argv)}`…")
        return await allow_check(ls, workspace.root, settings.argv)

    return CheckRunner(settings, allow)


def _add_check_rules(messages: list[dict[str, Any]], check: CheckRunner) -> None:
    """run_check's rules go at the end of the system prompt: the stable prefix stays."""
    for message in messages:
        if message.get("role") == "system" and isinstance(message.get("content"), str):
            message["content"] += CHECK_PROMPT.format(command=f"`{check.command}`")
            return


async def _deliver(
    ls: GlmLanguageServer, params: AgentParams, outcome: AgentOutcome
) -> dict[str, Any]:
    """Apply the run's result (or say why not) and return what happened."""
    run, workspace = outcome.run, outcome.workspace
    report: dict[str, Any] = {
        "applied": False,
        "files": [],
        "turns": run.turns,
        "tokens": run.total_tokens,
    }
    # Before the comment line is removed: that is not a change the check missed.
    check = outcome.check.status(workspace) if outcome.check is not None else None
    if check is not None:
        report["check"] = check.state
        report["checkStale"] = check.stale
    check_note = f" {check.sentence()}" if check is not None else ""
    partial = run.stopped == "max_iterations"
    if partial and not (ls.settings.agent.apply_partial_result and workspace.changes()):
        ls.show_warning(
            f"GLM agent stopped after {run.turns} turns (glm.agent.maxIterations) without "
            "finishing; nothing was applied. Try a narrower instruction or raise the limit."
            + check_note
        )
        return report
    if not workspace.changes():  # the instruction comment stays: nothing was done about it
        ls.show_info(f"GLM agent made no changes. {run.summary}".strip() + check_note)
        return report
    if outcome.comment is not None:
        _remove_comment(workspace, *outcome.comment)
    changes = workspace.changes()
    report["files"] = changed_names(workspace, changes)
    support = ClientEditSupport.of(ls.client_capabilities)
    problem = apply_problem(changes, support)
    if problem is not None:
        ls.show_warning(f"GLM agent: {problem}")
        return report
    runs = files_that_run(workspace, changes, outcome.starts)  # needsConfirmation, or named
    report["runsOnMachine"] = [run.name for run in runs.values()]
    label = f"GLM: {params.instruction}" + (" (partial)" if partial else "")
    if check is not None:
        label += f" ({check.label()})"
    applied = await apply_changes(
        ls,
        label,
        changes_for_apply(workspace, changes, outcome.starts),
        prepare=lambda edit: prepare_for_client(edit, support, runs),
    )
    report["applied"] = applied
    report["partial"] = partial
    if applied:
        names = ", ".join(report["files"])
        files = f"{len(report['files'])} file(s) ({names})"
        if partial:
            ls.show_warning(
                f"GLM agent stopped unfinished after {run.turns} turns (glm.agent.maxIterations)"
                f" and applied what it had staged (glm.agent.applyPartialResult): {files}, "
                f"{run.total_tokens:,} tokens. Review it; undo takes it all back.{check_note}"
                + runs_note(runs, support)
            )
        else:
            unconfirmed = runs_note(runs, support)
            (ls.show_warning if unconfirmed else ls.show_info)(
                f"GLM agent changed {files} in {run.turns} turns, "
                f"{run.total_tokens:,} tokens. {run.summary}".strip()
                + check_note
                + unconfirmed
            )
    return report


def open_documents(ls: GlmLanguageServer) -> dict[Path, DocumentSnapshot]:
    starts: dict[Path, DocumentSnapshot] = {}
    for document in list(ls.workspace.text_documents.values()):
        path = uri_to_path(document.uri)
        if path is not None:
            start = DocumentSnapshot(document.uri, document.version, document.source)
            starts[Path(path).resolve()] = start
    return starts


def workspace_folders(ls: GlmLanguageServer, uri: str | None) -> list[Path]:
    folders = [uri_to_path(f.uri) for f in ls.workspace.folders.values()]
    found = [p for p in folders if p is not None and p.is_dir()]
    if not found and ls.workspace.root_path:
        found = [Path(ls.workspace.root_path)]
    if not found and uri is not None:
        path = uri_to_path(uri)
        found = [path.parent] if path is not None else []
    return found


def _current_file(
    workspace: Workspace, params: AgentParams
) -> tuple[CurrentFile | None, tuple[Path, int] | None]:
    path = uri_to_path(params.uri) if params.uri else None
    if path is None:
        return None, None
    try:
        real = workspace.resolve(str(path))
        text = workspace.read_text(real)
    except WorkspaceError:
        return None, None
    if params.range is None:
        return CurrentFile(real), None
    first, last = params.range.start.line, params.range.end.line
    if last > first and params.range.end.character == 0:
        last -= 1  # a range ending at a line's start does not cover that line
    comments = instruction_comments(text.splitlines(), first, last)
    comment = (real, comments[0].line) if len(comments) == 1 and first == last else None
    return CurrentFile(real, first + 1, last + 1, instruction_comment=comment is not None), comment


def _remove_comment(workspace: Workspace, path: Path, line: int) -> None:
    """Drop the `glm:` comment line from the result, wherever the run left it."""
    try:
        comment_text = workspace.base_text(path).splitlines()[line]
        text = workspace.read_text(path)
    except (WorkspaceError, IndexError):
        return
    changed = remove_line(text, comment_text, near=line)
    if changed != text:
        workspace.write(path, changed)
