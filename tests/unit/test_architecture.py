"""The layout's rules, as tests: the import-linter contracts in pyproject.toml hold, no
module imports itself back through a circle, and each contract really fails on the import it
forbids (checked on a copy of the package, so the tree is never touched)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
    )


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def _cycles(package: str) -> list[list[str]]:
    """Strongly connected groups of modules (imports under TYPE_CHECKING included)."""
    graph = grimp.build_graph(package)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return groups


def test_no_module_imports_itself_back_through_a_circle() -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    assert _cycles("glm_lsp") == []


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("glm_lsp/agent/loop.py", "import glm_lsp.lsp.server", "Cores know no front door"),
        ("glm_lsp/glm/usage.py", "import lsprotocol.types", "Cores know no front door"),
        ("glm_lsp/trust/consent.py", "import pygls.server", "Cores know no front door"),
        ("glm_lsp/glm/errors.py", "import glm_lsp.agent.loop", "Layers"),
        ("glm_lsp/workspace.py", "import glm_lsp.context.rules", "Layers"),
    ],
)
def test_each_contract_fails_on_the_import_it_forbids(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    copy = tmp_path / "tree"
    copy.mkdir()
    shutil.copytree(ROOT / "glm_lsp", copy / "glm_lsp")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n")
    result = _lint_imports(copy)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(row.startswith(contract) for row in broken), result.stdout
