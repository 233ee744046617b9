"""Each HTTP status and GLM business code, and the error the user is shown for it: its class
(retried or not), its words, and what it carries (status, code, request id, Retry-After)."""

from __future__ import annotations

import pytest

from glm_lsp.glm.errors import (
    KEY_HELP,
    GlmAuthError,
    GlmBusyError,
    GlmError,
    GlmNoBalanceError,
    GlmPlanLimitError,
    GlmPromptTooLongError,
    GlmRateLimitError,
    GlmServerError,
    GlmStatusError,
    GlmStreamBrokenError,
    error_from_response,
)


@pytest.mark.parametrize(
    ("status", "code", "message", "kind", "words"),
    [
        (401, None, "bad token", GlmAuthError, f"GLM rejected the API key (bad token). {KEY_HELP}"),
        (400, "1000", None, GlmAuthError, f"GLM rejected the API key. {KEY_HELP}"),
        (400, "1005", None, GlmAuthError, f"GLM rejected the API key. {KEY_HELP}"),
        (
            429,
            "1113",
            "no money",
            GlmNoBalanceError,
            "GLM says the account has no balance left (code 1113); top up or use another key.",
        ),
        (
            400,
            "1211",
            "unknown model",
            GlmStatusError,
            "GLM does not know this model (unknown model); check the glm.model setting.",
        ),
        (
            400,
            "1261",
            None,
            GlmPromptTooLongError,
            "The prompt is too long for GLM; select less code.",
        ),
        (
            429,
            "1309",
            "expired",
            GlmPlanLimitError,
            "GLM: the plan has expired (code 1309): expired. Not retried.",
        ),
        (
            429,
            "1311",
            None,
            GlmPlanLimitError,
            "GLM: this model is not included in your plan (check glm.model) (code 1311). "
            "Not retried.",
        ),
        (
            400,
            "1214",
            "top_p",
            GlmStatusError,
            "GLM rejected a request parameter (code 1214) (top_p).",
        ),
        (
            400,
            "1301",
            "unsafe",
            GlmStatusError,
            "GLM's content filter refused the request (unsafe).",
        ),
        (
            429,
            None,
            None,
            GlmRateLimitError,
            "GLM is rate limiting or overloaded; try again shortly.",
        ),
        (
            200,
            "1312",
            "slow down",
            GlmRateLimitError,
            "GLM is rate limiting or overloaded (slow down); try again shortly.",
        ),
        (
            429,
            "1305",
            None,
            GlmBusyError,
            "GLM is rate limiting or overloaded (code 1305); try again shortly.",
        ),
        (503, None, "busy", GlmServerError, "GLM had a server error (HTTP 503) (busy)."),
        (500, "1234", None, GlmServerError, "GLM had a server error (HTTP 500)."),
        (
            200,
            "1234",
            "oops",
            GlmStreamBrokenError,
            "GLM reported an error mid-reply (code 1234) (oops); nothing was applied.",
        ),
        (
            200,
            None,
            None,
            GlmStreamBrokenError,
            "GLM reported an error mid-reply; nothing was applied.",
        ),
        (404, None, "no route", GlmStatusError, "GLM refused the request (HTTP 404) (no route)."),
        (402, "1006", None, GlmStatusError, "GLM refused the request (HTTP 402)."),
        (400, "not-a-number", "x", GlmStatusError, "GLM refused the request (HTTP 400) (x)."),
    ],
)
def test_each_status_and_code_has_its_error_and_words(
    status: int, code: str | None, message: str | None, kind: type[GlmError], words: str
) -> None:
    error = error_from_response(status, code, message, "req-7", 2.0)
    assert type(error) is kind
    assert error.user_message == words
    assert (error.status, error.code, error.request_id) == (status, code, "req-7")


def test_rate_limits_and_server_errors_carry_retry_after_and_are_retried() -> None:
    for status in (429, 503):
        error = error_from_response(status, None, None, None, 2.5)
        assert isinstance(error, (GlmRateLimitError, GlmServerError))
        assert error.retry_after == 2.5 and error.retryable
    for status, code in ((401, None), (429, "1113"), (429, "1310"), (400, "1214")):
        assert not error_from_response(status, code, None, None, 2.5).retryable
