"""Editor diagnostics in the words a prompt uses."""

from __future__ import annotations

from lsprotocol.types import Diagnostic, DiagnosticSeverity

_SEVERITY = {
    DiagnosticSeverity.Error: "error",
    DiagnosticSeverity.Warning: "warning",
    DiagnosticSeverity.Information: "info",
    DiagnosticSeverity.Hint: "hint",
}


def describe_diagnostic(diagnostic: Diagnostic) -> str:
    """``line 12: error: undefined name 'x' [pyflakes F821]`` (1-based line)."""
    severity = _SEVERITY.get(diagnostic.severity or DiagnosticSeverity.Error, "error")
    origin = " ".join(str(part) for part in (diagnostic.source, diagnostic.code) if part)
    suffix = f" [{origin}]" if origin else ""
    line = diagnostic.range.start.line + 1
    return f"line {line}: {severity}: {diagnostic.message.strip()}{suffix}"
