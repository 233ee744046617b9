"""The one GLM client per process (glm/holder.py): reused while the key and the endpoint's
settings stay, rebuilt (and the old one handed back to close) when one of them changes."""

from __future__ import annotations

from typing import Any

import pytest

from glm_lsp.config import GlmSettings
from glm_lsp.glm.dialects import resolve_dialect
from glm_lsp.glm.holder import GlmClientHolder
from glm_lsp.glm.usage import UsageLedger

KEY = "holder0123.testNOTaREALkey"
BASE = {"baseUrl": "http://127.0.0.1:9/api/paas/v4/"}


@pytest.fixture(autouse=True)
def _no_endpoint_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLM_LSP_BASE_URL", raising=False)


def settings(**fields: Any) -> GlmSettings:
    return GlmSettings(**{**BASE, **fields})


async def test_the_same_settings_and_key_reuse_the_client() -> None:
    ledger, notices = UsageLedger(), []
    holder = GlmClientHolder(ledger, on_notice=notices.append)
    client, old = holder.get(settings(), KEY)
    assert old is None
    again, old = holder.get(settings(model="glm-4.7"), KEY)  # the model is per request
    assert again is client and old is None
    assert client.base_url == BASE["baseUrl"]
    assert client.ledger is ledger and client._on_notice == notices.append
    await holder.aclose()


@pytest.mark.parametrize(
    "change",
    [
        {"baseUrl": "http://127.0.0.1:10/v1/"},
        {"requestTimeout": 7.0},
        {"maxRetries": 0},
        {"provider": "vllm"},
        {"firstTokenTimeout": 9.0},
        {"completion": {"totalTimeout": 5.0}},
        {"agent": {"totalTimeout": 60.0}},
    ],
)
async def test_a_changed_endpoint_setting_builds_a_new_client(change: dict[str, Any]) -> None:
    holder = GlmClientHolder(UsageLedger())
    first, _ = holder.get(settings(), KEY)
    changed = settings(**change)
    second, old = holder.get(changed, KEY)
    assert second is not first and old is first
    assert second.base_url == changed.effective_base_url()
    assert second.timeout == changed.request_timeout
    assert second.max_retries == changed.max_retries
    assert second.first_token_timeout == changed.first_token_timeout
    assert second.deadlines == changed.deadlines()
    assert second.dialect == resolve_dialect(changed.provider, changed.effective_base_url())
    await first.aclose()
    await holder.aclose()


async def test_a_new_key_builds_a_new_client() -> None:
    holder = GlmClientHolder(UsageLedger())
    first, _ = holder.get(settings(), KEY)
    second, old = holder.get(settings(), KEY + "2")
    assert second is not first and old is first
    assert second._http.headers["Authorization"] == f"Bearer {KEY}2"
    await first.aclose()
    await holder.aclose()


async def test_closing_forgets_the_client() -> None:
    holder = GlmClientHolder(UsageLedger())
    first, _ = holder.get(settings(), KEY)
    await holder.aclose()
    assert first._http.is_closed and holder.client is None
    await holder.aclose()  # twice: nothing left to close
    second, old = holder.get(settings(), KEY)
    assert second is not first and old is None
    await holder.aclose()
