"""Mutation score per core package, by mutmut: how many small slips the unit tests catch.

Not in CI and not in run_all.py: a package takes minutes (the time is printed). Run it by
hand after changing a core or its tests, one package at a time on a shared machine:

    .venv/bin/python benchmarks/mutation_score.py [PACKAGE ...] [--max-children N]
        [--show-survivors] [--keep | --again TREE]

PACKAGE is one of the names in PACKAGES (default: all, one after another). Each runs in its
own scratch copy of the tree, because mutmut works in ``./mutants`` and reads ``[tool.mutmut]``
from ``pyproject.toml``: the copy's table is rewritten to mutate only that package's files and
to run only its unit tests (never the end-to-end ones). The score counts a timeout as a kill,
as mutmut does, and a mutant no selected test reaches ("no tests") as a survivor.
``--show-survivors`` prints each survivor's diff, to judge it: a missing test, or a mutant
that changes nothing anyone can observe (say why in one line where the score is reported).

``--keep`` leaves the copy (its path is printed); ``--again TREE`` then copies the tests as they
are now into it and tests only its survivors again (``--only GLOB ...``: those whose name
matches, e.g. ``"glm_lsp.glm.chunks.*"``): the quick loop while adding tests.

``tests/named_mutants.py`` is the other half: the slips a person found, each with its test.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Package:
    mutate: tuple[str, ...]  # glob patterns of the files to mutate, from the repository root
    tests: tuple[str, ...]  # the unit test files that cover them


PACKAGES = {
    "glm": Package(
        ("glm_lsp/glm/*.py",),
        (
            "tests/unit/test_glm_client.py",
            "tests/unit/test_sse.py",
            "tests/unit/test_dialects.py",
            "tests/unit/test_request_golden.py",
            "tests/unit/test_usage.py",
            "tests/unit/test_glm_errors.py",
            "tests/unit/test_glm_service_now.py",
            "tests/unit/test_glm_holder.py",
            "tests/unit/test_glm_client_errors.py",
            "tests/unit/test_glm_stream_reading.py",
            "tests/unit/test_glm_quota_thinking.py",
        ),
    ),
    "trust": Package(
        ("glm_lsp/trust/*.py",),
        (
            "tests/unit/test_consent.py",
            "tests/unit/test_key_destination.py",
            "tests/unit/test_risky_changes.py",
            "tests/unit/test_risky_paths.py",
            "tests/unit/test_excluded_files.py",
        ),
    ),
    "context": Package(
        ("glm_lsp/context/*.py",),
        (
            "tests/unit/test_workspace_context.py",
            "tests/unit/test_context_sources.py",
            "tests/unit/test_context.py",
            "tests/unit/test_rules_files.py",
            "tests/unit/test_prompt_context_placement.py",
        ),
    ),
    "agent-check": Package(("glm_lsp/agent/check.py",), ("tests/unit/test_agent_check.py",)),
}

# A mutant that makes a test wait forever is stopped by pytest-timeout (mutmut's own limit
# counts CPU seconds, which a wait does not use). The slowest unit test of these packages
# takes 2.5 s: 10 s leaves room on a loaded machine, and a hanging mutant costs 10 s, not 30.
# (Changing these arguments makes mutmut forget a kept copy's results: it reruns them all.)
PYTEST_ARGS = ("-p", "no:cacheprovider", "-q", "--timeout=10")
# Log lines are not mutated: their words are for a person reading the log, and no test reads
# them (the key's redaction, which matters, is log.py's filter, tested on its own).
NOT_MUTATED = (r"^\s*log\.(debug|info|warning|error|exception)\(",)
KILLED = ("killed", "timeout", "caught by type check")
SURVIVED = ("survived", "no tests", "suspicious", "segfault")
_TABLE = re.compile(r"^\[tool\.mutmut\]\n(?:(?!\[).*\n)*", re.MULTILINE)
_RESULT = re.compile(r"^\s+(\S+): (.+)$")


def mutmut_table(package: Package) -> str:
    def toml_list(items: tuple[str, ...]) -> str:
        return "[" + ", ".join(json.dumps(item) for item in items) + "]"

    return (
        "[tool.mutmut]\n"
        'source_paths = ["glm_lsp"]\n'
        f"only_mutate = {toml_list(package.mutate)}\n"
        f"pytest_add_cli_args = {toml_list(PYTEST_ARGS)}\n"
        f"pytest_add_cli_args_test_selection = {toml_list(package.tests)}\n"
        f"do_not_mutate_patterns = {toml_list(NOT_MUTATED)}\n"
        'also_copy = ["docs"]\n'  # tests that read the docs (risky-paths.md) run in mutants/
    )


_SKIPPED = shutil.ignore_patterns(
    ".venv", "node_modules", ".git", "mutants", "*_cache", "__pycache__", ".hypothesis"
)


def scratch_tree(scratch: Path, package: Package) -> Path:
    tree = scratch / "tree"
    shutil.copytree(ROOT, tree, ignore=_SKIPPED)
    pyproject = tree / "pyproject.toml"
    text = _TABLE.sub("", pyproject.read_text(encoding="utf-8"))
    pyproject.write_text(text.rstrip("\n") + "\n\n" + mutmut_table(package), encoding="utf-8")
    return tree


def mutmut(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    program = Path(sys.executable).parent / "mutmut"
    return subprocess.run(
        [str(program), *args], cwd=tree, capture_output=True, text=True, check=False
    )


def score(name: str, package: Package, options: argparse.Namespace) -> float | None:
    scratch = Path(tempfile.mkdtemp(prefix=f"glm-lsp-mutmut-{name}-"))
    tree = scratch / "tree"
    try:
        scratch_tree(scratch, package)
        started = time.monotonic()
        run = mutmut(tree, "run", "--max-children", str(options.max_children))
        return report(name, tree, run, time.monotonic() - started, options.show_survivors)
    finally:
        if options.keep:
            print(f"    kept: {tree} (--again {tree}; mutmut browse there)")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def again(tree: Path, options: argparse.Namespace) -> float | None:
    """A kept copy, with the repository's tests as they are now: the mutants a stopped run
    left unchecked, then its survivors, tested again (the verdicts on killed mutants stand:
    tests are only ever added or made stricter). The copy's test selection is rewritten from
    PACKAGES, so a test file added since is found (mutmut collects its stats then).
    ``options.only``: survivors whose name matches one of these globs, only."""
    shutil.copytree(ROOT / "tests", tree / "tests", dirs_exist_ok=True, ignore=_SKIPPED)
    package = package_of(tree)
    if package is not None:
        pyproject = tree / "pyproject.toml"
        text = _TABLE.sub("", pyproject.read_text(encoding="utf-8"))
        pyproject.write_text(text.rstrip("\n") + "\n\n" + mutmut_table(package), "utf-8")
    children = ("--max-children", str(options.max_children))
    started = time.monotonic()
    run = mutmut(tree, "run", *children)  # resumes where a stopped run left off
    survivors = sorted(m for m, s in statuses_of(tree).items() if s in SURVIVED)
    if options.only:
        survivors = [m for m in survivors if any(fnmatch.fnmatch(m, p) for p in options.only)]
    if run.returncode == 0 and survivors:
        run = mutmut(tree, "run", *children, *survivors)
    return report(tree.parent.name, tree, run, time.monotonic() - started, options.show_survivors)


def package_of(tree: Path) -> Package | None:
    """The package a kept copy was made for, from its folder's name (score() names it)."""
    for name, package in PACKAGES.items():
        if tree.parent.name.startswith(f"glm-lsp-mutmut-{name}-"):
            return package
    return None


