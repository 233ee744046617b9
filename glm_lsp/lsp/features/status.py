"""``glm.status {}``: usage so far by feature; on the Coding Plan, the quota multiplier now and
the plan's 5-hour and weekly limits (or "quota unknown")."""

from __future__ import annotations

import logging
from typing import Any

from glm_lsp.lsp.server import GlmLanguageServer

log = logging.getLogger(__name__)

STATUS_COMMAND = "glm.status"


def register(server: GlmLanguageServer) -> None:
    @server.command(STATUS_COMMAND)
    async def status(ls: GlmLanguageServer, *args: Any) -> dict[str, object]:
        # Loaded on first use: the quota client (httpx) and the next-edit state are not
        # needed to answer initialize.
        from glm_lsp.glm.quota import UNKNOWN, describe
        from glm_lsp.glm.usage import is_coding_plan
        from glm_lsp.lsp.features.next_edit.state import next_edit_counts

        await ls.wait_configured()
        plan = is_coding_plan(ls.settings.effective_base_url())
        snapshot = ls.ledger.snapshot(coding_plan=plan)
        counts = next_edit_counts(ls)
        summary = (
            ls.ledger.summary(coding_plan=plan)
            + f"\nNext edits: {counts['shown']} shown, {counts['accepted']} accepted"
            + f" ({counts['acceptRate']:.0%})."
        )
        if plan:
            limits = await _quota(ls)
            snapshot["quota"] = [limit.as_json() for limit in limits] if limits else UNKNOWN
            summary += "\n" + describe(limits)
        ls.show_info(summary)
        snapshot["model"] = ls.settings.model
        snapshot["hasKey"] = ls.has_key()
        snapshot["nextEdit"] = counts
        return snapshot


async def _quota(ls: GlmLanguageServer) -> list[Any] | None:
    """The plan's limits; None (shown as "quota unknown") whatever goes wrong."""
    from glm_lsp.glm.errors import GlmError

    if not ls.has_key():
        return None
    try:
        return await ls.glm_client().quota()
    except GlmError as exc:  # no consent for the host yet, ...: unknown, never an error
        log.info("quota unknown: %s", exc.user_message)
        return None
