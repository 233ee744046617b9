"""Token usage by feature, and GLM's time-of-day quota multiplier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .events import Usage

_UTC8 = timezone(timedelta(hours=8))
PEAK_START_HOUR = 14  # 14:00-18:00 UTC+8 counts 3x, other hours 2x
PEAK_END_HOUR = 18


def quota_multiplier(now: datetime | None = None) -> int:
    moment = (now or datetime.now(timezone.utc)).astimezone(_UTC8)
    return 3 if PEAK_START_HOUR <= moment.hour < PEAK_END_HOUR else 2


def is_peak(now: datetime | None = None) -> bool:
    return quota_multiplier(now) == 3


@dataclass
class FeatureUsage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class UsageLedger:
    """Every response's usage, by feature (``actions``, ``completion``, ``agent``, ...)."""

    def __init__(self) -> None:
        self._by_feature: dict[str, FeatureUsage] = {}

    def record(self, feature: str, usage: Usage | None) -> None:
        entry = self._by_feature.setdefault(feature, FeatureUsage())
        entry.requests += 1
        if usage is not None:
            entry.prompt_tokens += usage.prompt_tokens
            entry.completion_tokens += usage.completion_tokens

    def snapshot(self, now: datetime | None = None) -> dict[str, object]:
        features = {
            name: {
                "requests": u.requests,
                "promptTokens": u.prompt_tokens,
                "completionTokens": u.completion_tokens,
            }
            for name, u in sorted(self._by_feature.items())
        }
        return {
            "requests": sum(u.requests for u in self._by_feature.values()),
            "promptTokens": sum(u.prompt_tokens for u in self._by_feature.values()),
            "completionTokens": sum(u.completion_tokens for u in self._by_feature.values()),
            "byFeature": features,
            "quotaMultiplier": quota_multiplier(now),
        }

    def summary(self, now: datetime | None = None) -> str:
        snap = self.snapshot(now)
        lines = [
            f"GLM usage: {snap['requests']} requests, {snap['promptTokens']} prompt + "
            f"{snap['completionTokens']} completion tokens; quota multiplier now "
            f"{snap['quotaMultiplier']}x."
        ]
        by_feature = snap["byFeature"]
        assert isinstance(by_feature, dict)
        for name, u in by_feature.items():
            lines.append(
                f"  {name}: {u['requests']} requests, {u['promptTokens']} prompt + "
                f"{u['completionTokens']} completion tokens"
            )
        return "\n".join(lines)