def statuses_of(tree: Path) -> dict[str, str]:
    listed = mutmut(tree, "results", "--all", "true")
    return {m.group(1): m.group(2) for m in map(_RESULT.match, listed.stdout.splitlines()) if m}


def report(
    name: str,
    tree: Path,
    run: subprocess.CompletedProcess[str],
    elapsed: float,
    show_survivors: bool,
) -> float | None:
    statuses = statuses_of(tree)
    if run.returncode != 0 or not statuses:
        print(f"{name}: mutmut failed (exit {run.returncode})")
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
        return None
    counts = Counter(statuses.values())
    killed = sum(counts[s] for s in KILLED)
    survivors = sorted(m for m, s in statuses.items() if s in SURVIVED)
    tested = killed + len(survivors)
    percent = 100.0 * killed / tested if tested else 0.0
    detail = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    print(f"{name}: {percent:.1f}% ({killed} of {tested} killed; {detail}) in {elapsed:.0f} s")
    changes = changed_lines(tree, survivors) if show_survivors else {}
    for mutant in survivors:
        print(f"    {statuses[mutant]}: {mutant}")
        for line in changes.get(mutant, []):
            print(f"        {line}")
    return percent


# One process for every diff (``mutmut show`` is one process, seconds, per mutant).
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name) for name in sys.argv[1:]}))
"""


def changed_lines(tree: Path, mutants: list[str]) -> dict[str, list[str]]:
    """Each mutant's removed and added lines (its diff without the context)."""
    if not mutants:
        return {}
    done = subprocess.run(
        [sys.executable, "-c", _DIFFS, *mutants],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {mutants[0]: [f"(no diffs: {done.stderr.strip()[-300:]})"]}
    diffs: dict[str, str] = json.loads(done.stdout)
    return {
        name: [
            line
            for line in diff.splitlines()
            if line[:1] in "-+" and not line.startswith(("---", "+++"))
        ]
        for name, diff in diffs.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="*", metavar="PACKAGE", help=", ".join(PACKAGES))
    parser.add_argument("--max-children", type=int, default=1, help="mutants at once (1)")
    parser.add_argument("--show-survivors", action="store_true", help="print their diffs")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument(
        "--again", type=Path, metavar="TREE", help="a kept copy: test its survivors again"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="GLOB", help="with --again: these survivors only"
    )
    args = parser.parse_args()
    if args.again:
        return 0 if again(args.again.resolve(), args) is not None else 1
    unknown = [n for n in args.packages if n not in PACKAGES]
    if unknown:
        parser.error(f"unknown package(s) {unknown}; known: {', '.join(PACKAGES)}")
    names = args.packages or list(PACKAGES)
    results = [score(n, PACKAGES[n], args) for n in names]
    return 0 if all(r is not None for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
