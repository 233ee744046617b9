"""Shared fixtures: the fake GLM upstream on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_glm import FakeGlm

TEST_KEY = "fakeid0123.FAKEsecretNOTreal"


@pytest.fixture
def fake_glm() -> Iterator[FakeGlm]:
    with FakeGlm() as fake:
        yield fake
