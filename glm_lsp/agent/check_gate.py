"""The way to a check, for any front door: the settings as the check needs them, and the
user's permission (the questions of :mod:`glm_lsp.agent.check_consent`, asked through the
front door's :class:`~glm_lsp.trust.asker.Asker`, remembered in the consent store)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from glm_lsp.agent.check import CheckSettings, Permit
from glm_lsp.agent.check_consent import CheckRequest, decide, workspace_identity
from glm_lsp.agent.check_sandbox import SandboxOptions, sandbox_problem
from glm_lsp.trust.asker import Asker
from glm_lsp.trust.consent import Answer, ConsentStore, ask, state_dir

if TYPE_CHECKING:
    from glm_lsp.config import GlmSettings

_MB = 1024 * 1024


def check_settings(settings: GlmSettings) -> CheckSettings | None:
    """The check as the settings name it; None when ``agent.checkCommand`` is empty."""
    agent = settings.agent
    if not agent.check_command:
        return None
    from platformdirs import user_config_dir

    from glm_lsp.config import DEFAULT_KEY_ENVS

    return CheckSettings(
        tuple(agent.check_command),
        timeout=agent.check_timeout,
        max_output_bytes=agent.max_tool_output_bytes,
        key_names=(*settings.key_env_names(), *DEFAULT_KEY_ENVS),
        key=settings.api_key(),
        sandboxed=agent.check_sandbox == "required",
        sandbox=SandboxOptions(
            network=agent.check_network,
            read_paths=tuple(agent.check_read_paths),
            private_dirs=(str(state_dir()), user_config_dir("glm-lsp")),
        ),
        extra_env=tuple(sorted(agent.check_env.items())),
        memory_bytes=agent.check_memory_mb * _MB,
        write_bytes=agent.check_write_mb * _MB,
    )


async def allow_check(
    asker: Asker,
    consent: ConsentStore,
    root: Path,
    settings: GlmSettings,
    check: CheckSettings,
    report: Callable[[str], None] = lambda _: None,
) -> Permit | str:
    """A Permit when the user lets this check run (sandboxed, or after the full-rights
    question not), else why not. Asked once per workspace identity and argv; settings can
    name the command but never answer for the user."""

    async def ask_user(kind: str, subject: str, question: str) -> str | None:
        answer = await ask(asker, consent, kind, subject, question)
        if answer is Answer.ALLOWED:
            return None
        if answer is Answer.UNSUPPORTED:
            return "this editor cannot ask the user, so it is not allowed"
        if answer is Answer.DISMISSED:
            return "the user closed the question without allowing it"
        return "the user did not allow it"

    decision = await decide(
        check_request(root, settings, check),
        ask_user,
        identity=lambda request: asyncio.to_thread(workspace_identity, request),
        sandbox_problem=lambda: asyncio.to_thread(sandbox_problem),
        report=report,
    )
    if decision.refusal is not None:
        return decision.refusal
    return Permit(sandboxed=decision.sandboxed)


def check_request(root: Path, settings: GlmSettings, check: CheckSettings) -> CheckRequest:
    agent = settings.agent
    return CheckRequest(
        root=root,
        argv=check.argv,
        sandbox=agent.check_sandbox,
        network=agent.check_network,
        read_paths=tuple(agent.check_read_paths),
        env=check.extra_env,
        path_env=os.environ.get("PATH", os.defpath),
    )
