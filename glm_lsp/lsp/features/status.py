"""``glm.status {}``: usage so far by feature; the quota multiplier now for the Coding Plan."""

from __future__ import annotations

from typing import Any

from glm_lsp.glm.usage import is_coding_plan
from glm_lsp.lsp.features.next_edit.state import next_edit_counts
from glm_lsp.lsp.server import GlmLanguageServer

STATUS_COMMAND = "glm.status"


def register(server: GlmLanguageServer) -> None:
    @server.command(STATUS_COMMAND)
    async def status(ls: GlmLanguageServer, *args: Any) -> dict[str, object]:
        await ls.wait_configured()
        plan = is_coding_plan(ls.settings.effective_base_url())
        counts = next_edit_counts(ls)
        ls.show_info(
            ls.ledger.summary(coding_plan=plan)
            + f"\nNext edits: {counts['shown']} shown, {counts['accepted']} accepted"
            + f" ({counts['acceptRate']:.0%})."
        )
        snapshot = ls.ledger.snapshot(coding_plan=plan)
        snapshot["model"] = ls.settings.model
        snapshot["hasKey"] = ls.has_key()
        snapshot["nextEdit"] = next_edit_counts(ls)
        return snapshot
