"""Where the workspace context and the rules files sit in the prompts: after what stays the
same from request to request, so the cached prefix survives."""

from __future__ import annotations

from glm_lsp.completion.cursor import cursor_at
from glm_lsp.completion.prompt import SYSTEM_PROMPT as COMPLETION_SYSTEM
from glm_lsp.completion.prompt import completion_messages
from glm_lsp.context.target import excerpt_around
from glm_lsp.prompts import SYSTEM_PROMPT, CodeRequest, explain_messages, refactor_messages

CONTEXT = "Definitions from other files:\nutil.py:\n```python\ndef scale(v, factor=2.5):\n```\n"
FILE = "from util import scale\n\n\ndef run(v):\n    result = scale(\n    return result\n"


def test_completion_context_comes_before_the_file_and_the_system_message_never_changes() -> None:
    offset = FILE.index("scale(\n") + len("scale(")
    messages = completion_messages(cursor_at("main.py", "python", FILE, offset), CONTEXT)
    assert messages[0] == {"role": "system", "content": COMPLETION_SYSTEM}
    user = messages[1]["content"]
    assert user.startswith(CONTEXT.rstrip())
    assert user.index("def scale(v, factor=2.5):") < user.index("File: main.py")


def test_typing_keeps_the_completion_prompt_prefix_up_to_the_cursor() -> None:
    offset = FILE.index("scale(\n") + len("scale(")
    before = completion_messages(cursor_at("main.py", "python", FILE, offset), CONTEXT)
    typed = FILE[:offset] + "v" + FILE[offset:]
    after = completion_messages(cursor_at("main.py", "python", typed, offset + 1), CONTEXT)
    shared = before[1]["content"].split("<|cursor|>")[0]
    assert after[1]["content"].startswith(shared)


def test_no_context_is_the_prompt_of_before() -> None:
    cursor = cursor_at("main.py", "python", FILE, 10)
    assert completion_messages(cursor, "") == completion_messages(cursor)
    assert completion_messages(cursor)[1]["content"].startswith("File: main.py")


def request(*, rules: str = "", context: str = "") -> CodeRequest:
    start, end = FILE.index("def run"), len(FILE)
    return CodeRequest(
        language="python",
        path="main.py",
        excerpt=excerpt_around(FILE, start, end),
        selection=FILE[start:end],
        first_line=3,
        last_line=5,
        rules=rules,
        context=context,
    )


def test_actions_rules_in_the_system_message_context_between_file_and_selection() -> None:
    messages = explain_messages(request(rules="Project rules:\nUse tabs.", context=CONTEXT))
    assert messages[0]["content"] == SYSTEM_PROMPT + "\n\nProject rules:\nUse tabs."
    user = messages[1]["content"]
    file_at = user.index("File: main.py")
    context_at = user.index("def scale(v, factor=2.5):")
    selection_at = user.index("Selected code")
    assert file_at < context_at < selection_at


def test_two_actions_on_one_file_share_the_prefix_through_the_file_block() -> None:
    first = explain_messages(request(context=CONTEXT))[1]["content"]
    second = refactor_messages(request(context=CONTEXT), "rename v")[1]["content"]
    file_block = first[: first.index("Definitions from other files")]
    assert second.startswith(file_block)
    assert explain_messages(request())[0]["content"] == SYSTEM_PROMPT
