"""Settings: one pydantic model, camelCase on the wire, section ``glm``.

Invalid values never stop the server: :func:`parse_settings` keeps the default for
every key that fails validation and returns one warning per key.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

DEFAULT_BASE_URL = "https://open.bigmodel.cn/api/paas/v4/"
BASE_URL_ENV = "GLM_LSP_BASE_URL"
DEFAULT_KEY_ENVS = ("BIGMODEL_API_KEY", "ZAI_API_KEY")
# Secrets a model never sees: env files, private keys and certificates (SSH keys of every
# type, PKCS#12 and Java key stores), package-registry and git credentials, cloud
# credentials, Terraform variable files.
DEFAULT_EXCLUDE = [
    ".env*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "id_xmss*",
    "*.ppk",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".git-credentials",
    ".aws/",
    ".azure/",
    ".config/gcloud/",
    ".kube/config",
    ".docker/config.json",
    "credentials.json",
    "*.tfvars",
    "*.tfstate",
    ".git/",
]
DEFAULT_RULES_FILES = ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md"]

# An environment variable name, nothing else: `apiKeyEnv` must not become a way to run a
# command or read a file. It must also look like a GLM key's variable, so settings from a
# cloned workspace cannot send another secret (AWS_SECRET_ACCESS_KEY...) as the Bearer token.
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEY_VARIABLE_WORDS = ("GLM", "ZAI", "BIGMODEL", "ZHIPU")
# Hosts the key is meant for; any other (but loopback) gets a one-time warning naming it.
GLM_HOSTS = ("open.bigmodel.cn", "bigmodel.cn", "api.z.ai", "z.ai")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class _Section(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        use_attribute_docstrings=True,
        validate_assignment=True,
    )


class CompletionSettings(_Section):
    enabled: bool = True
    """Offer inline completions (ghost text) or completion items while typing."""
    model: str | None = None
    """Model for completions; empty means the main ``model``. A faster model cuts latency."""
    debounce_ms: int = Field(150, ge=0, le=5000)
    """Wait this long after the last keystroke before asking GLM (automatic triggers only)."""
    max_tokens: int = Field(256, ge=1, le=8192)
    """Upper bound on the tokens of one completion."""
    thinking: bool = False
    """Let GLM think before completing (slower; off by default)."""
    context_chars: int = Field(3000, ge=0, le=100_000)
    """Characters of definitions from other files (imports, open buffers) shown with each
    completion: signatures and docstrings first. 0 turns it off."""
    total_timeout: float = Field(30.0, gt=0, le=3600)
    """Seconds one completion (or next-edit) request may take in all; later, it is
    dropped."""


class NextEditSettings(_Section):
    enabled: bool = True
    """Answer ``textDocument/copilotInlineEdit``: predict the next edit anywhere in a window
    around the cursor from your recent edits."""
    model: str | None = None
    """Model for next edits; empty means the completion model (thinking is always off)."""
    window_lines: int = Field(21, ge=3, le=200)
    """Lines around the cursor the model may rewrite."""
    history_edits: int = Field(6, ge=0, le=32)
    """Recent edits (as unified diffs, this file and others) shown to the model."""
    debounce_ms: int = Field(100, ge=0, le=5000)
    """Wait this long before asking GLM for an automatic request; a newer request for the
    document cancels the older one, so a burst of keys costs at most one call."""


class ActionSettings(_Section):
    max_tokens: int = Field(4096, ge=1, le=131072)
    """Upper bound on the tokens of one code action's reply."""
    thinking: bool = True
    """Let GLM think before answering a code action; the thinking shows as progress only."""
    explain_output: Literal["auto", "document", "message"] = "auto"
    """Where explanations go: ``document`` (a Markdown file opened with showDocument),
    ``message`` (window/showMessage), or ``auto`` (document when the client supports it)."""
    context_chars: int = Field(12000, ge=0, le=400_000)
    """Characters of definitions from other files (imports, open buffers) the selection
    uses, shown with each code action; generate tests adds conftest.py fixtures. 0: off."""
    total_timeout: float = Field(900.0, gt=0, le=7200)
    """Seconds one code action's request may take in all, retries and the wait for the first
    token included."""


