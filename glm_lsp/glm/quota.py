"""The GLM Coding Plan's quota: the 5-hour and weekly limits, used percentage and next reset.

``GET https://<host>/api/monitor/usage/quota/limit`` with the raw key as ``Authorization``
answers ``{code, msg, success, data: {limits: [{type: "TOKENS_LIMIT", unit, number,
percentage, nextResetTime (epoch ms)}, …]}}``; the token limits are the 5-hour window (unit 3,
number 5) and the week (unit 6). The endpoint is not in Z.AI's API reference, so anything
unexpected reads as "quota unknown", never as an error. The key goes only to the host of the
base URL (the one the user allowed), and at most once a minute.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)

QUOTA_PATH = "/api/monitor/usage/quota/limit"
MIN_INTERVAL = 60.0  # seconds between two fetches
MAX_QUOTA_BYTES = 64 * 1024
UNKNOWN = "quota unknown"
_WINDOWS = {3: "5-hour", 6: "weekly"}  # unit codes (3: hours, 6: weeks) seen in answers


@dataclass(frozen=True)
class QuotaLimit:
    window: str  # "5-hour" or "weekly"
    percentage: float  # used, 0-100
    next_reset_ms: int | None  # epoch milliseconds

    def as_json(self) -> dict[str, object]:
        return {
            "window": self.window,
            "percentage": self.percentage,
            "nextReset": _iso(self.next_reset_ms),
            "nextResetMs": self.next_reset_ms,
        }

    def describe(self) -> str:
        when = _local(self.next_reset_ms)
        reset = f", resets {when}" if when else ""
        return f"{self.window} {self.percentage:g}% used{reset}"


def quota_url(base_url: str) -> str:
    """The quota endpoint on the base URL's own scheme, host and port."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}{QUOTA_PATH}"


def parse_quota(answer: object) -> list[QuotaLimit] | None:
    """The token limits of an answer; ``None`` when it has none we can read."""
    data = answer.get("data") if isinstance(answer, dict) else None
    limits = data.get("limits") if isinstance(data, dict) else None
    if not isinstance(limits, list):
        return None
    tokens = [x for x in limits if isinstance(x, dict) and x.get("type") == "TOKENS_LIMIT"]
    found: list[QuotaLimit] = []
    for position, limit in enumerate(tokens):
        percentage = limit.get("percentage")
        if isinstance(percentage, bool) or not isinstance(percentage, (int, float)):
            continue
        unit = limit.get("unit")
        # Unknown unit codes: the first token limit is the 5-hour one, the next the week's.
        window = _WINDOWS.get(unit if isinstance(unit, int) else -1) or (
            "5-hour" if position == 0 else "weekly"
        )
        reset = limit.get("nextResetTime")
        reset_ms = (
            int(reset) if isinstance(reset, (int, float)) and not isinstance(reset, bool) else None
        )
        found.append(QuotaLimit(window, float(percentage), reset_ms))
    return found or None


def describe(limits: list[QuotaLimit] | None) -> str:
    if not limits:
        return UNKNOWN
    return "Coding Plan quota: " + "; ".join(limit.describe() for limit in limits)


class QuotaWatcher:
    """Fetches the quota at most once a minute and remembers the last answer (or failure)."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.url = quota_url(base_url)
        self._key = api_key
        self._fetched_at: float | None = None
        self._limits: list[QuotaLimit] | None = None

    async def limits(self, http: httpx.AsyncClient) -> list[QuotaLimit] | None:
        now = time.monotonic()
        if self._fetched_at is not None and now - self._fetched_at < MIN_INTERVAL:
            return self._limits
        self._fetched_at = now
        self._limits = await self._fetch(http)
        return self._limits

    async def _fetch(self, http: httpx.AsyncClient) -> list[QuotaLimit] | None:
        # The raw key, as the plan's own tools send it (no "Bearer"); only to the base host.
        headers = {"Authorization": self._key, "Accept": "application/json"}
        try:
            async with http.stream("GET", self.url, headers=headers, timeout=10.0) as response:
                if response.status_code != 200:
                    log.info("quota endpoint answered HTTP %d", response.status_code)
                    return None
                if response.headers.get("content-encoding", "identity") != "identity":
                    return None
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > MAX_QUOTA_BYTES:
                        return None
        except httpx.HTTPError as exc:
            log.info("quota fetch failed: %s", type(exc).__name__)
            return None
        try:
            answer: Any = json.loads(bytes(body))
        except (ValueError, RecursionError):
            return None
        return parse_quota(answer)


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _local(ms: int | None) -> str | None:
    if ms is None:
        return None
    try:
        local = datetime.fromtimestamp(ms / 1000, timezone.utc).astimezone()
    except (OverflowError, OSError, ValueError):
        return None
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()
