"""Usage as glm.status and the end of an operation report it: counts per feature, totals, the
Coding Plan's peak multiplier (by the hour in UTC+8), and the words shown."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from glm_lsp.glm.events import Usage
from glm_lsp.glm.usage import (
    UsageLedger,
    is_coding_plan,
    is_peak,
    progress_note,
    quota_multiplier,
)

UTC8 = timezone(timedelta(hours=8))


def at(hour: int, minute: int = 0) -> datetime:
    """That time of day in UTC+8, given in UTC (the multiplier converts)."""
    return datetime(2026, 12, 4, hour, minute, tzinfo=UTC8).astimezone(timezone.utc)


@pytest.mark.parametrize(
    ("hour", "minute", "multiplier"),
    [(0, 0, 2), (13, 59, 2), (14, 0, 3), (16, 30, 3), (17, 59, 3), (18, 0, 2), (23, 59, 2)],
)
def test_the_peak_is_14_to_18_in_utc_plus_8(hour: int, minute: int, multiplier: int) -> None:
    assert quota_multiplier(at(hour, minute)) == multiplier
    assert is_peak(at(hour, minute)) is (multiplier == 3)


def test_without_a_time_the_multiplier_is_for_now() -> None:
    assert quota_multiplier() in (2, 3)


@pytest.mark.parametrize(
    ("url", "coding"),
    [
        ("https://open.bigmodel.cn/api/coding/paas/v4/", True),
        ("https://api.z.ai/api/coding/paas/v4", True),
        ("https://open.bigmodel.cn/api/paas/v4/", False),
        ("https://coding.example.com/api/paas/v4/", False),  # the path decides, not the host
    ],
)
def test_the_coding_plan_is_its_path(url: str, coding: bool) -> None:
    assert is_coding_plan(url) is coding


def test_an_operations_note() -> None:
    assert progress_note(1200, 0, coding_plan=True, now=at(15)) == "Coding Plan quota 3x now"
    assert progress_note(1200, 0, coding_plan=True, now=at(9)) == "Coding Plan quota 2x now"
    assert progress_note(1200, 300, coding_plan=False) == "1200 tokens, 300 cached"
    assert progress_note(1200, 0, coding_plan=False) == "1200 tokens"
    assert progress_note(0, 0, coding_plan=False) == ""


def ledger() -> UsageLedger:
    usage = UsageLedger()
    usage.record("agent", Usage(100, 20, 120, cached_tokens=60, reasoning_tokens=5))
    usage.record("agent", Usage(200, 30, 230, cached_tokens=150, reasoning_tokens=7))
    usage.record("completion", Usage(50, 4, 54, cached_tokens=10))
    usage.record("completion", None)  # a failed request: counted, no tokens
    return usage


def test_totals_add_every_feature() -> None:
    snap = ledger().snapshot()
    assert snap == {
        "requests": 4,
        "promptTokens": 350,
        "completionTokens": 54,
        "cachedTokens": 220,
        "reasoningTokens": 12,
        "byFeature": {
            "agent": {
                "requests": 2,
                "promptTokens": 300,
                "completionTokens": 50,
                "cachedTokens": 210,
                "reasoningTokens": 12,
            },
            "completion": {
                "requests": 2,
                "promptTokens": 50,
                "completionTokens": 4,
                "cachedTokens": 10,
                "reasoningTokens": 0,
            },
        },
        "plan": "tokens",
    }


def test_the_coding_plan_snapshot_carries_the_multiplier() -> None:
    snap = ledger().snapshot(at(15), coding_plan=True)
    assert (snap["plan"], snap["quotaMultiplier"]) == ("coding", 3)
    assert "quotaMultiplier" not in ledger().snapshot(at(15))


def test_the_summary_a_person_reads() -> None:
    assert ledger().summary(at(9), coding_plan=True).splitlines() == [
        "GLM usage: 4 requests, 350 prompt tokens (220 cached) + 54 completion tokens "
        "(12 reasoning). GLM Coding Plan: quota multiplier now 2x.",
        "  agent: 2 requests, 300 prompt tokens (210 cached) + 50 completion tokens (12 reasoning)",
        "  completion: 2 requests, 50 prompt tokens (10 cached) + 4 completion tokens "
        "(0 reasoning)",
    ]
    # The time given decides the multiplier, whatever the clock says now.
    assert ledger().summary(at(15), coding_plan=True).splitlines()[0].endswith("now 3x.")
    assert (
        ledger()
        .summary()
        .splitlines()[0]
        .endswith("Pay-per-token: billed by tokens, cached prompt tokens at a lower price.")
    )
