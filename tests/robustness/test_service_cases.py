"""GLM as the service behaves now, each behaviour through the real server (the rows of
docs/faults.md, "GLM as the service behaves now"): the requests the fake received with the
`thinking` and `reasoning_effort` of each body, the one message, the progress shown, what the
edit or suggestion carries (nothing when the case fails), and the server answers after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from glm_lsp.trust.consent import STATE_DIR_ENV
from tests.fake_glm import BASE_PATH, FakeGlm
from tests.robustness.fault_cases import CODE, MAX_RETRIES, NONE, SERVICE_CASES, ServiceCase
from tests.robustness.raw_lsp import RawLsp, raw_server
from tests.robustness.test_upstream_faults import open_document, told

pytestmark = pytest.mark.asyncio(loop_scope="module")

WHOLE_FILE = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}
BASE_SETTINGS = {"maxRetries": MAX_RETRIES, "completion": {"debounceMs": 0}}
RAW_CLIENT_REFUSAL = "did not apply the change: raw test client"
FAKE_DEFAULTS = {"always_thinking": None, "quota_status": 200}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGlm]:
    with FakeGlm() as fake:
        yield fake


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lsp(fake: FakeGlm, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RawLsp]:
    workspace = tmp_path_factory.mktemp("service")
    (workspace / "calc.py").write_text(CODE)
    env = {STATE_DIR_ENV: str(tmp_path_factory.mktemp("state")), "TZ": "UTC"}
    settings = {**BASE_SETTINGS, "baseUrl": fake.url}
    async with raw_server(None, workspace, init_options=settings, env=env) as lsp:
        lsp.workspace = workspace  # type: ignore[attr-defined]
        await open_document(lsp, (workspace / "calc.py").as_uri(), CODE)
        yield lsp


def progress_reports(lsp: RawLsp, since: int) -> list[str]:
    return [
        str(n["params"]["value"].get("message"))
        for n in lsp.notifications[since:]
        if n.get("method") == "$/progress"
    ]


def applied(text: str, edit: dict[str, Any]) -> str:
    """``text`` with the one document's edits of a WorkspaceEdit applied, last first."""
    (change,) = edit["documentChanges"]
    lines = text.splitlines(keepends=True)

    def offset(position: dict[str, int]) -> int:
        return sum(len(line) for line in lines[: position["line"]]) + position["character"]

    for item in sorted(change["edits"], key=lambda e: offset(e["range"]["start"]), reverse=True):
        start, end = offset(item["range"]["start"]), offset(item["range"]["end"])
        text = text[:start] + item["newText"] + text[end:]
    return text


def body_switches(fake: FakeGlm) -> list[tuple[str, str]]:
    def switch(body: dict[str, Any]) -> tuple[str, str]:
        thinking = body.get("thinking")
        kind = thinking.get("type", NONE) if isinstance(thinking, dict) else NONE
        return str(kind), str(body.get("reasoning_effort") or NONE)

    return [switch(r.body) for r in fake.requests]


async def start(lsp: RawLsp, case: ServiceCase) -> int:
    """Send the case's request (with a progress token); its id."""
    workspace: Path = lsp.workspace  # type: ignore[attr-defined]
    lsp._next_id += 1
    msg_id = lsp._next_id
    token = f"progress-{msg_id}"
    if case.feature == "refactor":
        argument: dict[str, Any] = {"uri": (workspace / "calc.py").as_uri(), "range": WHOLE_FILE}
        method, params = "workspace/executeCommand", {"command": "glm.refactor"}
    elif case.feature == "agent":
        argument = {"instruction": "Explain add in calc.py"}
        method, params = "workspace/executeCommand", {"command": "glm.agent"}
    elif case.feature == "status":
        argument = {}
        method, params = "workspace/executeCommand", {"command": "glm.status"}
    else:
        uri = (workspace / f"complete_{case.id}.py").as_uri()  # fresh: no cached suggestion
        await open_document(lsp, uri, "def add(a, b):\n    return a")
        method = "textDocument/completion"
        params = {
            "textDocument": {"uri": uri},
            "position": {"line": 1, "character": 12},
            "context": {"triggerKind": 1},
        }
    if method == "workspace/executeCommand":
        params = {**params, "arguments": [argument], "workDoneToken": token}
    await lsp.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return msg_id


