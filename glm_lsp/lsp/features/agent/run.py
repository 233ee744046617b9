"""``glm.agent {instruction, uri?, range?}``: a tool-using GLM run whose whole result comes
back as ONE ``workspace/applyEdit`` the editor previews, applies and undoes as a unit.

The LSP adapter of the agent core: it gathers the folders, open documents and selection, runs
``agent/session.py`` with this editor as the port, and delivers the staged changes through
``lsp/features/apply.py`` (a versioned, rebased edit) as ``edit.py`` adapts them to what the
client can take.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glm_lsp.agent.session import (
    AgentOutcome,
    AgentRequest,
    Selection,
    run_agent_session,
)
from glm_lsp.agent.verdict import edit_label, final_message
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
    runs_note,
)
from glm_lsp.lsp.features.apply import DocumentSnapshot, apply_changes, uri_to_path
from glm_lsp.lsp.features.operation import Operation, run_operation
from glm_lsp.lsp.server import GlmLanguageServer
from glm_lsp.trust.asker import Asker
from glm_lsp.trust.consent import ConsentStore

log = logging.getLogger(__name__)


@dataclass
class LspRun:
    """An agent run as the LSP front door keeps it: the core's outcome, and the open
    documents as they were when it started (the edit is versioned against them)."""

    outcome: AgentOutcome
    starts: dict[Path, DocumentSnapshot]  # by real path


@dataclass
class LspAgentPort:
    """The agent core's port, served by the LSP server and this command's progress."""

    asker: Asker
    consent: ConsentStore
    op: Operation

    def report(self, message: str) -> None:
        self.op.report(message)


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


async def _run(ls: GlmLanguageServer, op: Operation, params: AgentParams) -> LspRun | None:
    starts = open_documents(ls)
    folders = workspace_folders(ls, params.uri)
    if not folders:
        ls.show_warning("glm.agent needs a workspace folder (open a folder, not a single file).")
        return None
    from glm_lsp.lsp.features.agent.mcp import mcp_tools_for_run

    request = AgentRequest(
        params.instruction,
        folders,
        open_buffers={path: start.text for path, start in starts.items()},
        selection=_selection(params),
        extra_tools=await mcp_tools_for_run(ls, folders, op.report),  # started at the first run
    )
    port = LspAgentPort(ls.asker, ls.consent, op)
    outcome = await run_agent_session(request, ls.settings, ls.glm_client(), port)
    op.tokens_used = outcome.run.total_tokens
    return LspRun(outcome, starts)


def _selection(params: AgentParams) -> Selection | None:
    path = uri_to_path(params.uri) if params.uri else None
    if path is None:
        return None
    if params.range is None:
        return Selection(path)
    first, last = params.range.start.line, params.range.end.line
    if last > first and params.range.end.character == 0:
        last -= 1  # a range ending at a line's start does not cover that line
    return Selection(path, first, last)


async def _deliver(ls: GlmLanguageServer, params: AgentParams, lsp_run: LspRun) -> dict[str, Any]:
    """Apply the run's result (or say why not) and return what happened."""
    outcome, starts = lsp_run.outcome, lsp_run.starts
    run, workspace = outcome.run, outcome.workspace
    report: dict[str, Any] = {
        "applied": False,
        "files": [],
        "turns": run.turns,
        "tokens": run.total_tokens,
    }
    check = outcome.check
    if check is not None:
        report["check"] = check.state
        report["checkStale"] = check.stale
    check_note = check.sentence() if check is not None else ""
    partial = run.stopped != "done"
    if partial and not (ls.settings.agent.apply_partial_result and workspace.changes()):
        ls.show_warning(
            final_message(
                [check_note],
                f"GLM agent stopped after {run.turns} turns ({run.stop_reason()}) without "
                "finishing; nothing was applied. Try a narrower instruction or raise the limit.",
                "",
            )
        )
        return report
    if not workspace.changes():  # the instruction comment stays: nothing was done about it
        ls.show_info(final_message([check_note], "GLM agent made no changes.", run.summary))
        return report
    changes = workspace.changes()
    report["files"] = changed_names(workspace, changes)
    support = ClientEditSupport.of(ls.client_capabilities)
    problem = apply_problem(changes, support)
    if problem is not None:
        ls.show_warning(f"GLM agent: {problem}")
        return report
    runs = files_that_run(workspace, changes, starts)  # needsConfirmation, or named
    report["runsOnMachine"] = [run.name for run in runs.values()]
    flags = [check.label() if check is not None else "", "partial" if partial else ""]
    if runs:
        flags.append(f"changes what runs: {', '.join(run.name for run in runs.values())}")
    applied = await apply_changes(
        ls,
        edit_label(params.instruction, flags),
        changes_for_apply(workspace, changes, starts),
        prepare=lambda edit: prepare_for_client(edit, support, runs),
    )
    report["applied"] = applied
    report["partial"] = partial
    if applied:
        names = ", ".join(report["files"])
        files = f"{len(report['files'])} file(s) ({names})"
        unconfirmed = runs_note(runs, support)
        if partial:
            ls.show_warning(
                final_message(
                    [check_note, unconfirmed],
                    f"GLM agent stopped unfinished after {run.turns} turns "
                    f"({run.stop_reason()}) and applied what it had staged "
                    f"(glm.agent.applyPartialResult): {files}, {run.total_tokens:,} tokens. "
                    "Review it; undo takes it all back.",
                    "",
                )
            )
        else:
            (ls.show_warning if unconfirmed else ls.show_info)(
                final_message(
                    [check_note, unconfirmed],
                    f"GLM agent changed {files} in {run.turns} turns, {run.total_tokens:,} tokens.",
                    run.summary,
                )
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
