"""Command line: ``glm-lsp`` (stdio), ``--tcp --port N``, ``--log-file``, ``-v``, ``--version``,
and ``glm-lsp doctor``. The CLI's own output is the only place print is allowed."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time

from . import __version__

_KEY_SHAPE = re.compile(r"^[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}$")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glm-lsp", description="GLM-5.1 language server (LSP over stdio by default)."
    )
    parser.add_argument("--version", action="version", version=f"glm-lsp {__version__}")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    parser.add_argument("--log-file", help="also write the log to this file")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command")
    doctor = sub.add_parser("doctor", help="check the key and the endpoint with one tiny request")
    doctor.add_argument("--model", default=None, help="model to try (default glm-5.1)")
    doctor.add_argument("--base-url", default=None, help="endpoint (default: GLM_LSP_BASE_URL)")
    doctor.add_argument("--api-key-env", default=None, help="variable holding the key")
    doctor.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "doctor":
        return doctor(args)
    from .log import setup_logging
    from .server import create_server

    logger = setup_logging(verbose=args.verbose, log_file=args.log_file)
    transport = f"tcp {args.host}:{args.port}" if args.tcp else "stdio"
    logger.info(
        "glm-lsp %s starting on %s (Python %s)", __version__, transport, sys.version.split()[0]
    )
    server = create_server()
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return 0


def doctor(args: argparse.Namespace) -> int:
    """One line per check; exit 1 with a reason a person can act on."""
    from .config import DEFAULT_KEY_ENVS, GlmSettings  # lazy: the server starts without pydantic

    overrides: dict[str, object] = {}
    if args.model:
        overrides["model"] = args.model
    if args.api_key_env:
        overrides["api_key_env"] = args.api_key_env
    try:
        settings = GlmSettings(**overrides)
    except ValueError as exc:
        return _fail(f"bad option: {exc}")
    names = settings.key_env_names()
    key = settings.api_key()
    if not key:
        where = " or ".join(names) if settings.api_key_env else " or ".join(DEFAULT_KEY_ENVS)
        return _fail(f"no API key: set {where} (export {names[0]}=<id.secret>) and run again")
    from .log import redact, register_secret

    register_secret(key)
    if not _KEY_SHAPE.match(key):
        return _fail("the API key does not look like <id>.<secret>; copy it again from the console")
    base_url = args.base_url or settings.effective_base_url()
    print(f"key      ok ({_which_env(names)}, {len(key)} characters)")
    print(f"endpoint {base_url}")
    try:
        latency_ms, text = asyncio.run(_ping(base_url, key, settings.model, args.timeout))
    except Exception as exc:
        message = getattr(exc, "user_message", None) or f"{type(exc).__name__}: {exc}"
        return _fail(redact(str(message)))
    from .glm.usage import quota_multiplier

    print(f"model    {settings.model} answered in {latency_ms:.0f} ms ({text!r})")
    print(f"quota    {quota_multiplier()}x now (3x 14:00-18:00 UTC+8, else 2x)")
    print("ok: glm-lsp is ready")
    return 0


async def _ping(base_url: str, key: str, model: str, timeout: float) -> tuple[float, str]:
    from .glm.client import GlmClient
    from .glm.models import ChatRequest

    client = GlmClient(base_url=base_url, api_key=key, timeout=timeout, max_retries=0)
    try:
        request = ChatRequest(
            model=model,
            messages=[{"role": "user", "content": "Reply with the single word: pong"}],
            max_tokens=16,
            thinking=False,
        )
        started = time.perf_counter()
        result = await client.chat(request, feature="doctor", allow_truncated=True)
        return (time.perf_counter() - started) * 1000, result.text.strip()[:40]
    finally:
        await client.aclose()


def _which_env(names: tuple[str, ...]) -> str:
    return next((n for n in names if os.environ.get(n, "").strip()), names[0])


def _fail(reason: str) -> int:
    print(f"glm-lsp doctor: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
