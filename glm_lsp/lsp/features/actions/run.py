"""``glm.explain``, ``glm.refactor``, ``glm.fix``, ``glm.generateTests``: the code actions'
commands, each taking ONE object argument ``{uri, range, ...}`` via workspace/executeCommand.

Every command: snapshot the document → prompt → stream GLM as one cancellable operation with
progress → parse the reply → apply (versioned, rebased or refused; see ``apply.py``). A
cancelled or failed request applies nothing and the server keeps serving.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from glm_lsp.lsp.features.actions.explanation import show_explanation
from glm_lsp.lsp.features.actions.generated_tests import plan_tests_file, tests_change
from glm_lsp.lsp.features.actions.names import EXPLAIN, FIX, GENERATE_TESTS, REFACTOR
from glm_lsp.lsp.features.actions.target import (
    ActionArguments,
    ActionTarget,
    ArgumentError,
    code_request,
    parse_arguments,
    resolve_target,
)
from glm_lsp.lsp.features.apply import TextChange, apply_changes
from glm_lsp.lsp.features.context import test_fixtures, with_workspace_context
from glm_lsp.lsp.features.operation import Operation, run_operation, stream_to_result
from glm_lsp.lsp.server import GlmLanguageServer
from glm_lsp.parse import (
    drop_instruction_comment,
    extract_code,
    fit_to_selection,
    reads_as_prose,
    strip_thinking,
)
from glm_lsp.prompts import (
    CodeRequest,
    Messages,
    explain_messages,
    fix_messages,
    generate_tests_messages,
    refactor_messages,
)

Result = dict[str, Any] | None
Action = Callable[[GlmLanguageServer, ActionArguments, ActionTarget], Awaitable[Result]]


async def run_action(ls: GlmLanguageServer, command: str, args: tuple[Any, ...]) -> Result:
    """Run one of the code actions' commands (registered in :mod:`.commands`)."""
    actions: dict[str, Action] = {
        EXPLAIN: _explain,
        REFACTOR: _refactor,
        FIX: _fix,
        GENERATE_TESTS: _generate_tests,
    }
    return await _run(ls, command, args, actions[command])


async def _run(
    ls: GlmLanguageServer, command: str, args: tuple[Any, ...], action: Action
) -> Result:
    """Parse the argument, resolve the target, act; any failure is one message, not a crash."""
    try:
        arguments = parse_arguments(command, args)
        target = resolve_target(ls, arguments)
    except ArgumentError as exc:
        ls.show_warning(str(exc))
        return None
    try:
        return await action(ls, arguments, target)
    except Exception as exc:
        ls.report_error(exc, feature=command)
        return None


async def ask_glm(
    ls: GlmLanguageServer, title: str, feature: str, messages: Messages
) -> str | None:
    """Stream one reply under progress; None when cancelled or failed (already reported)."""
    actions = ls.settings.actions
    from glm_lsp.glm.models import ChatRequest  # lazy: pydantic is not needed to start

    request = ChatRequest(
        model=ls.model_for("actions"),
        messages=messages,
        max_tokens=actions.max_tokens,
        thinking=actions.thinking,
        temperature=ls.settings.temperature,
    )

    async def work(op: Operation) -> str:
        return (await stream_to_result(ls, op, request, feature="actions")).text

    return await run_operation(ls, title, work, feature=feature)


async def replace_selection(
    ls: GlmLanguageServer,
    title: str,
    feature: str,
    target: ActionTarget,
    messages: Messages,
    instruction: str | None = None,
) -> Result:
    """Ask, then replace the target with the reply's code (minimal, versioned edits)."""
    reply = await ask_glm(ls, title, feature, messages)
    if reply is None:
        return {"applied": False}
    if _words_not_code(ls, title, reply, target.language):
        return {"applied": False}
    code = extract_code(reply)
    if instruction:
        code = drop_instruction_comment(code, instruction)
    if not code.strip():
        ls.show_warning(f"{title}: GLM returned no code; nothing was applied.")
        return {"applied": False}
    replacement = fit_to_selection(
        code, target.selection, starts_at_line_start=target.starts_at_line_start
    )
    change = TextChange(target.document, target.range, replacement)
    return {"applied": await apply_changes(ls, title, [change])}


# Files where a sentence is what a rewrite may well be.
_PROSE_LANGUAGES = frozenset({"markdown", "plaintext", "text", "restructuredtext", "latex", "org"})
_PROSE_SHOWN = 400  # characters of GLM's words in the message


def _words_not_code(ls: GlmLanguageServer, title: str, reply: str, language: str) -> bool:
    """A reply with no code fence that reads as sentences ("Swapped the operands.") would
    replace the code with prose: show the words instead and apply nothing."""
    if language in _PROSE_LANGUAGES or not reads_as_prose(reply):
        return False
    words = " ".join(strip_thinking(reply).split())
    if len(words) > _PROSE_SHOWN:
        words = words[: _PROSE_SHOWN - 1] + "…"
    ls.show_warning(f"{title}: GLM answered in words, not code; nothing was applied. GLM: {words}")
    return True


async def prompt_request(
    ls: GlmLanguageServer, target: ActionTarget, args: ActionArguments
) -> CodeRequest:
    """What the model is shown: the target, the rules files, and the definitions from other
    files that the selection uses."""
    return await with_workspace_context(ls, target, code_request(target, args.diagnostics))


async def _explain(ls: GlmLanguageServer, args: ActionArguments, target: ActionTarget) -> Result:
    request = await prompt_request(ls, target, args)
    reply = await ask_glm(ls, "GLM: Explain", "explain", explain_messages(request))
    if reply is None:
        return None
    explanation = strip_thinking(reply).strip()
    return {"markdown": explanation, "uri": await show_explanation(ls, target, explanation)}


async def _refactor(ls: GlmLanguageServer, args: ActionArguments, target: ActionTarget) -> Result:
    messages = refactor_messages(await prompt_request(ls, target, args), args.instruction)
    title = f"GLM: {args.instruction}" if args.instruction else "GLM: Refactor"
    return await replace_selection(ls, title, "refactor", target, messages, args.instruction)


async def _fix(ls: GlmLanguageServer, args: ActionArguments, target: ActionTarget) -> Result:
    messages = fix_messages(await prompt_request(ls, target, args))
    return await replace_selection(ls, "GLM: Fix", "fix", target, messages)


async def _generate_tests(
    ls: GlmLanguageServer, args: ActionArguments, target: ActionTarget
) -> Result:
    if target.path is None:
        ls.show_warning("GLM: Generate tests needs a file on disk.")
        return None
    tests_file = plan_tests_file(ls, target)
    messages = generate_tests_messages(
        await prompt_request(ls, target, args),
        tests_file.display_path,
        appending=tests_file.exists,
        sample=tests_file.sample,
        fixtures=await test_fixtures(ls, target, tests_file.document.uri),
    )
    reply = await ask_glm(ls, "GLM: Generate tests", "generate tests", messages)
    if reply is None:
        return {"applied": False}
    if _words_not_code(ls, "GLM: Generate tests", reply, target.language):
        return {"applied": False}
    code = extract_code(reply)
    if not code.strip():
        ls.show_warning("GLM: Generate tests: GLM returned no code; nothing was applied.")
        return {"applied": False}
    change = tests_change(tests_file, code, target.language)
    applied = await apply_changes(ls, "GLM: Generate tests", [change])
    return {"applied": applied, "uri": tests_file.document.uri}
