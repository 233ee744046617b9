"""``glm.check {}``: run ``agent.checkCommand`` on the workspace as it is (the disk plus open
buffers), in a scratch copy, and show the result: a user sees that the check works before
the agent relies on it. The same consent and sandbox as the agent's ``run_check``
(:mod:`glm_lsp.agent.check_gate`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from glm_lsp.log import redact
from glm_lsp.lsp.server import GlmLanguageServer

if TYPE_CHECKING:
    from glm_lsp.agent.check import CheckResult, CheckSettings
    from glm_lsp.lsp.features.operation import Operation
    from glm_lsp.workspace import Workspace

CHECK_COMMAND = "glm.check"
# What the message shows of a failing check's output: its last lines.
MESSAGE_TAIL_LINES = 15
MESSAGE_TAIL_BYTES = 2000


def register(server: GlmLanguageServer) -> None:
    @server.command(CHECK_COMMAND)
    async def check(ls: GlmLanguageServer, *args: Any) -> dict[str, Any] | None:
        from glm_lsp.lsp.features.command_reply import (
            reply,  # a check can outlive Helix's and eglot's timeouts
        )

        return await reply(ls, lambda: run_check_command(ls))


async def run_check_command(ls: GlmLanguageServer) -> dict[str, Any]:
    """One check, its result shown and returned (``ran`` false when nothing ran, and why)."""
    from glm_lsp.agent.check import Permit, command_text
    from glm_lsp.agent.check_gate import allow_check, check_settings
    from glm_lsp.lsp.features.agent.run import open_documents, workspace_folders
    from glm_lsp.lsp.features.operation import run_operation
    from glm_lsp.workspace import Workspace

    await ls.wait_configured()
    settings = check_settings(ls.settings)
    if settings is None:
        ls.show_warning(
            "glm.check: no check is set; set glm.agent.checkCommand to an argv, e.g. "
            '["python", "-m", "pytest", "-q"].'
        )
        return {"ran": False, "reason": "glm.agent.checkCommand is empty"}
    folders = workspace_folders(ls, None)
    if not folders:
        ls.show_warning("glm.check needs a workspace folder (open a folder, not a single file).")
        return {"ran": False, "reason": "no workspace folder"}
    command = command_text(settings.argv)
    workspace = Workspace(
        folders,
        open_buffers={path: start.text for path, start in open_documents(ls).items()},
        exclude=ls.settings.agent.exclude,
    )
    answer = await allow_check(ls.asker, ls.consent, workspace.root, ls.settings, settings)
    if not isinstance(answer, Permit):
        ls.show_warning(f"glm.check: `{command}` was not run: {answer}.")
        return {"ran": False, "reason": "not allowed"}
    settings = replace(settings, sandboxed=answer.sandboxed)
    outcome = await run_operation(
        ls, f"GLM check: {command}", lambda op: _check(op, workspace, settings), feature="check"
    )
    if outcome is None:
        return {"ran": False, "reason": "cancelled or failed"}
    if isinstance(outcome, str):
        ls.show_warning(f"glm.check: {outcome}")
        return {"ran": False, "reason": outcome}
    _show(ls, outcome)
    return {
        "ran": True,
        "passed": outcome.passed,
        "exitCode": outcome.exit_code,
        "timedOut": outcome.timed_out,
        "seconds": round(outcome.seconds, 3),
        "output": redact(outcome.output),  # the editor never gets the key either
    }


async def _check(op: Operation, workspace: Workspace, settings: CheckSettings) -> CheckResult | str:
    from glm_lsp.agent.check import check_workspace
    from glm_lsp.workspace import WorkspaceError

    op.report("running check…")
    try:
        return await check_workspace(workspace, settings)
    except WorkspaceError as exc:  # it could not start: say why, as a message
        return str(exc)


def _show(ls: GlmLanguageServer, result: CheckResult) -> None:
    from glm_lsp.agent.check import command_text, tail_text

    command = command_text(result.argv)
    if result.passed:
        ls.show_info(f"Check passed: `{command}`, {result.headline()}.")
        return
    lines = result.output.rstrip("\n").splitlines()[-MESSAGE_TAIL_LINES:]
    tail = tail_text("\n".join(lines), MESSAGE_TAIL_BYTES)
    ls.show_warning(f"Check failed: `{command}`, {result.headline()}.\n{tail}".rstrip())
