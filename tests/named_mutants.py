"""Issue 13's named mutants: each is applied to a copy of the tree, and the test meant to kill
it must then fail (and pass on the unmutated copy). Not part of the suite: run it by hand.

    .venv/bin/python tests/named_mutants.py

Prints one line per mutant (KILLED, or SURVIVED) with the failing tests; exit status 1 when
any survived.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    original: str
    mutated: str
    test: tuple[str, ...]


MUTANTS = (
    Mutant(
        "Retry-After capped at 30 s",
        "glm_lsp/glm/client.py",
        "return min(retry_after, MAX_RETRY_AFTER)",
        "return retry_after",
        ("tests/unit/test_glm_client.py", "-k", "capped_at_30"),
    ),
    Mutant(
        "Retry-After as an HTTP date",
        "glm_lsp/glm/client.py",
        "return max(0.0, when.timestamp() - time.time())",
        "return None",
        ("tests/unit/test_glm_client.py", "-k", "http_date"),
    ),
    Mutant(
        "backoff grows past the first retry",
        "glm_lsp/glm/client.py",
        "backoff_base * (2**attempt)",
        "backoff_base * (2 ** min(attempt, 1))",
        ("tests/unit/test_glm_client.py", "-k", "exponentially"),
    ),
    Mutant(
        "retry after the editor refuses a moved-on edit",
        "glm_lsp/lsp/features/apply.py",
        "for attempt in range(2):",
        "for attempt in range(1):",
        ("tests/e2e/test_apply_retry.py",),
    ),
    Mutant(
        "the key's secret half is registered for redaction",
        "glm_lsp/log.py",
        "for half in (key_id, secret):",
        "for half in (key_id,):",
        ("tests/unit/test_glm_client.py", "-k", "either_half_of_the_key_alone_is_redacted"),
    ),
)


def run_tests(tree: Path, test: tuple[str, ...]) -> tuple[int, list[str]]:
    """pytest on ``tree``'s own code (PYTHONPATH reaches the server subprocesses too)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    probe = [sys.executable, "-c", "import glm_lsp; print(glm_lsp.__file__)"]
    imported = subprocess.run(probe, cwd=tree, env=env, capture_output=True, text=True).stdout
    if not imported.startswith(str(tree)):
        raise SystemExit(f"the copy's glm_lsp is not the one imported: {imported!r}")
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *test]
    done = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, timeout=600)
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAILED")]
    return done.returncode, failed


def check(mutant: Mutant, scratch: Path) -> bool:
    tree = scratch / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".venv", "node_modules", ".git"))
    clean_status, _ = run_tests(tree, mutant.test)
    target = tree / mutant.path
    text = target.read_text(encoding="utf-8")
    if text.count(mutant.original) != 1:
        raise SystemExit(f"{mutant.name}: {mutant.original!r} is not in {mutant.path} once")
    target.write_text(text.replace(mutant.original, mutant.mutated), encoding="utf-8")
    mutant_status, failed = run_tests(tree, mutant.test)
    killed = clean_status == 0 and mutant_status == 1
    print(f"{'KILLED' if killed else 'SURVIVED'}: {mutant.name} (unmutated exit {clean_status})")
    for line in failed:
        print(f"    {line}")
    return killed


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="glm-lsp-mutants-") as scratch:
        results = [check(mutant, Path(scratch)) for mutant in MUTANTS]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
