"""The Coding Plan's quota, the thinking switch, errors' details and usage (glm/quota.py,
thinking.py, errors.py, usage.py, events.py, holder.py)."""

from __future__ import annotations
