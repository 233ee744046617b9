"""Code actions end to end: the real glm-lsp process, the fake GLM upstream, an editor that
applies workspace/applyEdit to its buffers. Asserts what a user sees: the menu, the text in
the buffer, the files on disk, the messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, messages_of, start_session

CALC = """\
import math


def area(radius):
    return math.pi * radius ** 2


def double(x):
    return x * 2
"""


def rng(l1: int, c1: int, l2: int, c2: int) -> types.Range:
    return types.Range(
        start=types.Position(line=l1, character=c1), end=types.Position(line=l2, character=c2)
    )


def range_json(r: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


AREA = rng(3, 0, 5, 0)  # def area(...) and its body, whole lines
WITH_COMMENT = CALC.replace("def double(x):\n", "def double(x):\n    # glm: reject None\n")


def make_workspace(root: Path, *, tests_dir: bool = False) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "calc.py").write_text(CALC, encoding="utf-8")
    if tests_dir:
        (root / "tests").mkdir()
    return root


async def code_actions(
    client: Any, uri: str, range_: types.Range, diagnostics: list[types.Diagnostic] | None = None
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=range_,
            context=types.CodeActionContext(diagnostics=diagnostics or []),
        )
    )
    assert result is not None
    assert all(isinstance(a, types.CodeAction) for a in result)
    return [a for a in result if isinstance(a, types.CodeAction)]


async def test_action_list_has_the_four_actions_fix_custom_and_instruction(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    options = {"customActions": [{"title": "Add docstrings", "prompt": "Add docstrings"}]}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        text = CALC.replace("def double(x):\n", "def double(x):\n    # glm: handle None\n")
        uri = editor.open("calc.py", text)
        diagnostic = types.Diagnostic(
            range=rng(4, 11, 4, 15),
            message="undefined name",
            severity=types.DiagnosticSeverity.Error,
            source="pyflakes",
        )
        actions = await code_actions(client, uri, AREA, [diagnostic])
        titles = [a.title for a in actions]
        for title in ("GLM: Explain", "GLM: Refactor", "GLM: Generate tests", "GLM: Fix"):
            assert title in titles
        assert "GLM: Add docstrings" in titles
        fix = next(a for a in actions if a.title == "GLM: Fix")
        assert fix.kind == types.CodeActionKind.QuickFix
        assert list(fix.diagnostics or []) == [diagnostic]
        assert fix.command is not None and fix.command.command == "glm.fix"
        assert fix.command.arguments is not None and len(fix.command.arguments) == 1
        assert fix.command.arguments[0]["uri"] == uri
        assert fix.command.arguments[0]["range"] == range_json(AREA)
        assert fix.command.arguments[0]["diagnostics"][0]["message"] == "undefined name"
        assert not fake_glm.requests  # listing actions never calls the model

        no_diagnostics = [a.title for a in await code_actions(client, uri, AREA)]
        assert "GLM: Fix" not in no_diagnostics

        comment_line = text.splitlines().index("    # glm: handle None")
        on_comment = await code_actions(client, uri, rng(comment_line, 2, comment_line, 2))
        instruction = next(a for a in on_comment if a.title == "GLM: handle None")
        assert instruction.command is not None
        assert instruction.command.command in ("glm.agent", "glm.refactor")
        assert instruction.command.arguments is not None
        assert instruction.command.arguments[0]["instruction"] == "handle None"


async def test_empty_range_targets_the_enclosing_function(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        actions = await code_actions(client, uri, rng(4, 8, 4, 8))
        refactor = next(a for a in actions if a.title == "GLM: Refactor")
        assert refactor.command is not None and refactor.command.arguments is not None
        assert refactor.command.arguments[0]["range"] == range_json(AREA)


async def test_refactor_replaces_exactly_the_selection_with_the_fenced_code(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    reply = (
        "Sure, here is a clearer version:\n\n```python\ndef area(radius: float) -> float:\n"
        "    return math.pi * radius**2\n```\n\nThis adds type hints."
    )
    fake_glm.enqueue(Reply(text=reply))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        result = await execute(client, "glm.refactor", {"uri": uri, "range": range_json(AREA)})
        assert result == {"applied": True}
        assert editor.text(uri) == CALC.replace(
            "def area(radius):\n    return math.pi * radius ** 2\n",
            "def area(radius: float) -> float:\n    return math.pi * radius**2\n",
        )
        (params,) = editor.applied_edits
        (change,) = params.edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.version == 1  # the version the work started from
        for edit in change.edits:  # minimal: only the two changed lines are touched
            assert edit.range.start.line >= 3 and edit.range.end.line <= 4
        sent = fake_glm.requests[0]
        assert "def area(radius):" in sent.text() and "calc.py" in sent.text()
        assert sent.body["stream"] is True
        assert sent.body["thinking"] == {"type": "enabled"}  # actions.thinking defaults on
        assert sent.body["max_tokens"] == 4096


async def test_refactor_with_an_unfenced_reply_uses_the_whole_reply(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    fake_glm.enqueue(Reply(text="def double(x):\n    return x + x\n"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        target = rng(7, 0, 9, 0)
        await execute(client, "glm.refactor", {"uri": uri, "range": range_json(target)})
        assert editor.text(uri) == CALC.replace("return x * 2", "return x + x")


async def test_custom_action_sends_its_prompt_as_the_instruction(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    fake_glm.enqueue(
        Reply(text='```python\ndef double(x):\n    """Twice x."""\n    return x * 2\n```')
    )
    options = {"customActions": [{"title": "Add docstrings", "prompt": "Add short docstrings"}]}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        uri = editor.open("calc.py", CALC)
        actions = await code_actions(client, uri, rng(7, 0, 9, 0))
        custom = next(a for a in actions if a.title == "GLM: Add docstrings")
        assert custom.command is not None and custom.command.arguments is not None
        await execute(client, custom.command.command, custom.command.arguments[0])
        assert '    """Twice x."""\n' in editor.text(uri)
        assert "Add short docstrings" in fake_glm.requests[0].text()


async def test_fix_sends_the_diagnostics_and_applies_the_fix(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    broken = CALC.replace("radius ** 2", "radios ** 2")
    fake_glm.enqueue(Reply(text="```python\n    return math.pi * radius ** 2\n```"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", broken)
        diagnostic = types.Diagnostic(
            range=rng(4, 22, 4, 28), message="undefined name 'radios'", source="pyflakes"
        )
        actions = await code_actions(client, uri, rng(4, 0, 5, 0), [diagnostic])
        fix = next(a for a in actions if a.title == "GLM: Fix")
        assert fix.command is not None and fix.command.arguments is not None
        await execute(client, "glm.fix", fix.command.arguments[0])
        assert editor.text(uri) == CALC
        assert "undefined name 'radios'" in fake_glm.requests[0].text()


async def test_instruction_comment_runs_the_agent_on_the_comment_line(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)
    text = WITH_COMMENT
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", text)
        line = text.splitlines().index("    # glm: reject None")
        actions = await code_actions(client, uri, rng(line, 0, line, 0))
        action = next(a for a in actions if a.title == "GLM: reject None")
        assert action.command is not None and action.command.command == "glm.agent"
        assert list(action.command.arguments or []) == [
            {
                "instruction": "reject None",
                "uri": uri,
                "range": range_json(rng(line, 0, line + 1, 0)),
            }
        ]


async def test_refactor_with_an_instruction_drops_its_comment(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """What an instruction comment runs when there is no agent: a refactor of its block."""
    make_workspace(tmp_path)
    text = WITH_COMMENT
    fake_glm.enqueue(
        Reply(
            text="```python\ndef double(x):\n    # glm: reject None\n    if x is None:\n"
            "        raise ValueError('x is None')\n    return x * 2\n```"
        )
    )
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", text)
        argument = {"uri": uri, "range": range_json(rng(7, 0, 10, 0)), "instruction": "reject None"}
        await execute(client, "glm.refactor", argument)
        assert editor.text(uri) == CALC.replace(
            "    return x * 2",
            "    if x is None:\n        raise ValueError('x is None')\n    return x * 2",
        )
        assert "Instruction: reject None" in fake_glm.requests[0].text()


async def test_generate_tests_creates_the_conventional_file(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path, tests_dir=True)
    (tmp_path / "tests" / "test_other.py").write_text("def test_other():\n    assert True\n")
    tests = "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n"
    fake_glm.enqueue(Reply(text=f"Here are tests:\n```python\n{tests}```"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        result = await execute(
            client, "glm.generateTests", {"uri": uri, "range": range_json(rng(7, 0, 9, 0))}
        )
        created = tmp_path / "tests" / "test_calc.py"
        assert result["applied"] is True and result["uri"] == created.as_uri()
        assert created.read_text() == tests
        (params,) = editor.applied_edits
        changes = params.edit.document_changes or []
        assert isinstance(changes[0], types.CreateFile)
        prompt = fake_glm.requests[0].text()
        assert "def test_other():" in prompt  # the project's style sample
        assert "tests/test_calc.py" in prompt


async def test_generate_tests_appends_to_an_existing_test_file(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    make_workspace(tmp_path)  # no tests/ directory: tests go beside the source
    existing = "from calc import area\n\n\ndef test_area():\n    assert area(0) == 0\n"
    (tmp_path / "test_calc.py").write_text(existing)
    fake_glm.enqueue(Reply(text="```python\ndef test_double():\n    assert double(2) == 4\n```"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        await execute(
            client, "glm.generateTests", {"uri": uri, "range": range_json(rng(7, 0, 9, 0))}
        )
        assert (tmp_path / "test_calc.py").read_text() == (
            existing + "\n\ndef test_double():\n    assert double(2) == 4\n"
        )
        (params,) = editor.applied_edits
        (change,) = params.edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.version is None  # a closed file
        assert "appended to the end of test_calc.py" in fake_glm.requests[0].text()


async def test_explain_opens_a_markdown_file_in_the_cache_dir(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    workspace = make_workspace(tmp_path / "ws")
    cache = tmp_path / "cache"
    fake_glm.enqueue(Reply(text="`area` returns the **area** of a circle.", reasoning="hmm"))
    env = {"XDG_CACHE_HOME": str(cache)}
    async with start_session(fake_glm, workspace, extra_env=env) as (client, editor):
        uri = editor.open("calc.py", CALC)
        result = await execute(client, "glm.explain", {"uri": uri, "range": range_json(AREA)})
        (shown,) = client.shown_documents
        path = Path(shown.uri.removeprefix("file://"))
        assert path.suffix == ".md" and path.is_relative_to(cache)
        assert "returns the **area** of a circle" in path.read_text()
        assert "hmm" not in path.read_text()  # thinking never reaches the output
        assert result["uri"] == shown.uri
        assert not list(workspace.glob("*.md"))
        assert not editor.applied_edits


async def test_explain_without_show_document_uses_a_message(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    from tests.lsp_harness import vscode_like_capabilities

    make_workspace(tmp_path)
    fake_glm.enqueue(Reply(text="It doubles x."))
    capabilities = vscode_like_capabilities(show_document=False)
    async with start_session(fake_glm, tmp_path, capabilities=capabilities) as (client, editor):
        uri = editor.open("calc.py", CALC)
        await execute(client, "glm.explain", {"uri": uri, "range": range_json(rng(7, 0, 9, 0))})
        assert not client.shown_documents
        infos = messages_of(client, types.MessageType.Info)
        assert any("It doubles x." in m for m in infos)


async def test_explain_output_setting_forces_a_message(fake_glm: FakeGlm, tmp_path: Path) -> None:
    make_workspace(tmp_path)
    fake_glm.enqueue(Reply(text="It doubles x."))
    options = {"actions": {"explainOutput": "message"}}
    async with start_session(fake_glm, tmp_path, init_options=options) as (client, editor):
        uri = editor.open("calc.py", CALC)
        await execute(client, "glm.explain", {"uri": uri, "range": range_json(rng(7, 0, 9, 0))})
        assert not client.shown_documents
        assert any("It doubles x." in m for m in messages_of(client, types.MessageType.Info))


async def test_a_refactor_reply_in_words_is_shown_not_applied(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    """No code fence and sentences only: replacing the selection with them would break the
    file, so the words are shown and nothing changes."""
    make_workspace(tmp_path)
    fake_glm.enqueue(Reply(text="Swapped the operands."))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        result = await execute(client, "glm.refactor", {"uri": uri, "range": range_json(AREA)})
        assert result == {"applied": False}
        assert editor.text(uri) == CALC
        assert editor.applied_edits == []
        warnings = messages_of(client, types.MessageType.Warning)
        assert any(
            "answered in words, not code; nothing was applied" in w and "Swapped the operands." in w
            for w in warnings
        ), warnings


async def test_a_refactor_reply_of_bare_code_is_applied(fake_glm: FakeGlm, tmp_path: Path) -> None:
    make_workspace(tmp_path)
    fake_glm.enqueue(Reply(text="def area(radius):\n    return math.pi * radius * radius\n"))
    async with start_session(fake_glm, tmp_path) as (client, editor):
        uri = editor.open("calc.py", CALC)
        result = await execute(client, "glm.refactor", {"uri": uri, "range": range_json(AREA)})
        assert result == {"applied": True}
        assert "    return math.pi * radius * radius\n" in editor.text(uri)
