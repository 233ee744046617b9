"""Logging: child loggers of ``glm_lsp``, forwarded to window/logMessage and a log file,
with every known secret redacted before any handler sees the record."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

ROOT = "glm_lsp"
REDACTED = "[REDACTED]"

_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a value (the API key) that must never reach a log line or a message."""
    if value and len(value) >= 6:
        _secrets.add(value)
        # Each half of an ``id.secret`` key is redacted on its own too: a message that quotes
        # one half (or a cut that splits the key) must not reveal it.
        key_id, _, secret = value.partition(".")
        for half in (key_id, secret):
            if len(half) >= 6:
                _secrets.add(half)


def secrets_from_environment(names: tuple[str, ...]) -> None:
    for name in names:
        register_secret(os.environ.get(name))


def redact(text: str) -> str:
    """``text`` with every registered secret replaced. Redact before any cut: a cut first
    could leave a piece of a key that no longer matches."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now so the redaction covers it as well.
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message)
        record.args = None
        return True


class CallbackHandler(logging.Handler):
    """Sends records to a callback (the server's window/logMessage), never raising."""

    def __init__(self, send: Callable[[int, str], None], level: int = logging.INFO) -> None:
        super().__init__(level)
        self._send = send
        self._busy = False

    def emit(self, record: logging.LogRecord) -> None:
        if self._busy:  # a log line emitted while sending one would recurse
            return
        self._busy = True
        try:
            self._send(record.levelno, self.format(record))
        except Exception:  # logging must never take the server down
            pass
        finally:
            self._busy = False


def setup_logging(*, verbose: int = 0, log_file: str | None = None) -> logging.Logger:
    """Configure the ``glm_lsp`` logger. Nothing goes to stdout: it carries JSON-RPC."""
    logger = logging.getLogger(ROOT)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    stderr.setFormatter(fmt)
    # Handler filters (unlike logger filters) also see records from child loggers.
    stderr.addFilter(RedactingFilter())
    logger.addHandler(stderr)
    if log_file:
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        file_handler.setFormatter(fmt)
        file_handler.addFilter(RedactingFilter())
        logger.addHandler(file_handler)
    # pygls logs through its own loggers; keep its warnings, redacted, in the same places.
    pygls_logger = logging.getLogger("pygls")
    pygls_logger.setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    for handler in logger.handlers:
        pygls_logger.addHandler(handler)
    pygls_logger.propagate = False
    return logger


def attach_client_logging(send: Callable[[int, str], None]) -> CallbackHandler:
    handler = CallbackHandler(send)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger(ROOT).addHandler(handler)
    return handler
