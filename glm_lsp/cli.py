"""Command line: ``glm-lsp`` (stdio), ``--acp`` (the agent over ACP), ``--tcp --port N``,
``--log-file``, ``-v``, ``--version``, and ``glm-lsp doctor``. The CLI's own output is the
only place print is allowed."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from glm_lsp import __version__

if TYPE_CHECKING:
    import argparse

# `glm-lsp` with no arguments, as editors start it: the parser's defaults, so that start-up
# skips argparse (building the parser and its help formatter is about 5 ms of the editor's wait
# for `initialize`). tests/unit/test_cli.py checks they equal the parser's.
PLAIN_START = {
    "command": None,
    "tcp": False,
    "acp": False,
    "host": "127.0.0.1",
    "port": 2087,
    "log_file": None,
    "verbose": 0,
}


def parse_args(argv: list[str] | None = None) -> Any:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return SimpleNamespace(**PLAIN_START)
    return build_parser().parse_args(argv)


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="glm-lsp", description="GLM-5.1 language server (LSP over stdio by default)."
    )
    parser.add_argument("--version", action="version", version=f"glm-lsp {__version__}")
    parser.add_argument("--tcp", action="store_true", help="serve over TCP instead of stdio")
    parser.add_argument(
        "--acp",
        action="store_true",
        help="speak the Agent Client Protocol over stdio (Zed, JetBrains, agent plugins)",
    )
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
    doctor.add_argument(
        "--provider",
        choices=("auto", "zai", "vllm", "sglang", "openai"),
        default="auto",
        help="the server's kind, as the glm.provider setting (default auto)",
    )
    doctor.add_argument(
        "--completion-model", default=None, help="model to time for completions (default: model)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    not_dumpable()
    args = parse_args(argv)
    if args.command == "doctor":
        return doctor(args)
    if args.acp:
        return acp(args)
    from glm_lsp.log import setup_logging
    from glm_lsp.lsp.server import create_server

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


def acp(args: argparse.Namespace) -> int:
    """The agent over ACP on stdio (glm_lsp/acp/); logs go to stderr and --log-file."""
    import asyncio

    from glm_lsp.acp.early_initialize import answer_initialize_early
    from glm_lsp.log import setup_logging

    logger = setup_logging(verbose=args.verbose, log_file=args.log_file)
    logger.info("glm-lsp %s starting the ACP agent on stdio", __version__)
    early = answer_initialize_early()  # before the protocol package loads: editors wait on it
    from glm_lsp.acp.agent import serve

    asyncio.run(serve(early))
    return 0


def not_dumpable() -> None:
    """No process of the same user may read this one's memory or /proc/PID/environ (where
    the key is): ``prctl(PR_SET_DUMPABLE, 0)`` on Linux, before anything else runs."""
    if not sys.platform.startswith("linux"):
        return
    import contextlib
    import ctypes

    pr_set_dumpable = 4
    with contextlib.suppress(OSError, AttributeError):  # no libc to call: nothing to do
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0)


def doctor(args: argparse.Namespace) -> int:
    """One line per check; exit 1 with a reason a person can act on (glm_lsp/doctor.py)."""
    from glm_lsp.doctor import run_doctor

    return run_doctor(args)


if __name__ == "__main__":
    sys.exit(main())
