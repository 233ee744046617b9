"""A small MCP server of the suite's own, on the mcp package's server side, for what the
real servers cannot be made to do on purpose: hang, fail, die mid-call, print junk.

``python tests/mcp_probe.py [--log FILE] [--started FILE] [--tools N] [--start-delay S]
[--junk-at-start]``

Tools: ``env`` (the environment's variable names, as JSON), ``echo {text}``,
``slow {seconds}``, ``big {size}`` (a text of ``size`` bytes), ``fail {}`` (an error result),
``die {}`` (exits mid-call), ``junk {}`` (a line that is not JSON-RPC on stdout, then "ok"),
and ``--tools N`` more named ``t0``...; ``--log`` gets one line per call (the tool's name),
so a test can tell which calls reached the server; ``--started`` gets the process id.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log")
    parser.add_argument("--tools", type=int, default=0)
    parser.add_argument("--start-delay", type=float, default=0.0)
    parser.add_argument("--junk-at-start", action="store_true")
    parser.add_argument("--started")
    options = parser.parse_args()
    if options.started:
        Path(options.started).write_text(str(os.getpid()))
    # The mcp package moves its wire off fd 1 (stray prints go to stderr); a copy taken now
    # still reaches the client, as junk from a careless server would.
    wire = os.dup(1)
    time.sleep(options.start_delay)
    if options.junk_at_start:
        sys.stdout.write("probe: starting up, hello!\n")
        sys.stdout.flush()

    def record(name: str) -> None:
        if options.log:
            with open(options.log, "a", encoding="utf-8") as out:
                out.write(name + "\n")

    server = MCPServer("probe")

    @server.tool(name="env", description="The names of the environment variables.")
    def env() -> str:
        record("env")
        return json.dumps(sorted(os.environ))

    @server.tool(name="echo", description="Answers with the text it was given.")
    def echo(text: str) -> str:
        record("echo")
        return f"probe heard: {text}"

    @server.tool(name="slow", description="Answers after some seconds.")
    def slow(seconds: float) -> str:
        record("slow")
        time.sleep(seconds)
        return "slow done"

    @server.tool(name="big", description="A text of the given size in bytes.")
    def big(size: int) -> str:
        record("big")
        line = "0123456789abcdef" * 4 + "\n"
        return (line * (size // len(line) + 1))[:size]

    @server.tool(name="fail", description="Always fails.")
    def fail() -> str:
        record("fail")
        raise RuntimeError("the probe failed on purpose")

    @server.tool(name="die", description="Exits in the middle of the call.")
    def die() -> str:
        record("die")
        os._exit(3)

    @server.tool(name="junk", description="Prints a line that is not MCP, then answers.")
    def junk() -> str:
        record("junk")
        os.write(wire, b"this is not json-rpc\n")
        return "junk done"

    def numbered(name: str) -> Any:
        def tool() -> str:
            record(name)
            return f"{name} done"

        return tool

    for index in range(options.tools):
        server.add_tool(numbered(f"t{index}"), name=f"t{index}", description="A numbered tool.")
    server.run("stdio")


if __name__ == "__main__":
    main()
