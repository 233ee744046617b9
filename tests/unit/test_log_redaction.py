"""The key never reaches a log line: whole, either half alone, or in a traceback."""

from __future__ import annotations

import logging

from glm_lsp.log import RedactingFilter, redact, register_secret

KEY = "0a1b2c3d4e5f.SecretHalfNotReal"  # an obviously fake id.secret key


def rendered(message: str, *args: object, exc: BaseException | None = None) -> str:
    record = logging.LogRecord("glm_lsp.test", logging.INFO, __file__, 1, message, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    RedactingFilter().filter(record)
    return record.getMessage()


def test_whole_key_and_each_half_alone_are_redacted() -> None:
    register_secret(KEY)
    key_id, _, secret = KEY.partition(".")
    for leaked in (KEY, key_id, secret, f"Bearer {KEY}"):
        text = rendered("upstream said %s today", leaked)
        assert key_id not in text and secret not in text, text
        assert "[REDACTED]" in text


def test_the_key_in_a_traceback_is_redacted() -> None:
    register_secret(KEY)
    try:
        raise ValueError(f"token {KEY.partition('.')[2]} rejected")
    except ValueError as error:
        text = rendered("request failed", exc=error)
    assert KEY.partition(".")[2] not in text
    assert "token [REDACTED] rejected" in text


def test_redact_leaves_other_text_alone() -> None:
    register_secret(KEY)
    assert redact("nothing secret here") == "nothing secret here"
