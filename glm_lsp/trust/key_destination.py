"""The key goes only where the user sent it (DESIGN.md, "Contract, second round").

A GLM host, a loopback address, or the endpoint in ``GLM_LSP_BASE_URL`` (the user's own
environment) get the key without a question. A ``baseUrl`` from settings naming any other host
may come from a cloned repository (``.helix/languages.toml``, ``.nvim.lua``, ``.dir-locals.el``):
that host gets no request at all, warm-up included, until the user answers ``Allow`` to
"Send your GLM API key to <host>?". Plain ``http`` to any host but this machine always asks
(the question says "unencrypted"), wherever the URL came from. The answer is remembered per
``scheme://host:port`` in the user's state directory (``trust/consent.py``), never in the workspace.

``KeyDestination.check`` is the hard gate (a front door calls it before it hands out the GLM
client, so no feature can get past it); ``KeyDestination.confirm`` is where a feature asks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from glm_lsp.glm.errors import GlmError
from glm_lsp.trust.asker import Asker
from glm_lsp.trust.consent import KEY_HOST, Answer, ConsentStore, ask

if TYPE_CHECKING:
    from glm_lsp.config import GlmSettings

BASE_URL_ENV = "GLM_LSP_BASE_URL"


def is_trusted_host(host: str) -> bool:
    """GLM's own domains and this machine."""
    from glm_lsp.glm.dialects import is_glm_host  # on the first request, not at start

    return _is_loopback(host) or is_glm_host(host)


def _is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_DEFAULT_PORTS = {"https": 443, "http": 80}


def host_subject(url: str) -> str:
    """``scheme://host:port`` of a URL, as consent is remembered: another port is another
    service, and ``Allow`` for https must not send the key in clear text to http."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = _DEFAULT_PORTS.get(scheme)
    return f"{scheme}://{host}:{port}" if port is not None else f"{scheme}://{host}"


def is_unencrypted(subject: str) -> bool:
    return subject.startswith("http://")


def host_needing_consent(
    settings: GlmSettings, environ: Mapping[str, str] | None = None
) -> str | None:
    """The ``scheme://host:port`` the key would go to when the user must agree first: plain
    http to any host but this machine (always: the key would cross the network in clear
    text), or a host only the settings chose that is neither GLM nor this machine. None
    when the key may go without asking."""
    env = os.environ if environ is None else environ
    if settings.base_url_problem(dict(env)) is not None:
        return None  # no URL: nothing is sent at all (see GlmSettings.base_url_problem)
    from_env = env.get(BASE_URL_ENV, "").strip()
    url = from_env or settings.base_url
    host = urlsplit(url).hostname or ""
    if urlsplit(url).scheme.lower() == "http" and not _is_loopback(host):
        return host_subject(url)
    if from_env:
        return None  # the user's own environment chose the endpoint
    if is_trusted_host(host):
        return None
    return host_subject(url)


def consent_question(subject: str) -> str:
    if is_unencrypted(subject):
        return (
            f"Send your GLM API key to {subject} unencrypted? The endpoint (glm.baseUrl or "
            f"{BASE_URL_ENV}) uses plain http, so anyone on the network path can read the key."
        )
    return (
        f"Send your GLM API key to {subject}? The glm.baseUrl setting names this host, "
        "which is not a GLM host; workspace settings can set it."
    )


class GlmKeyHostNotAllowedError(GlmError):
    """The settings name a host the user has not allowed: nothing was sent."""

    def __init__(self, host: str, answer: Answer | None = None) -> None:
        self.host = host
        self.answer = answer
        super().__init__(_why(host, answer))


def _why(host: str, answer: Answer | None) -> str:
    head = f"your GLM API key was not sent to {host} (glm.baseUrl)"
    if answer is Answer.UNSUPPORTED:
        return (
            f"{head}: this editor cannot ask you to allow it (no window/showMessageRequest). "
            f"If you trust {host}, set {BASE_URL_ENV} to that URL in the environment glm-lsp "
            "starts from; otherwise remove the setting."
        )
    if answer is Answer.DECLINED:
        return f"{head}: you chose Don't allow. Remove the setting to use GLM."
    return (
        f'{head}: it is sent there only once you answer Allow to "Send your GLM API key '
        f'to {host}?". Run a GLM action to be asked again, or remove the setting.'
    )


class KeyDestination:
    """The gate for the key's destination, with this session's answers (to say why not)."""

    def __init__(self, consent: ConsentStore) -> None:
        self.consent = consent
        self.answers: dict[str, Answer] = {}

    def check(self, settings: GlmSettings) -> None:
        """Raise unless the key may go to the configured endpoint now (no question asked)."""
        host = host_needing_consent(settings)
        if host is not None and not self.consent.allowed(KEY_HOST, host):
            raise GlmKeyHostNotAllowedError(host, self.answers.get(host))

    async def confirm(self, settings: GlmSettings, asker: Asker, *, has_key: bool) -> None:
        """Ask the user when the settings name an unknown host; raise unless they allow it."""
        host = host_needing_consent(settings)
        if host is None or not has_key:
            return  # no key: the feature's own "no key" message is the one to show
        answer = await ask(asker, self.consent, KEY_HOST, host, consent_question(host))
        self.answers[host] = answer
        if answer is not Answer.ALLOWED:
            raise GlmKeyHostNotAllowedError(host, answer)
