"""Context from the rest of the workspace, end to end: the real server, the fake GLM's
request log. What the model is shown from other files (definitions, conftest fixtures,
the project's rules files), and what it is never shown."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, inline, start_session

UTIL = '''\
def scale(v, factor=2.5):
    """Multiply v by factor."""
    return v * factor
'''
MAIN = "from util import scale\n\n\ndef run(v):\n    result = scale(\n"
AT_SCALE = types.Position(line=4, character=len("    result = scale("))
FAST = {"completion": {"debounceMs": 0}}
SECRET = "TOKEN=do-not-send-4417"


def workspace(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def rng(l1: int, c1: int, l2: int, c2: int) -> dict[str, Any]:
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


async def test_completion_sends_the_imported_signature_from_disk(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = workspace(tmp_path, {"util.py": UTIL, "main.py": MAIN})
    fake_glm.enqueue(Reply(text="v)"))
    async with start_session(fake_glm, root, init_options=FAST) as (client, editor):
        uri = editor.open("main.py")
        await inline(client, uri, AT_SCALE)
        prompt = fake_glm.requests[0].text()
        assert "util.py:" in prompt
        assert "def scale(v, factor=2.5):" in prompt
        assert '"""Multiply v by factor."""' in prompt


async def test_completion_sends_the_open_buffer_with_its_unsaved_edits(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = workspace(tmp_path, {"util.py": UTIL, "main.py": MAIN})
    unsaved = UTIL.replace("def scale(v, factor=2.5):", "def scale(v, factor=2.5, *, clip=None):")
    fake_glm.enqueue(Reply(text="v)"))
    async with start_session(fake_glm, root, init_options=FAST) as (client, editor):
        editor.open("util.py", unsaved)
        uri = editor.open("main.py")
        await inline(client, uri, AT_SCALE)
        prompt = fake_glm.requests[0].text()
        assert "def scale(v, factor=2.5, *, clip=None):" in prompt  # the buffer, not the disk
        assert "def scale(v, factor=2.5):" not in prompt


async def test_completion_never_sends_excluded_or_gitignored_files(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    main = "from local_settings import TOKEN\nfrom util import scale\n\nscale(TOKEN, \n"
    root = workspace(
        tmp_path,
        {
            "util.py": UTIL,
            "local_settings.py": f"{SECRET}\n",
            ".gitignore": "local_settings.py\n",
            ".env": f"{SECRET}\n",
            "main.py": main,
        },
    )
    fake_glm.enqueue(Reply(text="1)"))
    async with start_session(fake_glm, root, init_options=FAST) as (client, editor):
        editor.open(".env", f"{SECRET}\n", language_id="dotenv")
        editor.open("local_settings.py")  # open, and still gitignored
        uri = editor.open("main.py")
        await inline(client, uri, types.Position(line=3, character=len("scale(TOKEN, ")))
        prompt = fake_glm.requests[0].text()
        assert "def scale(v, factor=2.5):" in prompt  # context works here...
        assert "do-not-send-4417" not in prompt  # ...and the ignored file is not in it


async def test_generate_tests_sends_the_conftest_fixtures(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    conftest = (
        "import pytest\n\n\n@pytest.fixture\ndef sample_values():\n"
        '    """Three numbers."""\n    return [1, 2, 3]\n\n\n'
        "@pytest.fixture\ndef scaler_config(tmp_path):\n    return tmp_path\n"
    )
    root = workspace(
        tmp_path,
        {
            "util.py": UTIL,
            "tests/conftest.py": conftest,
            "tests/test_other.py": "def test_x():\n    pass\n",
        },
    )
    fake_glm.enqueue(Reply(text="```python\ndef test_scale(sample_values):\n    assert True\n```"))
    async with start_session(fake_glm, root) as (client, editor):
        uri = editor.open("util.py")
        await execute(client, "glm.generateTests", {"uri": uri, "range": rng(0, 0, 3, 0)})
        prompt = fake_glm.requests[0].text()
        assert "tests/conftest.py" in prompt
        assert "def sample_values():" in prompt and "def scaler_config(tmp_path):" in prompt
        assert "return [1, 2, 3]" not in prompt  # signatures, not bodies


async def test_refactor_sends_the_definitions_the_selection_uses(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    main = "from util import scale\n\n\ndef run(v):\n    return scale(v) + 1\n"
    root = workspace(tmp_path, {"util.py": UTIL, "main.py": main})
    fake_glm.enqueue(Reply(text="```python\ndef run(v):\n    return scale(v) + 1\n```"))
    async with start_session(fake_glm, root) as (client, editor):
        uri = editor.open("main.py")
        await execute(client, "glm.refactor", {"uri": uri, "range": rng(3, 0, 5, 0)})
        body = fake_glm.requests[0].body
        user = body["messages"][1]["content"]
        assert "def scale(v, factor=2.5):" in user
        # The file block comes first (shared by every action on this file), then the context.
        assert user.index("File: main.py") < user.index("def scale(v, factor=2.5):")


RULES_MARKER = "Always use tabs-not-spaces-7731."


async def test_agents_md_reaches_the_system_prompt_of_actions_and_the_agent(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = workspace(
        tmp_path,
        {"AGENTS.md": f"# Rules\n{RULES_MARKER}\n", "main.py": "def f():\n    return 1\n"},
    )
    fake_glm.enqueue(
        Reply(text="```python\ndef f():\n    return 1\n```"), Reply(text="Nothing to change.")
    )
    async with start_session(fake_glm, root) as (client, editor):
        uri = editor.open("main.py")
        await execute(client, "glm.refactor", {"uri": uri, "range": rng(0, 0, 2, 0)})
        await execute(client, "glm.agent", {"instruction": "look around"})
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 2)
        action = next(r.body for r in fake_glm.requests if "tools" not in r.body)
        agent = next(r.body for r in fake_glm.requests if "tools" in r.body)
        assert RULES_MARKER in action["messages"][0]["content"]
        assert action["messages"][0]["role"] == "system"
        assert RULES_MARKER in agent["messages"][0]["content"]
        assert agent["messages"][0]["role"] == "system"


async def test_empty_rules_files_sends_none(fake_glm: FakeGlm, tmp_path: Path) -> None:
    root = workspace(
        tmp_path, {"AGENTS.md": f"{RULES_MARKER}\n", "main.py": "def f():\n    return 1\n"}
    )
    fake_glm.enqueue(Reply(text="```python\ndef f():\n    return 1\n```"), Reply(text="Done."))
    async with start_session(fake_glm, root, init_options={"rulesFiles": []}) as (client, editor):
        uri = editor.open("main.py")
        await execute(client, "glm.refactor", {"uri": uri, "range": rng(0, 0, 2, 0)})
        await execute(client, "glm.agent", {"instruction": "look around"})
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 2)
        assert all(RULES_MARKER not in r.text() for r in fake_glm.requests)


async def test_an_excluded_name_in_rules_files_is_never_read(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = workspace(
        tmp_path,
        {
            ".env": f"{SECRET}\n",
            "keys/deploy.pem": f"{SECRET}\n",
            "CLAUDE.md": f"{RULES_MARKER}\n",
            "main.py": "def f():\n    return 1\n",
        },
    )
    options = {"rulesFiles": [".env", "keys/deploy.pem", "../outside.md", "CLAUDE.md"]}
    (tmp_path.parent / "outside.md").write_text(f"{SECRET}\n", encoding="utf-8")
    fake_glm.enqueue(Reply(text="```python\ndef f():\n    return 1\n```"), Reply(text="Done."))
    async with start_session(fake_glm, root, init_options=options) as (client, editor):
        uri = editor.open("main.py")
        await execute(client, "glm.refactor", {"uri": uri, "range": rng(0, 0, 2, 0)})
        await execute(client, "glm.agent", {"instruction": "look around"})
        assert await asyncio.to_thread(fake_glm.wait_for_requests, 2)
        for request in fake_glm.requests:
            assert "do-not-send-4417" not in request.text()
            assert RULES_MARKER in request.body["messages"][0]["content"]  # the allowed one


async def test_generate_tests_never_shows_a_gitignored_test_file_as_the_sample(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = workspace(
        tmp_path,
        {
            "util.py": UTIL,
            ".gitignore": "tests/test_local_*.py\n",
            "tests/test_local_keys.py": f"# {SECRET}\ndef test_local():\n    pass\n",
        },
    )
    fake_glm.enqueue(Reply(text="```python\ndef test_scale():\n    assert True\n```"))
    async with start_session(fake_glm, root) as (client, editor):
        uri = editor.open("util.py")
        result = await execute(client, "glm.generateTests", {"uri": uri, "range": rng(0, 0, 3, 0)})
        assert result["applied"] is True
        prompt = fake_glm.requests[0].text()
        assert "def scale(v, factor=2.5):" in prompt
        assert "do-not-send-4417" not in prompt and "test_local_keys" not in prompt


async def test_unsaved_rules_in_an_open_agents_md_are_what_an_action_sends(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = workspace(
        tmp_path, {"AGENTS.md": "old rule on disk\n", "main.py": "def f():\n    return 1\n"}
    )
    fake_glm.enqueue(Reply(text="```python\ndef f():\n    return 1\n```"))
    async with start_session(fake_glm, root) as (client, editor):
        editor.open("AGENTS.md", f"{RULES_MARKER}\n", language_id="markdown")
        uri = editor.open("main.py")
        await execute(client, "glm.refactor", {"uri": uri, "range": rng(0, 0, 2, 0)})
        system = fake_glm.requests[0].body["messages"][0]["content"]
        assert RULES_MARKER in system and "old rule on disk" not in system