class AgentSettings(_Section):
    max_iterations: int = Field(25, ge=1, le=200)
    """At most this many model turns per agent run; reaching it applies nothing (unless
    ``applyPartialResult``)."""
    apply_partial_result: bool = False
    """When a run reaches ``maxIterations``, apply what it staged so far (labelled partial)
    instead of nothing."""
    max_tool_output_bytes: int = Field(32768, ge=256, le=4 * 1024 * 1024)
    """A tool result longer than this is cut (with a note) so the conversation grows slowly."""
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    """Gitignore-style patterns the agent may never list, search, read or write."""
    thinking: bool = True
    """Let GLM think during agent turns."""
    preserve_thinking: bool = True
    """With thinking on, send each turn's reasoning back unchanged with the tool results, so
    GLM keeps its train of thought across turns (and the prompt cache keeps hitting)."""
    max_tokens: int = Field(8192, ge=1, le=131072)
    """Upper bound on the tokens of one agent turn."""
    check_command: list[str] = Field(default_factory=list)
    """The project's check as an argv (no shell), e.g. ``["python", "-m", "pytest", "-q"]``;
    the agent runs it in a scratch copy holding its changes. Empty: no check."""
    check_timeout: float = Field(120.0, gt=0, le=3600)
    """Seconds a check may run before it is killed with its child processes."""
    check_sandbox: Literal["required", "none"] = "required"
    """``required``: the check runs under bubblewrap (Linux); where no sandbox can start it
    runs only after a separate question saying it runs with your full rights. ``none``:
    never sandboxed, and that question is asked first."""
    check_network: bool = False
    """Let the sandboxed check use the network (off: its own empty network namespace)."""
    check_read_paths: list[str] = Field(default_factory=list)
    """More folders the sandboxed check may read (read-only), e.g. ``["~/.m2"]``. Secret
    places (``~/.ssh``, ``~/.aws``...) stay hidden even here."""
    check_env: dict[str, str] = Field(default_factory=dict)
    """Variables added to the check's environment, which is otherwise built from scratch:
    PATH, a private empty HOME, LANG, TERM. Never a GLM key variable."""
    check_memory_mb: int = Field(4096, ge=64, le=1024 * 1024)
    """Memory each process of the check may allocate (its data segment), in MB."""
    check_write_mb: int = Field(1024, ge=1, le=1024 * 1024)
    """What the check may write, in MB: its scratch copy's file system may lose no more free
    space (and no file grow larger) before the check is stopped."""
    max_tools: int = Field(64, ge=8, le=512)
    """At most this many tools in one request (built-ins first, then MCP servers' tools);
    the rest are left out with one log line naming them."""
    total_timeout: float = Field(900.0, gt=0, le=7200)
    """Seconds one model turn's request may take in all, retries and the wait for the first
    token included."""

    @field_validator("check_command")
    @classmethod
    def _program_first(cls, value: list[str]) -> list[str]:
        if value and not value[0].strip():
            raise ValueError("the first entry must name the program to run")
        return value

    @field_validator("check_env")
    @classmethod
    def _plain_variables(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not an environment variable name")
            if any(word in name.upper() for word in _KEY_VARIABLE_WORDS):
                raise ValueError(f"{name} looks like a GLM key variable: never given to a check")
        return value

    @field_validator("check_read_paths")
    @classmethod
    def _absolute_paths(cls, value: list[str]) -> list[str]:
        for path in value:
            if not (path.startswith("~") or os.path.isabs(path)):
                raise ValueError(f"{path!r} must be an absolute path or start with ~")
        return value


class CustomAction(_Section):
    title: str = Field(min_length=1)
    """Shown as ``GLM: <title>`` in the code action menu."""
    prompt: str = Field(min_length=1)
    """Instruction applied to the selection, like a refactor."""


class GlmSettings(_Section):
    base_url: str = DEFAULT_BASE_URL
    """OpenAI-compatible endpoint; ``GLM_LSP_BASE_URL`` in the environment overrides it."""
    model: str = "glm-5.1"
    """Model for code actions and the agent."""
    provider: Literal["auto", "zai", "vllm", "sglang", "openai"] = "auto"
    """The kind of server at ``baseUrl``: ``zai`` (GLM's API), ``vllm``, ``sglang`` or
    ``openai`` (any other OpenAI-compatible server); ``auto``: ``zai`` for a GLM host, else
    ``openai``. It decides how thinking is switched and whether usage is asked for."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (default: BIGMODEL_API_KEY,
    then ZAI_API_KEY). Only a variable name containing GLM, ZAI, BIGMODEL or ZHIPU."""
    request_timeout: float = Field(120.0, gt=0, le=3600)
    """Seconds to wait for a response (and between streamed chunks)."""
    first_token_timeout: float = Field(300.0, gt=0, le=3600)
    """Seconds code actions and the agent wait for GLM's first token (a big prompt can take
    minutes; progress shows the wait). Completions wait ``requestTimeout`` at most."""
    max_retries: int = Field(3, ge=0, le=10)
    """Retries on rate limits, overload, 5xx, timeouts and dropped connections."""
    temperature: float | None = Field(None, ge=0.0, le=1.0)
    """Sampling temperature; empty keeps the model's default."""
    command_reply: Literal["auto", "atOnce", "whenDone"] = "auto"
    """When to answer a GLM command's request: ``atOnce`` (then work on under progress and
    apply with workspace/applyEdit; for clients that give up on slow requests), ``whenDone``,
    or ``auto``: at once for Helix and Emacs, when done elsewhere."""
    completion: CompletionSettings = Field(default_factory=CompletionSettings)
    next_edit: NextEditSettings = Field(default_factory=NextEditSettings)
    actions: ActionSettings = Field(default_factory=ActionSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    custom_actions: list[CustomAction] = Field(default_factory=list)
    """Extra code actions: ``[{"title": "Add docstrings", "prompt": "Add docstrings"}]``."""
    mcp_servers: dict[str, Any] | None = None
    """The agent's MCP servers: ``{name: {command, args?, env?, cwd?, startupTimeout?,
    callTimeout?, alwaysAllow?, disabled?}}`` (or ``url`` + ``headers``). From
    initializationOptions they are trusted; from workspace settings they ask first."""
    rules_files: list[str] = Field(default_factory=lambda: list(DEFAULT_RULES_FILES))
    """Project rules for the model, workspace-relative, read in order (at most 8 KB
    together) into the system prompt of code actions and the agent; ``[]`` turns it off.
    Read like the agent reads: an ``agent.exclude``d or outside path is never read."""

    @field_validator("api_key_env")
    @classmethod
    def _env_name_only(cls, value: str | None) -> str | None:
        if value is not None and value != "" and not _ENV_NAME.match(value):
            raise ValueError("must be the name of an environment variable")
        if value and not any(word in value.upper() for word in _KEY_VARIABLE_WORDS):
            raise ValueError(
                "must name a GLM key variable (its name contains GLM, ZAI, BIGMODEL or ZHIPU)"
            )
        return value or None

    @field_validator("base_url")
    @classmethod
    def _with_slash(cls, value: str) -> str:
        # Kept even when it is no URL: falling back to the default host would send the
        # user's code somewhere they did not choose. base_url_problem() stops the features.
        value = value.strip()
        return value if value.endswith("/") else value + "/"

    def deadlines(self) -> dict[str, float]:
        """Per feature (the GLM client's names), seconds one request may take in all."""
        return {
            "completion": self.completion.total_timeout,
            "nextEdit": self.completion.total_timeout,  # as short-lived as a completion
            "actions": self.actions.total_timeout,
            "agent": self.agent.total_timeout,
        }

    def base_url_problem(self, environ: dict[str, str] | None = None) -> str | None:
        """Why the endpoint in use (GLM_LSP_BASE_URL, else ``baseUrl``) cannot be used, naming
        where it came from; None when it is a usable http(s) URL."""
        env = os.environ if environ is None else environ
        from_env = env.get(BASE_URL_ENV, "").strip()
        url, source = (from_env, BASE_URL_ENV) if from_env else (self.base_url, "glm.baseUrl")
        why = url_problem(url)
        if why is None:
            return None
        example = f" (e.g. http://{url})" if "://" not in url else ""
        return (
            f"{source} is '{url}', which is not a usable URL: {why}{example}. Nothing was "
            f"sent; GLM features stay off until {source} is fixed."
        )

    def effective_base_url(self, environ: dict[str, str] | None = None) -> str:
        env = os.environ if environ is None else environ
        url = env.get(BASE_URL_ENV) or self.base_url
        return url if url.endswith("/") else url + "/"

    def unusual_key_destination(self, environ: dict[str, str] | None = None) -> str | None:
        """The host the key goes to when the *settings* point it somewhere that is neither
        GLM nor this machine (the environment's GLM_LSP_BASE_URL is the user's own choice)."""
        env = os.environ if environ is None else environ
        if env.get(BASE_URL_ENV):
            return None
        host = (urlsplit(self.base_url).hostname or "").lower()
        if host in LOOPBACK_HOSTS or any(
            host == known or host.endswith("." + known) for known in GLM_HOSTS
        ):
            return None
        return host

    def key_env_names(self) -> tuple[str, ...]:
        return (self.api_key_env,) if self.api_key_env else DEFAULT_KEY_ENVS

    def api_key(self, environ: dict[str, str] | None = None) -> str | None:
        """The key from the environment, never from a file or a setting's value."""
        env = os.environ if environ is None else environ
        for name in self.key_env_names():
            value = env.get(name, "").strip()
            if value:
                return value
        return None


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an OpenAI-compatible endpoint, in a few words; None when it can."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not url.strip().startswith(parts.scheme + "://"):
        return "it must start with http:// or https://"
    if not parts.hostname:
        return "it names no host"
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        return "its port is not a number"
    return None


def unwrap_section(raw: Any) -> dict[str, Any]:
    """Accept both the section itself and ``{"glm": {...}}``."""
    if not isinstance(raw, dict):
        return {}
    inner = raw.get("glm")
    return inner if isinstance(inner, dict) else raw


USER_SETTINGS_FILE = "settings.json"
USER_SETTINGS_MAX_BYTES = 1_000_000


def user_settings_path() -> Path:
    """``settings.json`` in the user's config directory: the lowest settings layer of every
    front door (ACP has no other channel), the same schema as the ``glm`` section."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("glm-lsp")) / USER_SETTINGS_FILE


def read_user_settings(path: Path | None = None) -> tuple[dict[str, Any], list[str]]:
    """The settings file's ``glm`` section (or the object itself); ``{}`` when there is none.
    A file that cannot be read or parsed is one warning naming it, and counts as empty."""
    path = user_settings_path() if path is None else path
    try:
        with path.open("rb") as handle:
            raw = handle.read(USER_SETTINGS_MAX_BYTES + 1)
    except FileNotFoundError:
        return {}, []
    except OSError as exc:
        return {}, [f"glm-lsp could not read {path}: {exc.strerror or exc}; it was ignored"]
    if len(raw) > USER_SETTINGS_MAX_BYTES:
        return {}, [f"{path} is over {USER_SETTINGS_MAX_BYTES:,} bytes; it was ignored"]
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        return {}, [f"{path} is not valid JSON ({exc}); it was ignored"]
    if not isinstance(data, dict):
        return {}, [f"{path} must hold a JSON object; it was ignored"]
    return unwrap_section(data), []


def layered(lower: dict[str, Any], upper: dict[str, Any]) -> dict[str, Any]:
    """``upper`` over ``lower``: objects merge key by key, anything else replaces."""
    merged = dict(lower)
    for key, value in upper.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            merged[key] = layered(below, value)
        else:
            merged[key] = value
    return merged


def parse_layered_settings(raw: Any = None) -> tuple[GlmSettings, list[str]]:
    """Settings from a front door's own channel (``raw``) over the user's settings file."""
    base, warnings = read_user_settings()
    if raw is not None and not isinstance(raw, dict):
        warnings.append(f"glm settings must be an object, got {type(raw).__name__}; ignored")
    settings, more = parse_settings(layered(base, unwrap_section(raw)))
    return settings, warnings + more


# Deeper than this a setting is junk: dropped (that key only) before anything recurses into
# it. The deepest real setting (customActions[].title) is 3 levels down.
MAX_SETTING_DEPTH = 16


def parse_settings(raw: Any) -> tuple[GlmSettings, list[str]]:
    """Build settings from client data; a bad or too-deep key keeps its default, with one
    warning naming it: the other keys (a stricter ``agent.exclude`` above all) stay."""
    warnings: list[str] = []
    if raw is not None and not isinstance(raw, dict):
        warnings.append(f"glm settings must be an object, got {type(raw).__name__}; using defaults")
    data = _drop_too_deep(unwrap_section(raw), "", warnings)
    warnings.extend(unknown_keys(data))
    for _ in range(64):  # each round removes at least one bad key
        try:
            return GlmSettings.model_validate(data), warnings
        except ValidationError as exc:
            data, removed = _drop_invalid(data, exc)
            warnings.extend(removed)
            if not removed:
                break
        except (RecursionError, TypeError, ValueError):
            return _key_by_key(data, warnings), warnings
    return _key_by_key(data, warnings), warnings


def _key_by_key(data: dict[str, Any], warnings: list[str]) -> GlmSettings:
    """The settings built one top-level key at a time, for data the whole model could not
    take: each key that fails alone is left out with a warning, the rest are kept."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        try:
            GlmSettings.model_validate({**kept, key: value})
        except (ValidationError, RecursionError, TypeError, ValueError):
            warnings.append(f"Invalid glm setting '{key}'; using the default")
            continue
        kept[key] = value
    return GlmSettings.model_validate(kept)


def _sections() -> frozenset[str]:
    """The keys that hold a section of their own (``agent``, ``completion``, ...)."""
    defaults = GlmSettings()
    return frozenset(
        field.alias or name
        for name, field in GlmSettings.model_fields.items()
        if isinstance(getattr(defaults, name), BaseModel)
    )


def _depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests, counted without recursion and only up to ``limit + 1``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _drop_too_deep(data: dict[str, Any], prefix: str, warnings: list[str]) -> dict[str, Any]:
    """``data`` without the keys nested deeper than :data:`MAX_SETTING_DEPTH` (a section
    loses only its deep keys); one warning each."""
    kept: dict[str, Any] = {}
    budget = MAX_SETTING_DEPTH - prefix.count(".")
    for key, value in data.items():
        name = f"{prefix}{key}"
        if _depth(value, budget) <= budget:
            kept[key] = value
        elif isinstance(value, dict) and not prefix and key in _sections():
            kept[key] = _drop_too_deep(value, f"{name}.", warnings)
        else:
            warnings.append(f"Invalid glm setting '{name}': nested too deep; using the default")
    return kept


def _drop_invalid(data: dict[str, Any], exc: ValidationError) -> tuple[dict[str, Any], list[str]]:
    data = _deep_copy(data)
    messages: list[str] = []
    seen: set[str] = set()
    for error in exc.errors():
        # Up to the first list index: a bad list entry drops the whole list.
        path: list[str] = []
        for part in error["loc"]:
            if not isinstance(part, str):
                break
            path.append(part)
        if not path:
            continue
        key = ".".join(path)
        if key in seen:
            continue
        seen.add(key)
        value = _value_at(data, path)
        if _delete_path(data, path):
            messages.append(_plain_warning(key, error, value, error["loc"][len(path) :]))
    return data, messages


def unknown_keys(
    data: dict[str, Any], model: type[BaseModel] | None = None, prefix: str = ""
) -> list[str]:
    """One warning per key no setting has (a typo is otherwise ignored without a word),
    naming the nearest setting when one is close."""
    model = model or GlmSettings
    fields = {(field.alias or name): field for name, field in model.model_fields.items()}
    by_name = {name: field for name, field in model.model_fields.items()}
    warnings: list[str] = []
    for key, value in data.items():
        field = fields.get(key) or by_name.get(key)
        if field is None:
            near = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
            hint = f" (did you mean '{prefix}{near[0]}'?)" if near else ""
            warnings.append(f"Unknown glm setting '{prefix}{key}'{hint}: it is ignored.")
            continue
        section = field.annotation
        if isinstance(section, type) and issubclass(section, _Section) and isinstance(value, dict):
            warnings.extend(unknown_keys(value, section, f"{prefix}{key}."))
    return warnings


_PLAIN_ERRORS = {
    "int_parsing": "it must be a whole number",
    "int_type": "it must be a whole number",
    "int_from_float": "it must be a whole number",
    "float_parsing": "it must be a number",
    "float_type": "it must be a number",
    "bool_parsing": "it must be true or false",
    "bool_type": "it must be true or false",
    "string_type": "it must be text",
    "list_type": "it must be a list",
    "dict_type": "it must be an object",
    "model_type": "it must be an object",
    "string_too_short": "it must not be empty",
    "greater_than_equal": "it must be at least {ge}",
    "greater_than": "it must be more than {gt}",
    "less_than_equal": "it must be at most {le}",
    "less_than": "it must be less than {lt}",
}


def _value_at(data: dict[str, Any], path: list[str]) -> Any:
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _plain_warning(key: str, error: Any, value: Any, inner: tuple[Any, ...] = ()) -> str:
    """'glm setting 'x' is -5, but it must be at least 0; keeping the default (150).'"""
    template = _PLAIN_ERRORS.get(error.get("type", ""))
    if template is not None:
        why = template.format(**(error.get("ctx") or {}))
    else:
        why = str(error.get("msg", "")).removeprefix("Value error, ")
        why = re.sub(r"^Input should be", "it must be", why)
        why = why if why.startswith("it ") else f"it {why}"
    if inner and isinstance(inner[0], int):  # a list entry: say which, and which field
        field = ".".join(str(part) for part in inner[1:])
        why = why.replace("it ", f"entry {inner[0] + 1}'s {field} " if field else "", 1)
    default = settings_keys().get(f"glm.{key}", _NO_DEFAULT)
    kept = (
        "keeping the default"
        if default is _NO_DEFAULT
        else f"keeping the default ({_shown(default)})"
    )
    return f"glm setting '{key}' is {_shown(value)}, but {why}; {kept}."


_NO_DEFAULT = object()


def _shown(value: Any) -> str:
    if value is None:
        return "unset"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _delete_path(data: dict[str, Any], path: list[str]) -> bool:
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return False
    if isinstance(node, dict) and path[-1] in node:
        del node[path[-1]]
        return True
    return False


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def settings_keys(model: type[BaseModel] = GlmSettings, prefix: str = "glm") -> dict[str, Any]:
    """Every leaf setting as ``glm.a.b`` -> default; editors' manifests are checked against it."""
    keys: dict[str, Any] = {}
    instance = model()
    for name, field in model.model_fields.items():
        alias = field.alias or name
        value = getattr(instance, name)
        if isinstance(value, BaseModel):
            keys.update(settings_keys(type(value), f"{prefix}.{alias}"))
        else:
            keys[f"{prefix}.{alias}"] = (
                value.model_dump() if isinstance(value, BaseModel) else value
            )
    return keys
