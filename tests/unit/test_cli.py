"""The command line: a plain start skips argparse, with exactly the parser's defaults."""

from __future__ import annotations

import subprocess
import sys

import pytest

from glm_lsp.cli import PLAIN_START, build_parser, parse_args


def test_a_plain_start_has_exactly_the_parsers_defaults() -> None:
    assert vars(parse_args([])) == vars(build_parser().parse_args([]))
    assert vars(parse_args([])) == PLAIN_START


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--tcp", "--port", "9000"], {"tcp": True, "port": 9000}),
        (["-vv"], {"verbose": 2}),
        (["--acp"], {"acp": True}),
        (["doctor", "--model", "glm-4.7"], {"command": "doctor", "model": "glm-4.7"}),
    ],
)
def test_any_argument_goes_through_the_parser(argv: list[str], expected: dict[str, object]) -> None:
    parsed = vars(parse_args(argv))
    assert {name: parsed[name] for name in expected} == expected


def test_a_plain_start_does_not_load_argparse() -> None:
    probe = (
        "import sys; from glm_lsp.cli import parse_args; parse_args([]); "
        "print('argparse' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"