async def cancel_once_shown(lsp: RawLsp, since: int, text: str, msg_id: int) -> None:
    for _ in range(3000):
        if any(text in report for report in progress_reports(lsp, since)):
            await lsp.notify("$/cancelRequest", {"id": msg_id})
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no progress said {text!r}")


@pytest.mark.parametrize("case", SERVICE_CASES, ids=[f"{c.feature}-{c.id}" for c in SERVICE_CASES])
async def test_service_case(lsp: RawLsp, fake: FakeGlm, case: ServiceCase) -> None:
    base = fake.url.replace(BASE_PATH, "/api/coding/paas/v4/") if case.coding_plan else fake.url
    # A client of its own (the fake serves any path ending in chat/completions): nothing
    # remembered from an earlier case (a model that always thinks, the quota).
    base += f"{case.feature}-{case.id}/"
    for name, value in {**FAKE_DEFAULTS, **case.fake}.items():
        setattr(fake, name, value)
    settings = {**BASE_SETTINGS, "baseUrl": base, **case.settings}
    await lsp.notify("workspace/didChangeConfiguration", {"settings": {"glm": settings}})
    await lsp.status()
    fake.reset()
    fake.enqueue(*case.replies)
    seen_notifications, seen_requests = len(lsp.notifications), len(lsp.server_requests)

    try:
        msg_id = await start(lsp, case)
        if case.cancel_on_progress:
            assert case.progress is not None
            await cancel_once_shown(lsp, seen_notifications, case.progress, msg_id)
        answer = await lsp.response(msg_id, 30)
    finally:
        for name, value in FAKE_DEFAULTS.items():
            setattr(fake, name, value)

    assert "result" in answer or case.cancel_on_progress, answer
    assert body_switches(fake) == list(case.bodies)
    edits = [
        r["params"]["edit"]
        for r in lsp.server_requests[seen_requests:]
        if r["method"] == "workspace/applyEdit"
    ]
    shown = [
        m
        for m in told(lsp, seen_notifications, "window/showMessage")
        if "(setting glm.baseUrl)" not in m
        and not m.startswith("GLM usage:")
        # This raw client refuses every applyEdit: the edit it was offered is checked below.
        and RAW_CLIENT_REFUSAL not in m
    ]
    if case.feature == "status":
        status_shown = told(lsp, seen_notifications, "window/showMessage")
        assert any(case.told in m for m in status_shown), status_shown
        assert (case.told == "quota unknown") == (answer["result"]["quota"] == "quota unknown")
    elif case.feature == "completion":
        items = (answer["result"] or {}).get("items") or []
        if case.applies is not None:
            assert items and case.applies in str(items[0].get("textEdit") or items[0]), items
        else:
            assert items == []
        logged = " ".join(told(lsp, seen_notifications, "window/logMessage") + shown)
        assert case.told in logged
    else:
        if case.applies is not None:
            (edit,) = edits
            assert applied(CODE, edit) == case.applies
        else:
            assert edits == []  # nothing lost: the buffer is left as it was
        if case.told:
            assert len(shown) == 1, shown
            assert case.told in shown[0]
        else:
            assert shown == [], shown
    if case.progress is not None:
        assert any(case.progress in r for r in progress_reports(lsp, seen_notifications))
    if case.tool_result is not None:
        tools = [m for m in fake.requests[1].messages if m["role"] == "tool"]
        assert tools and str(tools[-1]["content"]).startswith(case.tool_result), tools
    await lsp.status()  # the server keeps answering
