"""Shared fixtures: the fake GLM upstream on 127.0.0.1; the hypothesis profile."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.fake_glm import FakeGlm

TEST_KEY = "fakeid0123.FAKEsecretNOTreal"

# The suite must give the same answer on every run and every machine: hypothesis draws the
# same examples each time (seeded from each test), keeps no example database between runs,
# and has no deadline (a loaded 2-core machine is slow, not wrong). A counterexample found
# this way, or by an exploring run, becomes an explicit regression test next to the property.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# `HYPOTHESIS_PROFILE=explore pytest tests/robustness/test_fuzz_edits.py` searches anew, with
# ten times the examples: for hunting bugs, not for CI.
settings.register_profile(
    "explore", derandomize=False, deadline=None, max_examples=1000, print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def fake_glm() -> Iterator[FakeGlm]:
    with FakeGlm() as fake:
        yield fake
