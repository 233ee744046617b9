"""The agent's tools: OpenAI function schemas and their executors over a :class:`Workspace`.

A tool never raises: a bad path, missing file, ambiguous edit, bad JSON or unknown tool comes
back as a string starting ``error: `` that tells the model how to recover, and the loop goes
on. Every result is capped at ``agent.maxToolOutputBytes`` with a note, so the conversation
grows slowly.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from glm_lsp.linear_match import (
    PatternError,
    TextPattern,
    compile_literal,
    compile_regex,
    glob_spec,
)
from glm_lsp.workspace import Workspace, WorkspaceError, matching_lines

if TYPE_CHECKING:
    from glm_lsp.agent.check import CheckRunner

log = logging.getLogger(__name__)

MAX_LIST_ENTRIES = 2000
DEFAULT_MAX_TOOLS = 64
MAX_SEARCH_MATCHES = 200
MAX_MATCH_LINE_CHARS = 200


class ToolArgumentError(WorkspaceError):
    """The model called a tool with arguments it cannot use."""


class ExtraTools(Protocol):
    """Tools from elsewhere (the user's MCP servers) offered beside the built-in ones."""

    def schemas(self) -> list[dict[str, Any]]: ...

    def activity(self, name: str) -> str: ...

    async def call(self, name: str, arguments: dict[str, Any]) -> str: ...


def _function(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


_PATH = {"type": "string", "description": "Path relative to the workspace root, e.g. src/app.py"}

TOOL_SCHEMAS: list[dict[str, Any]] = [
    _function(
        "read_file",
        "Read a text file (unsaved editor changes and your earlier edits included). For big "
        "files read a line range.",
        {
            "path": _PATH,
            "start_line": {"type": "integer", "description": "First line to read (1-based)."},
            "end_line": {"type": "integer", "description": "Last line to read (inclusive)."},
        },
        ["path"],
    ),
    _function(
        "list_files",
        "List the files under a directory (recursively; .gitignore honoured).",
        {
            "path": {"type": "string", "description": "Directory; default: the workspace root."},
            "pattern": {
                "type": "string",
                "description": "Gitignore-style glob on the path, e.g. *.py or src/**/*.ts",
            },
        },
        [],
    ),
    _function(
        "search",
        "Find lines containing a text (or a regular expression) in the workspace files.",
        {
            "query": {"type": "string", "description": "Text to find (case-sensitive)."},
            "path": {"type": "string", "description": "Directory or file to search in."},
            "regex": {
                "type": "boolean",
                "description": "Treat query as a regular expression (RE2 syntax: no "
                "backreferences or lookaround).",
            },
        },
        ["query"],
    ),
    _function(
        "write_file",
        "Create a file, or replace a file's whole content. Use edit_file for small changes.",
        {"path": _PATH, "content": {"type": "string", "description": "The complete new text."}},
        ["path", "content"],
    ),
    _function(
        "edit_file",
        "Replace one exact piece of a file. old_text must occur exactly once in the file: "
        "copy it from read_file, with enough surrounding lines to be unique.",
        {
            "path": _PATH,
            "old_text": {"type": "string", "description": "Exact text to replace."},
            "new_text": {"type": "string", "description": "Text to put in its place."},
        },
        ["path", "old_text", "new_text"],
    ),
    _function("delete_file", "Delete a file.", {"path": _PATH}, ["path"]),
    _function(
        "rename_file",
        "Rename or move a file.",
        {"path": _PATH, "new_path": {"type": "string", "description": "The new path."}},
        ["path", "new_path"],
    ),
]

TOOL_NAMES = tuple(schema["function"]["name"] for schema in TOOL_SCHEMAS)
READ_ONLY_TOOLS = frozenset({"read_file", "list_files", "search"})
CHECK_TOOL = "run_check"


def check_schema(command: str) -> dict[str, Any]:
    """``run_check {}``: only offered when ``agent.checkCommand`` is set."""
    return _function(
        CHECK_TOOL,
        f"Run the project's check (`{command}`) on a scratch copy of the workspace that holds "
        "your changes; answers with the exit code and the end of the output. Use it after "
        "your edits and before you finish, a few times at most.",
        {},
        [],
    )


def parse_arguments(name: str, arguments: str) -> dict[str, Any]:
    """The call's arguments as an object, or ToolArgumentError saying how to send them."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except (ValueError, RecursionError) as exc:  # nested too deep is bad JSON, not a crash
        raise ToolArgumentError(
            f"the arguments of {name} are not valid JSON ({exc}); send one JSON object, "
            'e.g. {"path": "src/app.py"}'
        ) from None
    if not isinstance(value, dict):
        raise ToolArgumentError(f"the arguments of {name} must be a JSON object")
    return value


def _string(args: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = args.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        problem = "is missing" if value is None else "must be a string"
        raise ToolArgumentError(f"argument '{key}' {problem}")
    return value


def _line_number(args: dict[str, Any], key: str) -> int | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolArgumentError(f"argument '{key}' must be a line number (1 or more)")
    return value


def _flag(args: dict[str, Any], key: str) -> bool:
    value = args.get(key, False)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def cap_output(text: str, max_bytes: int, hint: str) -> str:
    """``text`` cut to ``max_bytes`` UTF-8 bytes (at a line end when there is one) plus a
    note that says so and how to see the rest."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    note = f"\n[output cut at {{shown}} of {len(data)} bytes; {hint}]"
    budget = max(0, max_bytes - len(note.encode("utf-8")) - 8)
    shown = data[:budget].decode("utf-8", errors="ignore")
    if "\n" in shown:
        shown = shown[: shown.rindex("\n") + 1]
    return shown.rstrip("\n") + note.format(shown=len(shown.encode("utf-8")))


def _count_lines(text: str) -> int:
    return len(text.splitlines())


@dataclass(frozen=True)
class _Match:
    start: int
    count: int
    lines: list[int]


def _find_all(text: str, needle: str) -> _Match:
    """Where ``needle`` occurs (overlaps counted: each must be unambiguous)."""
    positions: list[int] = []
    index = text.find(needle)
    while index != -1 and len(positions) < 50:
        positions.append(index)
        index = text.find(needle, index + 1)
    lines = [text.count("\n", 0, p) + 1 for p in positions]
    return _Match(positions[0] if positions else -1, len(positions), lines)


# Tools that name one file: a front door whose editor keeps unsaved buffers is asked for that
# file's text before the call runs.
PATH_TOOLS = frozenset({"read_file", "write_file", "edit_file", "delete_file", "rename_file"})


class BufferSource(Protocol):
    async def read(self, path: Path) -> str | None:
        """The editor's text of ``path`` (unsaved changes included); None when it has none."""
        ...


class AgentTools:
    """Runs the model's tool calls against one workspace overlay."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        max_output_bytes: int,
        check: CheckRunner | None = None,
        buffers: BufferSource | None = None,
        extra: ExtraTools | None = None,
        max_tools: int = DEFAULT_MAX_TOOLS,
    ) -> None:
        self.workspace = workspace
        self.max_output_bytes = max_output_bytes
        self.check = check
        self.buffers = buffers
        self.extra = extra
        self._extra_schemas = self._offered_extras(max_tools)
        self._extra_names = frozenset(s["function"]["name"] for s in self._extra_schemas)
        self._handlers: dict[str, Callable[[dict[str, Any]], str]] = {
            "read_file": self._read_file,
            "list_files": self._list_files,
            "search": self._search,
            "write_file": self._write_file,
            "edit_file": self._edit_file,
            "delete_file": self._delete_file,
            "rename_file": self._rename_file,
        }

    def _builtin_schemas(self) -> list[dict[str, Any]]:
        if self.check is None:
            return TOOL_SCHEMAS
        return [*TOOL_SCHEMAS, check_schema(self.check.command)]

    def schemas(self) -> list[dict[str, Any]]:
        if not self._extra_schemas:
            return self._builtin_schemas()
        return [*self._builtin_schemas(), *self._extra_schemas]

    def _offered_extras(self, max_tools: int) -> list[dict[str, Any]]:
        """The extra tools that fit: built-in names win a clash, and at most ``max_tools``
        tools in all (APIs refuse long lists); one log line names those left out."""
        if self.extra is None:
            return []
        builtin = {schema["function"]["name"] for schema in self._builtin_schemas()}
        offered: list[dict[str, Any]] = []
        left_out: list[str] = []
        room = max(0, max_tools - len(builtin))
        for schema in self.extra.schemas():
            name = schema["function"]["name"]
            if name in builtin:
                left_out.append(f"{name} (a built-in tool's name)")
            elif len(offered) >= room:
                left_out.append(name)
            else:
                offered.append(schema)
        if left_out:
            log.warning(
                "agent.maxTools is %d: %d MCP tool(s) left out: %s",
                max_tools,
                len(left_out),
                ", ".join(left_out),
            )
        return offered

    @staticmethod
    def is_read_only(name: str) -> bool:
        return name in READ_ONLY_TOOLS

    def execute(self, name: str, arguments: str) -> Awaitable[str]:
        """The tool's result, awaited: file tools run in a thread, the check in the loop
        (it asks the user, and cancelling the run must kill it)."""
        if name == CHECK_TOOL and self.check is not None:
            return self.check.run_for_model(self.workspace)
        if name in self._extra_names:
            return self._call_extra(name, arguments)
        if self.buffers is not None and name in PATH_TOOLS:
            return self._with_buffers(name, arguments)
        return asyncio.to_thread(self.run, name, arguments)

    async def _with_buffers(self, name: str, arguments: str) -> str:
        """Fetch the editor's unsaved text of the files a call names, then run it."""
        assert self.buffers is not None
        try:
            args = parse_arguments(name, arguments)
        except WorkspaceError:
            args = {}  # the tool itself reports the bad arguments
        for key in ("path", "new_path"):
            raw = args.get(key)
            if not isinstance(raw, str):
                continue
            try:
                real = self.workspace.resolve(raw)  # confinement first: never ask for more
            except WorkspaceError:
                continue
            text = await self.buffers.read(real)
            if text is not None:
                self.workspace.offer_buffer(real, text)
        return await asyncio.to_thread(self.run, name, arguments)

    async def _call_extra(self, name: str, arguments: str) -> str:
        assert self.extra is not None
        try:
            output = await self.extra.call(name, parse_arguments(name, arguments))
        except WorkspaceError as exc:
            return f"error: {exc}"
        except Exception as exc:  # a bug or a broken server must not end the run
            log.exception("tool %s failed", name)
            return f"error: {name} failed unexpectedly ({type(exc).__name__}); try another way"
        return self._cap(output, "the tool's output is longer; ask it for less")

    def run(self, name: str, arguments: str) -> str:
        """The tool's result for the model; failures are ``error: ...`` strings."""
        handler = self._handlers.get(name)
        if handler is None:
            names = [tool["function"]["name"] for tool in self.schemas()]
            return f"error: there is no tool named {name!r}; the tools are {', '.join(names)}"
        try:
            return handler(parse_arguments(name, arguments))
        except WorkspaceError as exc:
            return f"error: {exc}"
        except Exception as exc:  # a bug here must not end the run: tell the model, log it
            log.exception("tool %s failed", name)
            return f"error: {name} failed unexpectedly ({type(exc).__name__}); try another way"

    def describe(self, name: str, arguments: str) -> str:
        """What progress shows for a call, extra tools included ("MCP time: now")."""
        if name in self._extra_names and self.extra is not None:
            return self.extra.activity(name)
        return self.activity(name, arguments)

    @staticmethod
    def activity(name: str, arguments: str) -> str:
        """A few words for progress: "reading b.py", "editing a.py"."""
        try:
            args = parse_arguments(name, arguments)
        except WorkspaceError:
            args = {}
        path = str(args.get("path") or ".")
        verbs = {
            "read_file": f"reading {path}",
            "list_files": f"listing {path}",
            "search": f"searching {str(args.get('query', ''))[:40]!r}",
            "write_file": f"writing {path}",
            "edit_file": f"editing {path}",
            "delete_file": f"deleting {path}",
            "rename_file": f"renaming {path} → {args.get('new_path', '?')}",
            CHECK_TOOL: "running check…",
        }
        return verbs.get(name, f"calling {name}")

    def _cap(self, text: str, hint: str) -> str:
        return cap_output(text, self.max_output_bytes, hint)

    # -- read-only tools ---------------------------------------------------------------

    def _read_file(self, args: dict[str, Any]) -> str:
        path = self.workspace.resolve(_string(args, "path"))
        text = self.workspace.read_text(path)
        name = self.workspace.display(path)
        start, end = _line_number(args, "start_line"), _line_number(args, "end_line")
        if start is None and end is None:
            if not text:
                return f"({name} is empty)"
            return self._read_capped(name, text.splitlines(keepends=True), 1)
        lines = text.splitlines(keepends=True)
        first, last = start or 1, min(end or len(lines), len(lines))
        if first > len(lines):
            raise ToolArgumentError(f"{name} has only {len(lines)} lines")
        if last < first:
            raise ToolArgumentError("end_line is before start_line")
        header = f"[{name} lines {first}-{last} of {len(lines)}]\n"
        return header + self._read_capped(name, lines[first - 1 : last], first)

    def _read_capped(self, name: str, lines: list[str], first: int) -> str:
        """Whole lines up to the output cap, then where to read on."""
        budget = self.max_output_bytes - 200
        used = 0
        for index, line in enumerate(lines):
            used += len(line.encode("utf-8"))
            if used > budget:
                if index == 0:  # one giant line: cut inside it
                    break
                return "".join(lines[:index]) + (
                    f"\n[cut after line {first + index - 1}: output is capped at "
                    f"{self.max_output_bytes} bytes; read on with start_line={first + index}]"
                )
        return self._cap("".join(lines), "read smaller line ranges")

    def _list_files(self, args: dict[str, Any]) -> str:
        raw = _string(args, "path", required=False).strip()
        start = None if raw in ("", ".", "./") else self.workspace.resolve(raw)
        if start is not None and not self.workspace.is_dir(start):
            if self.workspace.exists(start):
                return self.workspace.display(start)
            raise WorkspaceError(f"{raw} does not exist; list_files with no path lists everything")
        names = [self.workspace.display(p) for p in self.workspace.files_under(start)]
        pattern = _string(args, "pattern", required=False).strip()
        if pattern:
            try:
                spec = glob_spec([pattern])  # linear time: the model chose the pattern
            except ValueError as exc:
                raise ToolArgumentError(
                    f"pattern {pattern!r} is not a valid glob ({exc})"
                ) from None
            names = [n for n in names if spec.match_file(n)]
        if not names:
            return "(no files)"
        shown = names[:MAX_LIST_ENTRIES]
        more = f"\n[{len(names) - len(shown)} more files; give a path or pattern]" * (
            len(names) > len(shown)
        )
        return self._cap("\n".join(shown) + more, "give a narrower path or pattern")

    def _search(self, args: dict[str, Any]) -> str:
        query = _string(args, "query")
        if not query:
            raise ToolArgumentError("query is empty; give the text to find")
        try:
            # On RE2 (linear time: the model chose the pattern); ^ and $ anchor at each
            # line, as in grep.
            if _flag(args, "regex"):
                pattern = compile_regex(query, multiline=True)
            else:
                pattern = compile_literal(query, multiline=True)
        except PatternError as exc:
            raise ToolArgumentError(f"query is not a valid regex ({exc})") from None
        raw = _string(args, "path", required=False).strip()
        start = None if raw in ("", ".", "./") else self.workspace.resolve(raw)
        if start is not None and not self.workspace.is_dir(start):
            return self._search_one(pattern, start)
        matches, total, _skipped = self.workspace.search(pattern, start, limit=MAX_SEARCH_MATCHES)
        return self._format_matches(matches, total)

    def _search_one(self, pattern: TextPattern, path: Path) -> str:
        text = self.workspace.read_text(path)
        found: list[tuple[Path, int, str]] = []
        total = matching_lines(pattern, path, text, found, MAX_SEARCH_MATCHES)
        return self._format_matches(found, total)

    def _format_matches(self, matches: list[tuple[Path, int, str]], total: int) -> str:
        if not matches:
            return "(no matches)"
        lines = [
            f"{self.workspace.display(path)}:{number}: {line.strip()[:MAX_MATCH_LINE_CHARS]}"
            for path, number, line in matches
        ]
        if total > len(matches):
            lines.append(f"[{total - len(matches)} more matches; narrow the query or path]")
        return self._cap("\n".join(lines), "narrow the query or path")

    # -- writing tools (staged, never on disk) -----------------------------------------

    def _write_file(self, args: dict[str, Any]) -> str:
        path = self.workspace.resolve(_string(args, "path"))
        content = _string(args, "content")
        created = self.workspace.write(path, content)
        verb = "created" if created else "wrote"
        return f"{verb} {self.workspace.display(path)} ({_count_lines(content)} lines)"

    def _edit_file(self, args: dict[str, Any]) -> str:
        path = self.workspace.resolve(_string(args, "path"))
        old_text, new_text = _string(args, "old_text"), _string(args, "new_text")
        name = self.workspace.display(path)
        if not old_text:
            raise ToolArgumentError(
                "old_text is empty; copy the exact lines to replace (write_file creates files)"
            )
        text = self.workspace.read_text(path)
        match = _find_all(text, old_text)
        if match.count == 0 and "\r\n" in text and "\r\n" not in old_text:
            # Models write \n; the file uses \r\n: match and write in the file's convention.
            old_text, new_text = old_text.replace("\n", "\r\n"), new_text.replace("\n", "\r\n")
            match = _find_all(text, old_text)
        if match.count == 0:
            hint = (
                "the text is there but with different white space"
                if old_text.strip() and old_text.strip() in text
                else "read_file it again"
            )
            raise WorkspaceError(
                f"old_text was not found in {name}; {hint} and copy the exact text "
                "(indentation and line breaks matter)"
            )
        if match.count > 1:
            where = ", ".join(str(n) for n in match.lines[:10])
            raise WorkspaceError(
                f"old_text occurs {match.count} times in {name} (lines {where}); include more "
                "surrounding lines so that it matches exactly once"
            )
        self.workspace.write(
            path, text[: match.start] + new_text + text[match.start + len(old_text) :]
        )
        first = match.lines[0]
        return f"edited {name} (lines {first}-{first + new_text.count(chr(10))} now)"

    def _delete_file(self, args: dict[str, Any]) -> str:
        path = self.workspace.resolve(_string(args, "path"))
        self.workspace.delete(path)
        return f"deleted {self.workspace.display(path)}"

    def _rename_file(self, args: dict[str, Any]) -> str:
        source = self.workspace.resolve(_string(args, "path"))
        target = self.workspace.resolve(_string(args, "new_path"))
        self.workspace.rename(source, target)
        return f"renamed {self.workspace.display(source)} to {self.workspace.display(target)}"
