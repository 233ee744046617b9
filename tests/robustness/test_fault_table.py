"""docs/faults.md is generated from the test parameters; it must match them."""

from __future__ import annotations

from tests.robustness.gen_fault_table import TABLE_PATH, render


def test_the_committed_fault_table_is_up_to_date() -> None:
    assert TABLE_PATH.read_text(encoding="utf-8") == render(), (
        "docs/faults.md is stale: run python tests/robustness/gen_fault_table.py"
    )
