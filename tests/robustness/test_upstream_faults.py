"""Upstream faults through the real server, for a code action (glm.refactor), a completion and
an agent run: the expected number of attempts (read from the fake's log), one clear message,
no workspace/applyEdit, and the server answers the next request. One server serves every case;
each case sets its endpoint and settings with didChangeConfiguration."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from benchmarks._common import free_port
from glm_lsp.trust.consent import CONSENT_FILE, KEY_HOST, STATE_DIR_ENV, ConsentStore
from glm_lsp.trust.key_destination import host_subject
from tests.fake_glm import FakeGlm
from tests.robustness.fault_cases import CODE, FAULTS, MAX_RETRIES, Fault
from tests.robustness.raw_lsp import RawLsp, raw_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

CASES = [(feature, fault) for fault in FAULTS for feature in fault.only]
WHOLE_FILE = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}
BASE_SETTINGS = {"maxRetries": MAX_RETRIES, "completion": {"debounceMs": 0}}
UNRESOLVABLE_HOST = "nonexistent.invalid"
BAD_HOST_URL = f"http://{UNRESOLVABLE_HOST}/api/paas/v4/"


class NotHttpServer:
    """Answers every connection with bytes that are not HTTP (a TLS alert), then hangs up."""

    def __init__(self) -> None:
        self.connections = 0
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}/api/paas/v4/"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            with connection:
                connection.recv(65536)
                connection.sendall(b"\x15\x03\x01\x00\x02\x02\x46 not HTTP at all\r\n\r\n")

    def close(self) -> None:
        self._socket.close()


class Upstreams:
    def __init__(self, fake: FakeGlm, not_http: NotHttpServer) -> None:
        self.fake = fake
        self.not_http = not_http
        self.urls = {
            "fake": fake.url,
            "refused": f"http://127.0.0.1:{free_port()}/api/paas/v4/",
            "bad-host": BAD_HOST_URL,
            "garbage": not_http.url,
        }

    def attempts(self, fault: Fault) -> int:
        if fault.endpoint == "garbage":
            return self.not_http.connections
        return len(self.fake.requests)


@pytest.fixture(scope="module")
def upstreams() -> Iterator[Upstreams]:
    not_http = NotHttpServer()
    with FakeGlm() as fake:
        yield Upstreams(fake, not_http)
    not_http.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lsp(
    upstreams: Upstreams, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RawLsp]:
    workspace = tmp_path_factory.mktemp("faults")
    (workspace / "calc.py").write_text(CODE)
    settings = {**BASE_SETTINGS, "baseUrl": upstreams.fake.url}
    # The user allowed the key to go to the host that never resolves, so the request is tried
    # and the fault is the one under test (DNS), not the key-destination question.
    state = tmp_path_factory.mktemp("state")
    ConsentStore(state / CONSENT_FILE).remember(KEY_HOST, host_subject(BAD_HOST_URL))
    env = {STATE_DIR_ENV: str(state)}
    async with raw_server(None, workspace, init_options=settings, env=env) as lsp:
        lsp.workspace = workspace  # type: ignore[attr-defined]
        await open_document(lsp, (workspace / "calc.py").as_uri(), CODE)
        yield lsp


async def open_document(lsp: RawLsp, uri: str, text: str) -> None:
    item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    await lsp.notify("textDocument/didOpen", {"textDocument": item})


async def run_feature(lsp: RawLsp, feature: str, case_id: str) -> dict[str, Any]:
    workspace: Path = lsp.workspace  # type: ignore[attr-defined]
    if feature == "refactor":
        argument = {"uri": (workspace / "calc.py").as_uri(), "range": WHOLE_FILE}
        return await lsp.request(
            "workspace/executeCommand", {"command": "glm.refactor", "arguments": [argument]}, 20
        )
    if feature == "completion":
        uri = (workspace / f"complete_{case_id}.py").as_uri()  # fresh: no cached suggestion
        await open_document(lsp, uri, "def add(a, b):\n    return a")
        params = {
            "textDocument": {"uri": uri},
            "position": {"line": 1, "character": 12},
            "context": {"triggerKind": 1},
        }
        return await lsp.request("textDocument/completion", params, 20)
    agent = {"instruction": "Add a docstring to add in calc.py"}
    return await lsp.request(
        "workspace/executeCommand", {"command": "glm.agent", "arguments": [agent]}, 20
    )


def told(lsp: RawLsp, since: int, method: str) -> list[str]:
    return [
        str(n["params"]["message"]) for n in lsp.notifications[since:] if n.get("method") == method
    ]


@pytest.mark.parametrize(
    ("feature", "fault"), CASES, ids=[f"{feature}-{fault.id}" for feature, fault in CASES]
)
async def test_upstream_fault(
    lsp: RawLsp, upstreams: Upstreams, feature: str, fault: Fault
) -> None:
    settings = {**BASE_SETTINGS, "baseUrl": upstreams.urls[fault.endpoint], **fault.settings}
    await lsp.notify("workspace/didChangeConfiguration", {"settings": {"glm": settings}})
    await lsp.status()
    upstreams.fake.reset()
    upstreams.not_http.connections = 0
    upstreams.fake.enqueue(*fault.replies)
    seen_notifications, seen_requests = len(lsp.notifications), len(lsp.server_requests)

    answer = await run_feature(lsp, feature, fault.id)

    assert "result" in answer, answer
    assert upstreams.attempts(fault) == fault.attempts_for(feature)
    if fault.retry_gap is not None and fault.attempts_for(feature) > 1:
        first, second = upstreams.fake.requests[:2]
        assert first.finished_at is not None
        low, high = fault.retry_gap
        assert low <= second.started_at - first.finished_at <= high
    applied = [
        r for r in lsp.server_requests[seen_requests:] if r["method"] == "workspace/applyEdit"
    ]
    assert applied == []
    # A host that is not GLM's is named once per session, apart from the failure itself.
    shown = [
        m
        for m in told(lsp, seen_notifications, "window/showMessage")
        if "(setting glm.baseUrl)" not in m
    ]
    expected = fault.message_for(feature)
    if feature == "completion":
        # Completions fail quietly: no item, the reason in the log, told at most once.
        assert bool((answer["result"] or {}).get("items")) == fault.completion_offered
        logged = " ".join(told(lsp, seen_notifications, "window/logMessage"))
        if expected:
            assert len(shown) <= 1
            assert expected in logged
        else:  # not a failure for the user: nothing is shown at all
            assert shown == [], shown
    else:
        assert len(shown) == 1, shown
        assert expected in shown[0]
    if fault.tool_result is not None and feature == "agent":
        # The model got the tool's error as the answer to its call, and the loop went on.
        tool_messages = [m for m in upstreams.fake.requests[1].messages if m["role"] == "tool"]
        assert tool_messages, upstreams.fake.requests[1].messages
        assert str(tool_messages[-1]["content"]).startswith(fault.tool_result)
    await lsp.status()
