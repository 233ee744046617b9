"""Token usage by feature, and the GLM Coding Plan's time-of-day quota multiplier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from glm_lsp.glm.events import Usage

_UTC8 = timezone(timedelta(hours=8))
PEAK_START_HOUR = 14  # 14:00-18:00 UTC+8 counts 3x, other hours 2x
PEAK_END_HOUR = 18
CODING_PLAN_PATH = "/api/coding/"


def is_coding_plan(base_url: str) -> bool:
    """The GLM Coding Plan is served under ``/api/coding/`` (open.bigmodel.cn and api.z.ai);
    its quota is counted in prompts with a peak multiplier, the pay-per-token API's in tokens."""
    return CODING_PLAN_PATH in urlsplit(base_url).path


def quota_multiplier(now: datetime | None = None) -> int:
    moment = (now or datetime.now(timezone.utc)).astimezone(_UTC8)
    return 3 if PEAK_START_HOUR <= moment.hour < PEAK_END_HOUR else 2


def is_peak(now: datetime | None = None) -> bool:
    return quota_multiplier(now) == 3


def progress_note(
    tokens: int, cached: int, *, coding_plan: bool, now: datetime | None = None
) -> str:
    """What an operation's end reports: the plan's quota multiplier on the Coding Plan, else
    the tokens it billed (cached ones apart: they cost less)."""
    if coding_plan:
        return f"Coding Plan quota {quota_multiplier(now)}x now"
    if not tokens:
        return ""
    return f"{tokens} tokens, {cached} cached" if cached else f"{tokens} tokens"


@dataclass
class FeatureUsage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    unasked_reasoning: int = 0  # replies that thought although thinking was off

    def add(self, usage: Usage) -> None:
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cached_tokens += usage.cached_tokens
        self.reasoning_tokens += usage.reasoning_tokens

    def as_json(self) -> dict[str, int]:
        counts = {
            "requests": self.requests,
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "cachedTokens": self.cached_tokens,
            "reasoningTokens": self.reasoning_tokens,
        }
        if self.unasked_reasoning:  # only where it happened: most endpoints never do it
            counts["unaskedReasoning"] = self.unasked_reasoning
        return counts


class UsageLedger:
    """Every response's usage, by feature (``actions``, ``completion``, ``agent``, ...)."""

    def __init__(self) -> None:
        self._by_feature: dict[str, FeatureUsage] = {}

    def record(self, feature: str, usage: Usage | None) -> None:
        entry = self._by_feature.setdefault(feature, FeatureUsage())
        entry.requests += 1
        if usage is not None:
            entry.add(usage)

    def count_unasked_reasoning(self, feature: str) -> None:
        """A reply of ``feature`` thought although thinking was off (an always-thinking
        model behind the endpoint): it costs time and quota the user did not ask for."""
        self._by_feature.setdefault(feature, FeatureUsage()).unasked_reasoning += 1

    def snapshot(
        self, now: datetime | None = None, *, coding_plan: bool = False
    ) -> dict[str, object]:
        """Totals and ``byFeature``; ``quotaMultiplier`` only for the Coding Plan, whose quota
        it is (a pay-per-token account is billed by tokens, cached ones at a lower price)."""
        from glm_lsp.glm.events import Usage

        total = FeatureUsage()
        for entry in self._by_feature.values():
            total.requests += entry.requests
            total.unasked_reasoning += entry.unasked_reasoning
            total.add(
                Usage(
                    entry.prompt_tokens,
                    entry.completion_tokens,
                    cached_tokens=entry.cached_tokens,
                    reasoning_tokens=entry.reasoning_tokens,
                )
            )
        snapshot: dict[str, object] = {
            **total.as_json(),
            "byFeature": {name: u.as_json() for name, u in sorted(self._by_feature.items())},
            "plan": "coding" if coding_plan else "tokens",
        }
        if coding_plan:
            snapshot["quotaMultiplier"] = quota_multiplier(now)
        return snapshot

    def summary(self, now: datetime | None = None, *, coding_plan: bool = False) -> str:
        snap = self.snapshot(now, coding_plan=coding_plan)
        if coding_plan:
            billing = f"GLM Coding Plan: quota multiplier now {snap['quotaMultiplier']}x."
        else:
            billing = "Pay-per-token: billed by tokens, cached prompt tokens at a lower price."
        lines = [f"GLM usage: {_counts(snap)}. {billing}"]
        by_feature = snap["byFeature"]
        assert isinstance(by_feature, dict)
        for name, u in by_feature.items():
            lines.append(f"  {name}: {_counts(u)}")
        return "\n".join(lines)


def _counts(u: dict[str, object]) -> str:
    return (
        f"{u['requests']} requests, {u['promptTokens']} prompt tokens "
        f"({u['cachedTokens']} cached) + {u['completionTokens']} completion tokens "
        f"({u['reasoningTokens']} reasoning)"
    )
