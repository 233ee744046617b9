"""The agent core's ports, served over ACP: questions are ``session/request_permission``,
unsaved buffers come from ``fs/read_text_file``, and the run streams as session updates."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from acp import helpers
from acp.interfaces import Client
from acp.schema import (
    AllowedOutcome,
    PermissionOption,
    PermissionOptionKind,
    ToolCallLocation,
    ToolCallUpdate,
)

from glm_lsp.agent.tools import AgentTools
from glm_lsp.glm.events import ToolCall
from glm_lsp.log import redact
from glm_lsp.trust.asker import AskUnsupported

log = logging.getLogger(__name__)

# How long a read of the editor's buffer may take before the disk's text is used instead.
READ_TIMEOUT_S = 10.0
# What a tool call's update shows of its output (the model gets all of it).
TOOL_OUTPUT_SHOWN = 2_000

TOOL_KINDS = {
    "read_file": "read",
    "list_files": "search",
    "search": "search",
    "write_file": "edit",
    "edit_file": "edit",
    "delete_file": "delete",
    "rename_file": "move",
    "run_check": "execute",
}


class AcpAsker:
    """A trust question as a permission request: each action is an option."""

    def __init__(self, conn: Client, session_id: str) -> None:
        self._conn = conn
        self._session_id = session_id
        self._count = 0

    async def ask(self, question: str, actions: Sequence[str]) -> str | None:
        self._count += 1
        options = [
            PermissionOption(option_id=f"option-{index}", name=title, kind=_option_kind(title))
            for index, title in enumerate(actions)
        ]
        tool_call = ToolCallUpdate(
            tool_call_id=f"glm-question-{self._count}", title=question, kind="other"
        )
        try:
            response = await self._conn.request_permission(
                session_id=self._session_id, tool_call=tool_call, options=options
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise AskUnsupported(f"session/request_permission failed: {exc}") from exc
        outcome = response.outcome
        if not isinstance(outcome, AllowedOutcome):
            return None  # cancelled
        for option in options:
            if option.option_id == outcome.option_id:
                return option.name
        return None


def _option_kind(title: str) -> PermissionOptionKind:
    """How the editor should present an answer: "Allow" is remembered (consent), so it is an
    allow-always; "Allow once" is not; anything else declines."""
    lowered = title.lower()
    if lowered == "allow once":
        return "allow_once"
    if lowered.startswith(("allow", "always allow")):
        return "allow_always"
    return "reject_once"


class ClientBuffers:
    """The editor's text of a file, unsaved changes included (``fs/read_text_file``)."""

    def __init__(self, conn: Client, session_id: str) -> None:
        self._conn = conn
        self._session_id = session_id

    async def read(self, path: Path) -> str | None:
        try:
            response = await asyncio.wait_for(
                self._conn.read_text_file(session_id=self._session_id, path=str(path)),
                READ_TIMEOUT_S,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # no such file yet, or the client failed: the disk decides
            log.debug("fs/read_text_file %s: %s", path, exc)
            return None
        content = getattr(response, "content", None)
        return content if isinstance(content, str) else None


class SessionUpdates:
    """The run as ACP session updates, sent in order by one sender task.

    The loop's callbacks are synchronous; they queue updates, and ``flush`` waits until the
    client has been sent everything queued so far."""

    def __init__(self, conn: Client, session_id: str, workspace_root: Path) -> None:
        self._conn = conn
        self._session_id = session_id
        self._root = workspace_root
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._sender = asyncio.ensure_future(self._send_all())

    async def _send_all(self) -> None:
        while True:
            update = await self._queue.get()
            try:
                await self._conn.session_update(session_id=self._session_id, update=update)
            except Exception as exc:  # a client that cannot take an update must not stop the run
                log.info("session/update failed: %s", exc)
            finally:
                self._queue.task_done()

    def send(self, update: Any) -> None:
        self._queue.put_nowait(update)

    async def flush(self) -> None:
        await self._queue.join()

    async def close(self) -> None:
        self._sender.cancel()
        await asyncio.gather(self._sender, return_exceptions=True)

    # -- AgentEvents -------------------------------------------------------------------------
    def text(self, delta: str) -> None:
        if delta:
            self.send(helpers.update_agent_message_text(redact(delta)))

    def thought(self, delta: str) -> None:
        if delta:
            self.send(helpers.update_agent_thought_text(redact(delta)))

    async def tool_started(self, call: ToolCall) -> None:
        arguments = _arguments(call.arguments)
        self.send(
            helpers.start_tool_call(
                call.id,
                AgentTools.activity(call.name, call.arguments),
                kind=TOOL_KINDS.get(call.name, "other"),  # type: ignore[arg-type]
                status="in_progress",
                locations=self._locations(arguments),
                raw_input=arguments,
            )
        )

    def tool_finished(self, call: ToolCall, output: str) -> None:
        failed = output.startswith("error:")
        shown = output if len(output) <= TOOL_OUTPUT_SHOWN else output[:TOOL_OUTPUT_SHOWN] + "…"
        self.send(
            helpers.update_tool_call(
                call.id,
                status="failed" if failed else "completed",
                content=[helpers.tool_content(helpers.text_block(redact(shown)))],
            )
        )

    def _locations(self, arguments: dict[str, Any]) -> list[ToolCallLocation] | None:
        """Where the editor can follow the call: paths inside the workspace only (the tool
        itself enforces the confinement; this is display)."""
        found = []
        for key in ("path", "new_path"):
            raw = arguments.get(key)
            if not isinstance(raw, str) or not raw or "\x00" in raw:
                continue
            path = Path(os.path.normpath(self._root / raw))
            if path.is_relative_to(self._root):
                found.append(ToolCallLocation(path=str(path)))
        return found or None


def _arguments(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
