"""What can go wrong talking to GLM, each with a sentence a person can act on."""

from __future__ import annotations

from typing import Any

KEY_HELP = (
    "Set BIGMODEL_API_KEY (or ZAI_API_KEY, or the variable named by the glm.apiKeyEnv setting) "
    "in the environment the editor starts glm-lsp from."
)


class GlmError(Exception):
    """Base of every GLM failure. ``user_message`` is what the editor shows."""

    retryable = False

    def __init__(
        self,
        user_message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.status = status
        self.code = code
        self.request_id = request_id


class GlmNoKeyError(GlmError):
    def __init__(self) -> None:
        super().__init__(f"No GLM API key found. {KEY_HELP}")


class GlmStatusError(GlmError):
    """The API answered with an error status (and maybe a business code)."""


class GlmAuthError(GlmStatusError):
    pass


class GlmNoBalanceError(GlmStatusError):
    pass


class GlmRateLimitError(GlmStatusError):
    retryable = True

    def __init__(self, user_message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(user_message, **kw)
        self.retry_after = retry_after


class GlmServerError(GlmStatusError):
    retryable = True

    def __init__(self, user_message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(user_message, **kw)
        self.retry_after = retry_after  # a 503's Retry-After is as good as a 429's


class GlmPlanLimitError(GlmStatusError):
    """A plan or quota limit (1308-1311, 1313): waiting seconds will not lift it, so no retry."""


class GlmPromptTooLongError(GlmStatusError):
    pass


class GlmContentFilteredError(GlmError):
    pass


class GlmConnectionError(GlmError):
    retryable = True


class GlmTimeoutError(GlmError):
    retryable = True


class GlmStaleConnectionError(GlmConnectionError):
    """The server closed a kept-alive connection before sending any byte of a response."""


class GlmResponseTooLargeError(GlmError):
    """The upstream sent more than a bound allows (an error body, a line, a whole reply)."""


class GlmStreamBrokenError(GlmError):
    """The stream ended or failed after it started: nothing of it may be applied."""


class GlmLengthError(GlmError):
    """The reply was cut by max_tokens or the context window."""


# GLM's plan and quota codes (HTTP 429), with what each means for the user.
PLAN_LIMITS = {
    1308: "the plan's usage limit is reached",
    1309: "the plan has expired",
    1310: "the plan's weekly/monthly limit is reached",
    1311: "this model is not included in your plan (check glm.model)",
    1313: "the account is limited under the plan's fair-use rules",
}
RATE_LIMITS = (1302, 1305, 1312)  # rate limit, overloaded, model busy: worth a retry


def error_from_response(
    status: int,
    code: str | None,
    message: str | None,
    request_id: str | None,
    retry_after: float | None,
) -> GlmError:
    """Map an HTTP status and GLM business code to the error a feature can report."""
    detail = f" ({message})" if message else ""
    ident: dict[str, Any] = {"status": status, "code": code, "request_id": request_id}
    code_num = int(code) if code and code.isdigit() else None
    if status == 401 or (code_num is not None and 1000 <= code_num <= 1005):
        return GlmAuthError(f"GLM rejected the API key{detail}. {KEY_HELP}", **ident)
    if code_num == 1113:
        return GlmNoBalanceError(
            "GLM says the account has no balance left (code 1113); top up or use another key.",
            **ident,
        )
    if code_num == 1211:
        return GlmStatusError(
            f"GLM does not know this model{detail}; check the glm.model setting.", **ident
        )
    if code_num == 1261:
        return GlmPromptTooLongError(
            f"The prompt is too long for GLM{detail}; select less code.", **ident
        )
    if code_num in PLAN_LIMITS:
        said = f": {message}" if message else ""
        return GlmPlanLimitError(
            f"GLM: {PLAN_LIMITS[code_num]} (code {code_num}){said}. Not retried.", **ident
        )
    if code_num == 1214:
        return GlmStatusError(f"GLM rejected a request parameter (code 1214){detail}.", **ident)
    if code_num == 1301:
        return GlmStatusError(f"GLM's content filter refused the request{detail}.", **ident)
    if status == 429 or code_num in RATE_LIMITS:
        return GlmRateLimitError(
            f"GLM is rate limiting or overloaded{detail}; try again shortly.",
            retry_after=retry_after,
            **ident,
        )
    if status >= 500:
        return GlmServerError(
            f"GLM had a server error (HTTP {status}){detail}.", retry_after=retry_after, **ident
        )
    if status == 200:  # an `error` event inside a stream that had started fine
        coded = f" (code {code})" if code else ""
        return GlmStreamBrokenError(
            f"GLM reported an error mid-reply{coded}{detail}; nothing was applied.", **ident
        )
    return GlmStatusError(f"GLM refused the request (HTTP {status}){detail}.", **ident)
