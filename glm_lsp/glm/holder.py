"""The one GLM client of a process, whatever its front door: rebuilt only when the key or the
endpoint's settings change, so connections are reused (a TLS handshake is latency)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glm_lsp.config import GlmSettings
    from glm_lsp.glm.client import GlmClient
    from glm_lsp.glm.usage import UsageLedger


class GlmClientHolder:
    def __init__(
        self, ledger: UsageLedger, *, on_notice: Callable[[str], None] | None = None
    ) -> None:
        """``on_notice``: how the front door tells the user something once (a model that
        always thinks); without it, the log only."""
        self.ledger = ledger
        self.on_notice = on_notice
        self.client: GlmClient | None = None
        self._identity: tuple[object, ...] | None = None

    def get(self, settings: GlmSettings, key: str) -> tuple[GlmClient, GlmClient | None]:
        """The client for these settings, and the replaced one the caller closes (or None).
        The caller has checked that the key may go to the settings' endpoint."""
        identity = (
            settings.effective_base_url(),
            key,
            settings.request_timeout,
            settings.max_retries,
            settings.provider,
            settings.first_token_timeout,
            tuple(sorted(settings.deadlines().items())),
        )
        old = None
        if self.client is None or identity != self._identity:
            from glm_lsp.glm.client import GlmClient  # lazy: keeps start-up fast
            from glm_lsp.glm.dialects import resolve_dialect

            old = self.client
            self.client = GlmClient(
                base_url=settings.effective_base_url(),
                api_key=key,
                timeout=settings.request_timeout,
                max_retries=settings.max_retries,
                ledger=self.ledger,
                dialect=resolve_dialect(settings.provider, settings.effective_base_url()),
                first_token_timeout=settings.first_token_timeout,
                deadlines=settings.deadlines(),
                on_notice=self.on_notice,
            )
            self._identity = identity
        return self.client, old

    async def aclose(self) -> None:
        if self.client is not None:
            client, self.client, self._identity = self.client, None, None
            await client.aclose()
