"""Named mutants (issues 13 and 29): each is applied to a copy of the tree, and the test meant
to kill it must then fail (and pass on the unmutated copy). Not part of the suite: run it by
hand, whole or only the mutants whose name holds one of the words given.

    .venv/bin/python tests/named_mutants.py [WORD ...]

Prints one line per mutant (KILLED, or SURVIVED) with the failing tests; exit status 1 when
any survived. ``benchmarks/mutation_score.py`` is the broad pass (mutmut); these are the slips
a person found, each with the test that now catches it.
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
    # Issue 29: the survivors of a pass over the third round's code.
    Mutant(
        "a CRLF split between chunks is one line ending",
        "glm_lsp/glm/sse.py",
        "self._trailing_cr = True",
        "self._trailing_cr = False",
        ("tests/unit/test_sse.py", "-k", "crlf_split_between_chunks"),
    ),
    Mutant(
        "a reset after the 200 headers is not a stale connection",
        "glm_lsp/glm/client.py",
        "answered = True",
        "answered = False",
        ("tests/unit/test_glm_client.py", "-k", "reset_after_the_headers"),
    ),
    Mutant(
        "only a cut error body is called over 64 KB",
        "glm_lsp/glm/client.py",
        "if message is None and cut:",
        "if message is None:",
        ("tests/unit/test_glm_client.py", "-k", "plain_text_error_page"),
    ),
    Mutant(
        "1312 is retried without a 429 too",
        "glm_lsp/glm/errors.py",
        "RATE_LIMITS = (1302, 1305, 1312)",
        "RATE_LIMITS = (1302, 1305)",
        ("tests/unit/test_glm_client.py", "-k", "1312_in_a_streams_error_event"),
    ),
    Mutant(
        "GLM hosts match by domain, not bare suffix",
        "glm_lsp/glm/dialects.py",
        'host == domain or host.endswith("." + domain)',
        "host.endswith(domain)",
        ("tests/unit/test_dialects.py", "-k", "glm_hosts_are_its_domains"),
    ),
    Mutant(
        "failed requests are counted in glm.status",
        "glm_lsp/glm/usage.py",
        "entry.requests += 1\n        if usage is not None:\n            entry.add(usage)",
        "if usage is not None:\n            entry.requests += 1\n            entry.add(usage)",
        ("tests/unit/test_glm_client.py", "-k", "failed_request_is_counted"),
    ),
    Mutant(
        "a pending consent question is keyed by its subject too",
        "glm_lsp/trust/consent.py",
        "key = (kind, subject)",
        "key = (kind, kind)",
        ("tests/unit/test_consent.py", "-k", "two_hosts_are_asked_apart"),
    ),
    Mutant(
        "loopback is an address, not a 127. prefix",
        "glm_lsp/trust/key_destination.py",
        "return ipaddress.ip_address(host).is_loopback",
        'return host.startswith("127.") or ipaddress.ip_address(host).is_loopback',
        ("tests/unit/test_key_destination.py", "-k", "only_looks_local"),
    ),
    Mutant(
        "an unreadable package.json is not read as no scripts",
        "glm_lsp/trust/risky_paths.py",
        "return object()",
        "return {}",  # what a package.json without the keys that run anything reads as
        ("tests/unit/test_risky_changes.py", "-k", "unreadable_package_json"),
    ),
    Mutant(
        "only [core] sets hooksPath",
        "glm_lsp/trust/risky_paths.py",
        'if section == "core" and match:',
        "if match:",
        ("tests/unit/test_risky_changes.py", "-k", "later_section_does_not_replace"),
    ),
    Mutant(
        "a file on disk changed at the same size is copied again",
        "glm_lsp/agent/check.py",
        "return written.source != (str(source), info.st_size, info.st_mtime_ns)",
        "return written.source[:2] != (str(source), info.st_size)",
        ("tests/unit/test_agent_check.py", "-k", "same_size_edit_on_disk"),
    ),
    Mutant(
        "no scratch copy inside the workspace",
        "glm_lsp/agent/check.py",
        "if _within(os.path.realpath(base), real_root):",
        "if False:",
        ("tests/unit/test_agent_check.py", "-k", "temporary_folder_inside_the_workspace"),
    ),
    Mutant(
        "the fit is measured with the closing newline",
        "glm_lsp/context/definitions.py",
        "[*whole, False], language)) <= max_chars:",
        '[*whole, False], language).rstrip("\\n")) <= max_chars:',
        ("tests/unit/test_workspace_context.py", "-k", "every_budget_up_to_1200"),
    ),
    Mutant(
        "a changed agent.exclude makes a new confinement",
        "glm_lsp/context/sources.py",
        "if files is None or files.exclude != tuple(exclude):",
        "if files is None:",
        ("tests/unit/test_context_sources.py", "-k", "changed_exclude_setting"),
    ),
    # Issue 29, second pass: slips mutmut cannot show (the table is built at import, before
    # mutmut picks a mutant) and the gaps its survivors pointed at.
    Mutant(
        "a risky-path row keeps its family",
        "glm_lsp/trust/risky_paths.py",
        "return [RiskyPath(family, kind, pattern, reason) for pattern in patterns]",
        "return [RiskyPath(kind, kind, pattern, reason) for pattern in patterns]",
        ("tests/unit/test_risky_paths.py", "-k", "family_kind_pattern_and_reason"),
    ),
    Mutant(
        "a risky-path row keeps its reason",
        "glm_lsp/trust/risky_paths.py",
        "return [RiskyPath(family, kind, pattern, reason) for pattern in patterns]",
        'return [RiskyPath(family, kind, pattern, "") for pattern in patterns]',
        ("tests/unit/test_risky_changes.py", "-k", "docs_table"),
    ),
    Mutant(
        "hooksPath = . makes the root's hooks risky",
        "glm_lsp/trust/risky_paths.py",
        'if folder == ".":',
        "if False:",
        ("tests/unit/test_risky_paths.py", "-k", "hooks_run_from_the_workspace_root"),
    ),
    Mutant(
        "a file inside glm-lsp's own folders, not only the folder",
        "glm_lsp/trust/risky_paths.py",
        "real_path == own or real_path.is_relative_to(own)",
        "real_path == own",
        ("tests/unit/test_risky_paths.py", "-k", "own_settings_and_consent"),
    ),
    Mutant(
        "package.json names scripts apart from installs",
        "glm_lsp/trust/risky_paths.py",
        "scripts = not isinstance(before, dict) or not isinstance(after, dict)",
        "scripts = True",
        ("tests/unit/test_risky_paths.py", "-k", "scripts_or_its_installs"),
    ),
    Mutant(
        "a GLM client registers its key for redaction",
        "glm_lsp/glm/client.py",
        "register_secret(api_key)",
        "register_secret(None)",
        ("tests/unit/test_glm_client_errors.py", "-k", "key_is_hidden"),
    ),
    Mutant(
        "only the Coding Plan's host is asked for a quota",
        "glm_lsp/glm/client.py",
        "QuotaWatcher(self.base_url, api_key) if is_coding_plan(self.base_url) else None",
        "QuotaWatcher(self.base_url, api_key)",
        ("tests/unit/test_glm_client_errors.py", "-k", "coding_plan_client_asks"),
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
    skipped = shutil.ignore_patterns(".venv", "node_modules", ".git", "mutants")
    shutil.copytree(ROOT, tree, ignore=skipped)
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


def main(words: list[str]) -> int:
    chosen = [m for m in MUTANTS if not words or any(w.lower() in m.name.lower() for w in words)]
    if not chosen:
        raise SystemExit(f"no mutant's name holds any of {words}")
    with tempfile.TemporaryDirectory(prefix="glm-lsp-mutants-") as scratch:
        results = [check(mutant, Path(scratch)) for mutant in chosen]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
