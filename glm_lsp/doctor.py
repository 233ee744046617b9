"""``glm-lsp doctor``: is this machine ready? One line per check, as a person reads them.

Checks, in order: the key (present; GLM's ``<id>.<secret>`` shape for Z.AI), the endpoint and
the provider assumed for it, the models a self-hosted server lists (``GET models``), one tiny
request to the main model, tool calling (self-hosted: one tiny tool-call request), and the
completion model timed on its own (time to first token on a warm connection, as ghost text
sees it). A failure ends with one line on stderr a person can act on, and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from contextlib import aclosing
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glm_lsp.glm.client import GlmClient
    from glm_lsp.glm.dialects import Dialect

_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}$")
# Ghost text that comes later than this after a pause feels slow; glm-4.7-flash answers in
# about 0.4 s (see the README, "Choosing the completion model").
COMPLETION_BUDGET_MS = 1000.0
FAST_COMPLETION_MODEL = "glm-4.7-flash"
_FAST_MODEL_WORDS = ("flash", "air", "mini", "small")
# doctor's probes; tests/fake_glm.py answers them apart from its script.
PING_PROMPT = "Reply with the single word: pong"
COMPLETION_PROBE_PROMPT = "def add(a, b):\n    return "


class DoctorFailure(Exception):
    """A check failed; the message is the one line shown."""


def run_doctor(args: argparse.Namespace) -> int:
    from glm_lsp.config import (  # lazy: the server starts without pydantic
        DEFAULT_KEY_ENVS,
        GlmSettings,
        layered,
        parse_settings,
        read_user_settings,
        user_settings_path,
    )
    from glm_lsp.glm.dialects import resolve_dialect
    from glm_lsp.log import redact, register_secret

    overrides: dict[str, object] = {}
    if args.model:
        overrides["model"] = args.model
    if args.api_key_env:
        overrides["api_key_env"] = args.api_key_env
    try:
        GlmSettings(**overrides)  # a bad option fails here, before anything else
    except ValueError as exc:
        return _fail(f"bad option: {exc}")
    # The user's settings file is every front door's lowest layer (the only one of --acp), so
    # doctor checks what it says; the options go over it.
    base, file_warnings = read_user_settings()
    upper = {"model": args.model, "apiKeyEnv": args.api_key_env}
    settings, warnings = parse_settings(layered(base, {k: v for k, v in upper.items() if v}))
    path = user_settings_path()
    print(f"settings {path if base else f'none in {path}: defaults'}")
    for warning in file_warnings + warnings:
        print(f"settings {warning}")
    from glm_lsp.agent.check_sandbox import sandbox_report

    print(f"sandbox  {sandbox_report()}")  # not a failure: the check asks instead
    names = settings.key_env_names()
    key = settings.api_key()
    if not key:
        where = " or ".join(names) if settings.api_key_env else " or ".join(DEFAULT_KEY_ENVS)
        return _fail(f"no API key: set {where} (export {names[0]}=<id.secret>) and run again")
    register_secret(key)
    base_url = args.base_url or settings.effective_base_url()
    url_problem = settings.base_url_problem()
    if args.base_url:
        from .config import url_problem as why_not_url

        why = why_not_url(args.base_url)
        url_problem = f"--base-url '{args.base_url}' is not a usable URL: {why}" if why else None
    if url_problem is not None:  # never another host in its place
        return _fail(url_problem)
    dialect = resolve_dialect(args.provider, base_url)
    # Z.AI's keys are <id>.<secret>; a self-hosted server's --api-key can be any text.
    if dialect.name == "zai" and not _KEY_SHAPE.match(key):
        return _fail("the API key does not look like <id>.<secret>; copy it again from the console")
    print(f"key      ok ({_which_env(names)}, {len(key)} characters)")
    print(f"endpoint {base_url} ({_endpoint_source(args.base_url, settings)})")
    print(f"provider {dialect.name} ({_why_provider(args.provider, dialect.name)})")
    completion_model = args.completion_model or settings.model
    try:
        asyncio.run(_checks(base_url, key, dialect, settings.model, completion_model, args))
    except DoctorFailure as exc:
        return _fail(redact(str(exc)))
    except Exception as exc:
        message = getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
        return _fail(redact(str(message)))
    print("ok: glm-lsp is ready")
    return 0


def _endpoint_source(option: str | None, settings: object) -> str:
    """Where the endpoint came from: an editor's baseUrl setting is not read here, so a
    user comparing the two knows which one was checked."""
    from .config import BASE_URL_ENV, DEFAULT_BASE_URL

    if option:
        return "from --base-url"
    if os.environ.get(BASE_URL_ENV, "").strip():
        return f"from {BASE_URL_ENV}"
    if getattr(settings, "base_url", DEFAULT_BASE_URL) != DEFAULT_BASE_URL:
        from .config import user_settings_path

        return f"from {user_settings_path()}"
    return "the default; for an editor's glm.baseUrl run doctor --base-url <it>"


async def _checks(
    base_url: str,
    key: str,
    dialect: Dialect,
    model: str,
    completion_model: str,
    args: argparse.Namespace,
) -> None:
    from glm_lsp.glm.client import GlmClient
    from glm_lsp.glm.usage import is_coding_plan, quota_multiplier

    client = GlmClient(
        base_url=base_url, api_key=key, timeout=args.timeout, max_retries=0, dialect=dialect
    )
    try:
        if dialect.name != "zai":
            await _check_models(client, {model, completion_model})
        latency_ms, text = await _ping(client, model)
        print(f"model    {model} answered in {latency_ms:.0f} ms ({text!r})")
        tools_off = dialect.name != "zai" and not await _check_tools(client, model)
        await _time_completion(client, completion_model, dialect)
        if is_coding_plan(base_url):
            from .glm.quota import describe

            print(
                f"quota    {quota_multiplier()}x now (Coding Plan: 3x 14:00-18:00 UTC+8, else 2x)"
            )
            print(f"         {describe(await client.quota())}")
    finally:
        await client.aclose()
    if tools_off:
        from glm_lsp.glm.dialects import tool_calling_help

        raise DoctorFailure(f"the agent cannot work: {tool_calling_help()}")


async def _check_models(client: GlmClient, wanted: set[str]) -> None:
    from glm_lsp.glm.errors import GlmError

    try:
        served = await client.list_models()
    except GlmError as exc:  # some gateways have no model list; the ping still tells
        print(f"models   not listed ({exc.user_message})")
        return
    print(f"models   {', '.join(served) or '(none)'}")
    missing = sorted(wanted - set(served))
    if served and missing:
        raise DoctorFailure(
            f"the endpoint does not serve {', '.join(missing)}; it serves {', '.join(served)}: "
            "set glm.model (or --model) to one of them, or start the server with "
            f"--served-model-name {missing[0]}"
        )


async def _ping(client: GlmClient, model: str) -> tuple[float, str]:
    from glm_lsp.glm.models import ChatRequest

    request = ChatRequest(
        model=model,
        messages=[{"role": "user", "content": PING_PROMPT}],
        max_tokens=16,
        thinking=False,
    )
    started = time.perf_counter()
    result = await client.chat(request, feature="doctor", allow_truncated=True)
    return (time.perf_counter() - started) * 1000, result.text.strip()[:40]


_PROBE_TOOL = {
    "type": "function",
    "function": {
        "name": "report_ready",
        "description": "Report that you are ready.",
        "parameters": {"type": "object", "properties": {}, "required": []},
    },
}


async def _check_tools(client: GlmClient, model: str) -> bool:
    """One tiny tool-call request; False when the server has tool calling off."""
    from glm_lsp.glm.dialects import VLLM_TOOL_FLAGS, tool_calling_off
    from glm_lsp.glm.errors import GlmStatusError
    from glm_lsp.glm.models import ChatRequest

    request = ChatRequest(
        model=model,
        messages=[{"role": "user", "content": "Call the report_ready tool."}],
        tools=[_PROBE_TOOL],
        max_tokens=64,
        thinking=False,
    )
    try:
        result = await client.chat(request, feature="doctor", allow_truncated=True)
    except GlmStatusError as exc:
        if exc.status == 400 and (tool_calling_off(exc.user_message) or "tool" in exc.user_message):
            print(f"tools    OFF: {exc.user_message}")
            return False
        raise
    if result.tool_calls:
        print(f"tools    ok ({model} called the test tool)")
    else:
        print(
            f"tools    {model} answered without calling the test tool: if agent runs never "
            f"edit anything, check the server's tool parser ({VLLM_TOOL_FLAGS})"
        )
    return True


async def _time_completion(client: GlmClient, model: str, dialect: Dialect) -> None:
    """Time to the first token of a completion-shaped request, thinking off, on a warm
    connection (the server keeps one warm for completions too)."""
    from glm_lsp.glm.models import ChatRequest, ReasoningDelta, TextDelta

    request = ChatRequest(
        model=model,
        messages=[
            {"role": "system", "content": "Complete the code at the cursor. Reply with code only."},
            {"role": "user", "content": COMPLETION_PROBE_PROMPT},
        ],
        max_tokens=16,
        thinking=False,
    )
    thought = False
    first_ms: float | None = None
    started = time.perf_counter()
    stream = client.stream_chat(request, feature="doctor", allow_truncated=True, max_retries=0)
    async with aclosing(stream) as events:
        async for event in events:
            if isinstance(event, ReasoningDelta):
                thought = True
            elif isinstance(event, TextDelta):
                first_ms = (time.perf_counter() - started) * 1000
                break  # the rest of the reply does not matter here
    if first_ms is None:
        print(f"complete {model} answered no text to a completion request")
        return
    print(f"complete {model}: first token after {first_ms:.0f} ms (completion model, thinking off)")
    if thought:
        print(f"         {_thinking_advice(client, model, dialect)}")
    if first_ms >= COMPLETION_BUDGET_MS and not _looks_fast(model):
        print(f"         {_faster_model_advice(dialect)}")


def _thinking_advice(client: GlmClient, model: str, dialect: Dialect) -> str:
    """Why the completion model thought with thinking off, and the setting that fixes it."""
    from .glm.thinking import MODEL_THAT_STOPS_THINKING

    if dialect.name != "zai":
        return (
            "it thought before completing although thinking was off: for a self-hosted GLM "
            "set glm.provider to vllm or sglang"
        )
    effort = client.always_thinking.get(model)
    how = (
        f"refuses thinking off (400 / 1210; now sent reasoning_effort {effort!r})"
        if effort
        else "ignores thinking off (reasoning arrived anyway)"
    )
    return (
        f"thinking does not turn off: {model} {how} on this endpoint, so every completion "
        f"thinks first: set glm.completion.model to {MODEL_THAT_STOPS_THINKING}, whose "
        "thinking turns off"
    )


def _looks_fast(model: str) -> bool:
    return any(word in model.lower() for word in _FAST_MODEL_WORDS)


def _faster_model_advice(dialect: Dialect) -> str:
    if dialect.name == "zai":
        return (
            f"a faster completion model would help ghost text: set glm.completion.model to "
            f"{FAST_COMPLETION_MODEL} (about 0.4 s to first token, ~120 tokens/s in public "
            "figures), if your plan serves it"
        )
    return (
        "a faster completion model would help ghost text: serve a small GLM (GLM-4.7-Flash, "
        "30B-A3B) beside this one and set glm.completion.model to its name"
    )


def _why_provider(requested: str, resolved: str) -> str:
    if requested != "auto":
        return "--provider"
    if resolved == "zai":
        return "auto: a GLM endpoint"
    return "auto: not a GLM host; for a self-hosted GLM pass --provider vllm or sglang"


def _which_env(names: tuple[str, ...]) -> str:
    return next((n for n in names if os.environ.get(n, "").strip()), names[0])


def _fail(reason: str) -> int:
    print(f"glm-lsp doctor: {reason}", file=sys.stderr)
    return 1
