"""The bad LSP input cases, as data: the test sends each to one live server and
``gen_fault_table.py`` renders them into docs/faults.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from tests.robustness.raw_lsp import encode, frame

OPEN_URI = "file:///glm-lsp-robustness/open.py"  # opened by the test before the cases run
NEVER_OPENED = "file:///glm-lsp-robustness/never_opened.py"  # opened by no one, not on disk
OPEN_TEXT = "def add(a, b):\n    return a + b\n\n\x0cclass Café:\n    pass\n"

Expect = Literal["result", "error", "nothing"]


@dataclass(frozen=True)
class BadInput:
    id: str
    sends: str  # for people: what the client sends
    data: bytes  # what the test writes to the server's stdin
    expect: Expect  # what answers the case's request id (901+), if it has one
    request_id: int | None = None


def request(msg_id: int, method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}


def notification(method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def command(msg_id: int, name: str, *arguments: Any) -> dict[str, Any]:
    return request(msg_id, "workspace/executeCommand", {"command": name, "arguments": arguments})


def pos(line: int, character: int) -> dict[str, int]:
    return {"line": line, "character": character}


def rng(start: dict[str, int], end: dict[str, int]) -> dict[str, Any]:
    return {"start": start, "end": end}


def code_action(msg_id: int, uri: str, range_: Any) -> dict[str, Any]:
    params = {"textDocument": {"uri": uri}, "range": range_, "context": {"diagnostics": []}}
    return request(msg_id, "textDocument/codeAction", params)


def completion(msg_id: int, uri: str, position: Any, method: str = "completion") -> dict:
    params: dict[str, Any] = {"textDocument": {"uri": uri}, "position": position}
    if method == "inlineCompletion":
        params["context"] = {"triggerKind": 1}
    return request(msg_id, f"textDocument/{method}", params)


def did_change(uri: str, version: int, range_: Any, text: Any) -> dict[str, Any]:
    return notification(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": range_, "text": text}],
        },
    )


def body(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


STATUS_BODY = body(command(903, "glm.status", {}))
FAR = pos(10_000, 10_000)
WHOLE = rng(pos(0, 0), pos(5, 0))
REVERSED = rng(pos(4, 3), pos(0, 1))

CASES = [
    # -- framing --------------------------------------------------------------------------------
    BadInput(
        "invalid-json", "a body that is not JSON", frame(b'{"id": 901, "method": '), "nothing", 901
    ),
    BadInput("json-array", "a JSON array instead of a message", frame(b"[1, 2, 3]"), "nothing"),
    BadInput("json-scalar", "a JSON string instead of a message", frame(b'"hello"'), "nothing"),
    BadInput("empty-object", "`{}`: no jsonrpc, id or method", frame(b"{}"), "nothing"),
    BadInput(
        "content-length-short",
        "Content-Length 10 bytes short (the tail glues onto the next header)",
        frame(STATUS_BODY, length=len(STATUS_BODY) - 10),
        "nothing",
        903,
    ),
    BadInput(
        "content-length-long",
        "Content-Length 20 bytes long (eats the start of the next frame)",
        frame(body(command(904, "glm.status", {})), length=len(STATUS_BODY) + 20)
        + encode(command(905, "glm.status", {})),
        "nothing",
        904,
    ),
    BadInput(
        "content-length-huge",
        "Content-Length: 99999999999999",
        b"Content-Length: 99999999999999\r\n\r\n{}",
        "nothing",
    ),
    BadInput(
        "content-length-not-a-number",
        "Content-Length: abc",
        b"Content-Length: abc\r\n\r\n" + body(command(906, "glm.status", {})),
        "nothing",
        906,
    ),
    BadInput(
        "no-content-length",
        "a header block without Content-Length",
        b"Content-Type: application/json\r\n\r\n" + body(command(907, "glm.status", {})),
        "nothing",
        907,
    ),
    BadInput(
        "extra-header",
        "a Content-Type header after Content-Length (valid)",
        b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n%s"
        % (len(body(command(908, "glm.status", {}))), body(command(908, "glm.status", {}))),
        "result",
        908,
    ),
    BadInput(
        "non-utf8-body",
        "bytes 0xff 0xfe inside a request",
        frame(body(command(909, "glm.status", {})).replace(b"glm.status", b"glm.\xff\xfestatus")),
        "nothing",
        909,
    ),
    BadInput(
        "non-utf8-document",
        "didOpen whose text holds bytes that are not UTF-8",
        frame(
            body(
                notification(
                    "textDocument/didOpen",
                    {
                        "textDocument": {
                            "uri": "file:///glm-lsp-robustness/latin1.py",
                            "languageId": "python",
                            "version": 1,
                            "text": "CAFE",
                        }
                    },
                )
            ).replace(b"CAFE", b"caf\xe9 = 1\\n")
        ),
        "nothing",
    ),
    BadInput(
        "lone-surrogate",
        "a didChange inserting an unpaired UTF-16 surrogate (`\\ud800`)",
        encode(did_change(OPEN_URI, 2, rng(pos(0, 0), pos(0, 0)), "\ud800")),
        "nothing",
    ),
    # -- methods --------------------------------------------------------------------------------
    BadInput(
        "unknown-request",
        "a request for a method no one has",
        encode(request(910, "glm/doesNotExist", {})),
        "error",
        910,
    ),
    BadInput(
        "unknown-notification",
        "a notification for a method no one has",
        encode(notification("glm/doesNotExist", {})),
        "nothing",
    ),
    BadInput(
        "unknown-dollar-notification",
        "an unknown `$/` notification (may be ignored)",
        encode(notification("$/somethingNew", {"x": 1})),
        "nothing",
    ),
    BadInput(
        "unknown-command",
        "executeCommand glm.nope",
        encode(command(911, "glm.nope", {})),
        "error",
        911,
    ),
    BadInput(
        "cancel-unknown-id",
        "$/cancelRequest for an id that never existed",
        encode(notification("$/cancelRequest", {"id": 999_999})),
        "nothing",
    ),
    # -- params of the wrong type ---------------------------------------------------------------
    BadInput(
        "code-action-params-string",
        'codeAction with params `"oops"`',
        encode(request(912, "textDocument/codeAction", "oops")),
        "error",
        912,
    ),
    BadInput(
        "code-action-params-null",
        "codeAction with params null",
        encode(request(913, "textDocument/codeAction", None)),
        "error",
        913,
    ),
    BadInput(
        "completion-position-string",
        'completion with position `"here"`',
        encode(completion(914, OPEN_URI, "here")),
        "error",
        914,
    ),
    BadInput(
        "did-open-wrong-types",
        "didOpen with textDocument `5`",
        encode(notification("textDocument/didOpen", {"textDocument": 5})),
        "nothing",
    ),
    BadInput(
        "did-change-wrong-types",
        'didChange with contentChanges `"abc"`',
        encode(
            notification(
                "textDocument/didChange",
                {"textDocument": {"uri": OPEN_URI, "version": 3}, "contentChanges": "abc"},
            )
        ),
        "nothing",
    ),
    BadInput(
        "command-arguments-object",
        "executeCommand glm.refactor with arguments `{...}` (not a list)",
        encode(
            request(
                915, "workspace/executeCommand", {"command": "glm.refactor", "arguments": {"x": 1}}
            )
        ),
        "result",
        915,
    ),
    BadInput(
        "refactor-argument-string",
        'glm.refactor with the argument `"now"`',
        encode(command(916, "glm.refactor", "now")),
        "result",
        916,
    ),
    BadInput(
        "refactor-range-string",
        'glm.refactor with range `"all"`',
        encode(command(917, "glm.refactor", {"uri": OPEN_URI, "range": "all"})),
        "result",
        917,
    ),
    BadInput(
        "agent-instruction-number",
        "glm.agent with instruction `42`",
        encode(command(918, "glm.agent", {"instruction": 42})),
        "result",
        918,
    ),
    # -- positions and ranges -------------------------------------------------------------------
    BadInput(
        "code-action-past-end",
        "codeAction on line 10,000 of a 5-line document",
        encode(code_action(920, OPEN_URI, rng(FAR, FAR))),
        "result",
        920,
    ),
    BadInput(
        "code-action-reversed",
        "codeAction with start after end",
        encode(code_action(921, OPEN_URI, REVERSED)),
        "result",
        921,
    ),
    BadInput(
        "completion-past-end",
        "completion at line 10,000, character 10,000",
        encode(completion(922, OPEN_URI, FAR)),
        "result",
        922,
    ),
    BadInput(
        "inline-completion-past-end",
        "inlineCompletion at line 10,000, character 10,000",
        encode(completion(923, OPEN_URI, FAR, "inlineCompletion")),
        "result",
        923,
    ),
    BadInput(
        "completion-negative",
        "completion at line -1 (not a uinteger)",
        encode(completion(924, OPEN_URI, pos(-1, -5))),
        "error",
        924,
    ),
    BadInput(
        "refactor-reversed",
        "glm.refactor with a reversed range",
        encode(command(925, "glm.refactor", {"uri": OPEN_URI, "range": REVERSED})),
        "result",
        925,
    ),
    BadInput(
        "refactor-past-end",
        "glm.refactor of lines 10,000-10,001",
        encode(command(926, "glm.refactor", {"uri": OPEN_URI, "range": rng(FAR, pos(10_001, 0))})),
        "result",
        926,
    ),
    BadInput(
        "did-change-past-end",
        "didChange replacing a range past the end",
        encode(did_change(OPEN_URI, 4, rng(FAR, FAR), "# appended\n")),
        "nothing",
    ),
    BadInput(
        "did-change-reversed",
        "didChange with a reversed range",
        encode(did_change(OPEN_URI, 5, rng(pos(1, 4), pos(1, 0)), "")),
        "nothing",
    ),
    # -- documents never opened -----------------------------------------------------------------
    BadInput(
        "code-action-never-opened",
        "codeAction on a URI never opened (and not on disk)",
        encode(code_action(930, NEVER_OPENED, WHOLE)),
        "error",
        930,
    ),
    BadInput(
        "completion-never-opened",
        "completion in a URI never opened",
        encode(completion(931, NEVER_OPENED, pos(0, 0))),
        "error",
        931,
    ),
    BadInput(
        "refactor-never-opened",
        "glm.refactor of a URI never opened",
        encode(command(932, "glm.refactor", {"uri": NEVER_OPENED, "range": WHOLE})),
        "result",
        932,
    ),
    BadInput(
        "did-change-never-opened",
        "didChange of a URI never opened",
        encode(did_change(NEVER_OPENED, 2, rng(pos(0, 0), pos(0, 0)), "x")),
        "nothing",
    ),
    BadInput(
        "did-close-never-opened",
        "didClose of a URI never opened",
        encode(notification("textDocument/didClose", {"textDocument": {"uri": NEVER_OPENED}})),
        "nothing",
    ),
    BadInput(
        "code-action-odd-uri",
        "codeAction on `untitled:Untitled-1` (never opened)",
        encode(code_action(933, "untitled:Untitled-1", WHOLE)),
        "error",
        933,
    ),
    BadInput(
        "code-action-garbage-uri",
        "codeAction on the URI `::::`",
        encode(code_action(934, "::::", WHOLE)),
        "error",
        934,
    ),
]
