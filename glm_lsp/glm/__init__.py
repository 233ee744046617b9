"""The GLM API client: requests, streaming, dialects, errors and usage. Knows no editor."""

import sys

# httpx imports its command-line tool (click, rich, pygments: about 5 MB resident) whenever
# those happen to be installed; this process never runs it, so that import is skipped.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
