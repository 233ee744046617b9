"""What can go wrong talking to GLM, each with a sentence a person can act on."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
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


class GlmBusyError(GlmRateLimitError):
    """1302 (too many concurrent requests) and 1305 (overloaded): worth a retry, but not soon:
    backed off from :data:`BUSY_BACKOFF` seconds."""


class GlmPlanLimitError(GlmStatusError):
    """A plan or quota limit (1308-1311, 1313-1321): waiting seconds will not lift it, so no
    retry."""


class GlmPromptTooLongError(GlmStatusError):
    pass


class GlmContentFilteredError(GlmError):
    pass


class GlmConnectionError(GlmError):
    retryable = True


class GlmTimeoutError(GlmError):
    retryable = True


class GlmDeadlineError(GlmError):
    """The request's total deadline passed (not retried: the time is spent)."""


class GlmStaleConnectionError(GlmConnectionError):
    """The server closed a kept-alive connection before sending any byte of a response."""


class GlmResponseTooLargeError(GlmError):
    """The upstream sent more than a bound allows (an error body, a line, a whole reply)."""


class GlmStreamBrokenError(GlmError):
    """The stream ended or failed after it started: nothing of it may be applied."""

    restartable = False
    """The whole request may be sent again (the caller discards what it received)."""


class GlmNetworkFinishError(GlmStreamBrokenError):
    """``finish_reason: "network_error"``: GLM lost its own connection mid-reply. Retried like a
    dropped connection while nothing was applied."""

    retryable = True
    restartable = True


class GlmMalformedReplyError(GlmStreamBrokenError):
    """A chunk that is JSON but not in the shape of one (``"choices": 5``)."""


class GlmEncodingRefusedError(GlmError):
    """The upstream compressed its answer although glm-lsp asked for none."""


class GlmLengthError(GlmError):
    """The reply was cut by max_tokens."""


class GlmContextWindowError(GlmLengthError):
    """``finish_reason: "model_context_window_exceeded"``: the request was too large."""


class GlmThinkingSpentError(GlmLengthError):
    """Thinking used up max_tokens: ``finish_reason: "length"`` and no answer at all."""


class GlmAlwaysThinkingError(GlmStatusError):
    """The model refused ``thinking: disabled`` (400 / 1210): it always thinks."""

    def __init__(self, user_message: str, *, effort: str, **kw: Any) -> None:
        super().__init__(user_message, **kw)
        self.effort = effort  # the lowest reasoning_effort its message lists


_MAX_TOKENS_SETTINGS = {
    "completion": "glm.completion.maxTokens",
    "agent": "glm.agent.maxTokens",
    "actions": "glm.actions.maxTokens",
}


def max_tokens_setting(feature: str) -> str:
    """The setting that bounds ``feature``'s reply."""
    return _MAX_TOKENS_SETTINGS.get(feature, "the maxTokens setting")


# GLM's plan and quota codes (HTTP 429), with what each means for the user.
PLAN_LIMITS = {
    1308: "the plan's usage limit is reached",
    1309: "the plan has expired",
    1310: "the plan's weekly/monthly limit is reached",
    1311: "this model is not included in your plan (check glm.model)",
    1313: "the account is limited under the plan's fair-use rules",
    # Newer plan and quota codes: a limit of the plan, like the ones above (GLM's own message
    # follows and says which).
    **{code: "a limit of your plan applies" for code in range(1314, 1322)},
}
RATE_LIMITS = (1302, 1305, 1312)  # rate limit, overloaded, model busy: worth a retry
BUSY_CODES = (1302, 1305)  # backed off from BUSY_BACKOFF seconds, not from half a second
BUSY_BACKOFF = 30.0
# "Your limit will reset at 2026-12-01 18:42:07": GLM's clock, UTC+8, with no zone in the text.
_RESET_AT = re.compile(r"reset at (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")
GLM_CLOCK = timezone(timedelta(hours=8))


def local_reset_time(message: str | None) -> str | None:
    """The reset time a plan message names, in the user's local time (None: it names none)."""
    found = _RESET_AT.search(message or "")
    if found is None:
        return None
    try:
        moment = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=GLM_CLOCK)
    except ValueError:
        return None
    local = moment.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or 'local time'}"


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
        local = local_reset_time(message)
        when = f" (UTC+8; your local time: {local})" if local else ""
        return GlmPlanLimitError(
            f"GLM: {PLAN_LIMITS[code_num]} (code {code_num}){said}{when}. Not retried.", **ident
        )
    if code_num == 1214:
        return GlmStatusError(f"GLM rejected a request parameter (code 1214){detail}.", **ident)
    if code_num == 1301:
        return GlmStatusError(f"GLM's content filter refused the request{detail}.", **ident)
    if code_num in BUSY_CODES:
        return GlmBusyError(
            f"GLM is rate limiting or overloaded (code {code_num}){detail}; try again shortly.",
            retry_after=retry_after,
            **ident,
        )
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
