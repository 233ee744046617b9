"""GLM as the real service behaves, end to end through the real server: a stale kept-alive
connection, the plan codes, the Coding Plan's multiplier, cached and reasoning tokens, and
our User-Agent. (Each plan/quota refusal through refactor, completion and agent, with one
request and GLM's own words, is in tests/robustness/test_upstream_faults.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from glm_lsp import __version__
from tests.e2e.test_completion import ADD, AFTER_RETURN, FAST, inline
from tests.fake_glm import BASE_PATH, FakeGlm, Reply, plan_limit
from tests.lsp_harness import (
    after_progress_began,
    execute,
    messages_of,
    start_session,
    wait_until,
)

CODE = "def add(a, b):\n    return a + b\n"
NEW_CODE = "def add(a: int, b: int) -> int:\n    return a + b\n"
WHOLE = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}


def coding_plan_url(fake: FakeGlm) -> str:
    """The fake under the Coding Plan's path (it serves any path ending in chat/completions)."""
    return fake.url.replace(BASE_PATH, "/api/coding/paas/v4/")


def progress_ends(client: Any) -> list[str | None]:
    return [
        report.message
        for reports in client.progress_reports.values()
        for report in reports
        if isinstance(report, types.WorkDoneProgressEnd)
    ]


def problems(client: Any) -> list[str]:
    return messages_of(client, types.MessageType.Warning) + messages_of(
        client, types.MessageType.Error
    )


async def test_a_stale_kept_alive_connection_still_gives_the_next_suggestion(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(
        Reply(text="a + b"),
        Reply(hang_up_unanswered=True),  # the server timed the pooled connection out
        Reply(text="b + a"),
    )
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        first = editor.open("calc.py", ADD)
        assert await inline(client, first, AFTER_RETURN) == ["a + b"]
        second = editor.open("other.py", ADD)  # a fresh document: no cached suggestion

        assert await inline(client, second, AFTER_RETURN) == ["b + a"]

        assert len(fake_glm.requests) == 3
        assert problems(client) == []


async def test_model_busy_1312_is_retried_and_the_refactor_lands(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(plan_limit("1312", headers={"Retry-After": "0"}), Reply(text=NEW_CODE))
    async with start_session(fake_glm, tmp_path, init_options={"maxRetries": 2}) as (
        client,
        editor,
    ):
        uri = editor.open("calc.py", CODE)
        result = await execute(client, "glm.refactor", {"uri": uri, "range": WHOLE})
        assert result == {"applied": True}
        assert editor.text(uri) == NEW_CODE
        assert len(fake_glm.requests) == 2
        assert problems(client) == []


async def test_plan_limit_1308_shows_the_reset_time_and_changes_nothing(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(plan_limit("1308"), Reply(text=NEW_CODE))
    async with start_session(fake_glm, tmp_path, init_options={"maxRetries": 3}) as (
        client,
        editor,
    ):
        uri = editor.open("calc.py", CODE)
        await execute(client, "glm.refactor", {"uri": uri, "range": WHOLE})
        assert editor.text(uri) == CODE
        assert editor.applied_edits == []
        assert len(fake_glm.requests) == 1
        (shown,) = problems(client)
        assert "code 1308" in shown and "reset at 2026-12-01 18:42:07" in shown


async def test_status_reports_cached_and_reasoning_tokens_per_feature(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.enqueue(
        Reply(text=NEW_CODE, reasoning="Type hints help. " * 3, chunk_size=8, cached_tokens=40),
        Reply(text="a + b", cached_tokens=12),
    )
    options = {**FAST, "actions": {"thinking": True}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        uri = editor.open("calc.py", CODE)
        await execute(client, "glm.refactor", {"uri": uri, "range": WHOLE})
        other = editor.open("other.py", ADD)
        assert await inline(client, other, AFTER_RETURN) == ["a + b"]

        status = await execute(client, "glm.status", {})

        actions, completion = status["byFeature"]["actions"], status["byFeature"]["completion"]
        assert actions["cachedTokens"] == 40
        assert actions["reasoningTokens"] == 7  # the fake counts one per reasoning chunk
        assert completion["cachedTokens"] == 12 and completion["reasoningTokens"] == 0
        assert status["cachedTokens"] == 52 and status["reasoningTokens"] == 7
        shown = client.messages[-1].message
        assert "52 cached" in shown and "7 reasoning" in shown


async def test_the_multiplier_is_shown_only_for_the_coding_plan(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    async with start_session(fake_glm, tmp_path) as (client, _):
        status = await execute(client, "glm.status", {})
        assert "quotaMultiplier" not in status and status["plan"] == "tokens"
        assert "multiplier" not in client.messages[-1].message
        assert "billed by tokens" in client.messages[-1].message

    env = {"GLM_LSP_BASE_URL": coding_plan_url(fake_glm)}
    clients: list[Any] = []  # the reply waits until progress shows (it ends with the quota)
    fake_glm.responder = after_progress_began(clients, Reply(text=NEW_CODE))
    async with start_session(fake_glm, tmp_path, extra_env=env) as (client, editor):
        clients.append(client)
        uri = editor.open("calc.py", CODE)
        await execute(client, "glm.refactor", {"uri": uri, "range": WHOLE})
        assert fake_glm.requests[-1].path == "/api/coding/paas/v4/chat/completions"
        status = await execute(client, "glm.status", {})
        assert status["plan"] == "coding" and status["quotaMultiplier"] in (2, 3)
        assert f"quota multiplier now {status['quotaMultiplier']}x" in client.messages[-1].message
        assert await wait_until(lambda: bool(progress_ends(client)))
        assert progress_ends(client) == [
            f"Done (Coding Plan quota {status['quotaMultiplier']}x now)"
        ]


async def test_pay_per_token_progress_ends_with_tokens_cached_apart(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    usage = {
        "prompt_tokens": 90,
        "completion_tokens": 10,
        "total_tokens": 100,
        "prompt_tokens_details": {"cached_tokens": 64},
    }
    clients: list[Any] = []  # the reply waits until progress shows (it ends with the tokens)
    fake_glm.responder = after_progress_began(clients, Reply(text=NEW_CODE, usage=usage))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        clients.append(client)
        uri = editor.open("calc.py", CODE)
        await execute(client, "glm.refactor", {"uri": uri, "range": WHOLE})
        assert await wait_until(lambda: bool(progress_ends(client)))
        assert progress_ends(client) == ["Done (100 tokens, 64 cached)"]


async def test_every_request_says_it_is_glm_lsp(fake_glm: FakeGlm, tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(CODE)
    fake_glm.enqueue(
        Reply(text=NEW_CODE),  # refactor
        Reply(text="a + b"),  # completion
        Reply(tool_calls=[{"name": "read_file", "arguments": {"path": "calc.py"}}]),  # agent
        Reply(text="Nothing to change."),
    )
    async with start_session(fake_glm, tmp_path, init_options=FAST) as (client, editor):
        uri = editor.open("calc.py", CODE)
        await execute(client, "glm.refactor", {"uri": uri, "range": WHOLE})
        other = editor.open("other.py", ADD)
        await inline(client, other, AFTER_RETURN)
        await execute(client, "glm.agent", {"instruction": "Look at calc.py"})

    assert len(fake_glm.requests) == 4
    agents = {request.headers.get("user-agent") for request in fake_glm.requests}
    agents |= {headers.get("user-agent") for headers in fake_glm.other_headers}  # warm-up
    assert agents == {f"glm-lsp/{__version__}"}
