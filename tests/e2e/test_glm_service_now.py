"""GLM as the service behaves now (DESIGN.md, "Contract, third round"), end to end through
the real server against the fake: a model that always thinks, damaged streams, and the Coding
Plan's quota in glm.status. Every other behaviour of the list has its row, run through the
real server, in tests/robustness/test_service_cases.py (docs/faults.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.conftest import TEST_KEY
from tests.e2e.test_completion import ADD, AFTER_RETURN, inline
from tests.e2e.test_glm_service import (
    CODE,
    NEW_CODE,
    WHOLE,
    coding_plan_url,
    problems,
    progress_ends,
)
from tests.fake_glm import QUOTA_PATH, FakeGlm, Reply
from tests.lsp_harness import after_progress_began, execute, messages_of, start_session, wait_until

# Thinking off for code actions too, so that a refactor asks the switch the model refuses.
NO_THINKING = {"completion": {"debounceMs": 0}, "actions": {"thinking": False}}


def thinking_sent(fake: FakeGlm) -> list[tuple[object, object]]:
    """Per request: the `thinking` switch and the `reasoning_effort` the fake received."""
    return [(r.body.get("thinking"), r.body.get("reasoning_effort")) for r in fake.requests]


def naming_glm_47(client: Any) -> list[str]:
    return [m for m in messages_of(client) if "glm-4.7" in m]


OFF = {"type": "disabled"}


async def test_always_thinking_refactor_is_retried_once_and_the_next_completion_sends_no_switch(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.always_thinking = "refuse"
    fake_glm.enqueue(Reply(text=NEW_CODE), Reply(text="a + b"))
    async with start_session(fake_glm, tmp_path, init_options=NO_THINKING) as (client, editor):
        uri = editor.open("calc.py", CODE)

        result = await execute(client, "glm.refactor", {"uri": uri, "range": WHOLE})

        assert result == {"applied": True}
        assert editor.text(uri) == NEW_CODE
        # Exactly one retry: without the switch, at the lowest effort the refusal listed.
        assert thinking_sent(fake_glm) == [(OFF, None), (None, "low")]
        assert len(naming_glm_47(client)) == 1, messages_of(client)

        completion = editor.open("other.py", ADD)
        assert await inline(client, completion, AFTER_RETURN) == ["a + b"]

        # Remembered for the model: the completion asks no switch at all, so no refusal.
        assert thinking_sent(fake_glm)[2:] == [(None, "low")]
        assert len(naming_glm_47(client)) == 1  # said once
        assert (await execute(client, "glm.status", {}))["model"] == "glm-5.1"


async def test_always_thinking_completion_is_retried_once_and_offered(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.always_thinking = "refuse"
    fake_glm.enqueue(Reply(text="a + b"), Reply(text="b + a"))
    async with start_session(fake_glm, tmp_path, init_options=NO_THINKING) as (client, editor):
        uri = editor.open("calc.py", ADD)

        assert await inline(client, uri, AFTER_RETURN) == ["a + b"]

        assert thinking_sent(fake_glm) == [(OFF, None), (None, "low")]
        assert len(naming_glm_47(client)) == 1, messages_of(client)
        other = editor.open("other.py", ADD)
        assert await inline(client, other, AFTER_RETURN) == ["b + a"]
        assert thinking_sent(fake_glm)[2:] == [(None, "low")]


async def test_reasoning_that_arrives_with_thinking_off_is_counted_and_named_once(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.always_thinking = "ignore"  # the Coding Plan: the switch is ignored
    fake_glm.enqueue(Reply(text="a + b"), Reply(text="b + a"))
    async with start_session(fake_glm, tmp_path, init_options=NO_THINKING) as (client, editor):
        first, second = editor.open("a.py", ADD), editor.open("b.py", ADD)
        assert await inline(client, first, AFTER_RETURN) == ["a + b"]
        assert await inline(client, second, AFTER_RETURN) == ["b + a"]

        status = await execute(client, "glm.status", {})
        assert status["byFeature"]["completion"]["unaskedReasoning"] == 2
        assert thinking_sent(fake_glm) == [(OFF, None), (OFF, None)]
        assert len(naming_glm_47(client)) == 1, messages_of(client)


async def test_glued_frames_the_intact_text_is_applied_with_one_request(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    chunks = -(-len(NEW_CODE) // 8)  # frames of text; the next one is the finish
    fake_glm.enqueue(Reply(text=NEW_CODE, glued_frame=2), Reply(text=NEW_CODE, glued_frame=chunks))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        for name in ("calc.py", "calc2.py"):  # a text frame damaged, then the finish frame
            uri = editor.open(name, CODE)

            result = await execute(client, "glm.refactor", {"uri": uri, "range": WHOLE})

            assert result == {"applied": True}
            assert editor.text(uri) == NEW_CODE
        assert len(fake_glm.requests) == 2  # one each: no retry
        assert problems(client) == []


async def test_coding_plan_quota_in_glm_status_fetched_once_a_minute_with_the_raw_key(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    base = coding_plan_url(fake_glm)
    async with start_session(
        fake_glm, tmp_path, extra_env={"GLM_LSP_BASE_URL": base, "TZ": "UTC"}
    ) as (
        client,
        _editor,
    ):
        status = await execute(client, "glm.status", {})
        again = await execute(client, "glm.status", {})

        windows = {q["window"]: q for q in status["quota"]}
        assert windows["5-hour"]["percentage"] == 42
        assert windows["weekly"]["percentage"] == 17
        assert windows["5-hour"]["nextReset"] == "2026-12-01T10:42:07+00:00"
        assert windows["weekly"]["nextReset"] == "2026-12-06T16:00:00+00:00"
        assert again["quota"] == status["quota"]
        shown = messages_of(client, types.MessageType.Info)[-1]
        assert "5-hour 42% used, resets 2026-12-01 10:42 UTC" in shown
        assert "weekly 17% used" in shown
        # One fetch for two statuses, to the base URL's own host, with the raw key.
        quota_calls = [
            h
            for p, h in zip(fake_glm.other_requests, fake_glm.other_headers, strict=True)
            if p == QUOTA_PATH
        ]
        assert len(quota_calls) == 1
        assert quota_calls[0]["authorization"] == TEST_KEY
        assert quota_calls[0]["host"] == f"127.0.0.1:{fake_glm.port}"


async def test_a_failing_quota_endpoint_shows_quota_unknown_and_no_error(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    fake_glm.quota_status = 500
    base = coding_plan_url(fake_glm)
    async with start_session(fake_glm, tmp_path, extra_env={"GLM_LSP_BASE_URL": base}) as (
        client,
        _editor,
    ):
        status = await execute(client, "glm.status", {})

        assert status["quota"] == "quota unknown"
        assert "quota unknown" in messages_of(client, types.MessageType.Info)[-1]
        assert problems(client) == []
        assert QUOTA_PATH in fake_glm.other_requests


async def test_no_quota_request_off_the_coding_plan(fake_glm: FakeGlm, tmp_path: Path) -> None:
    async with start_session(fake_glm, tmp_path) as (client, _editor):
        status = await execute(client, "glm.status", {})

        assert "quota" not in status
        assert QUOTA_PATH not in fake_glm.other_requests


async def test_an_agent_run_on_the_coding_plan_ends_its_progress_with_the_quota(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    (tmp_path / "calc.py").write_text(CODE)
    env = {"GLM_LSP_BASE_URL": coding_plan_url(fake_glm), "TZ": "UTC"}
    clients: list[Any] = []  # the reply waits until progress shows (it ends with the quota)
    fake_glm.responder = after_progress_began(clients, Reply(text="Nothing to change."))
    async with start_session(fake_glm, tmp_path, extra_env=env) as (client, _editor):
        clients.append(client)
        await execute(client, "glm.agent", {"instruction": "Look at calc.py"})

        assert await wait_until(lambda: bool(progress_ends(client)))
        (end,) = progress_ends(client)
        assert end is not None
        assert "5-hour 42% used, resets 2026-12-01 10:42 UTC" in end
        assert "weekly 17% used" in end
