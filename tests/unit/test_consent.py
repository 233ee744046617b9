"""The consent store and the question: what is remembered, where, and what counts as a yes."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from glm_lsp.lsp.asker import LspAsker
from glm_lsp.trust.consent import (
    ALLOW,
    CHECK,
    DONT_ALLOW,
    KEY_HOST,
    Answer,
    ConsentStore,
    ask,
    state_dir,
)


def test_an_allowed_subject_is_remembered_across_stores(tmp_path: Path) -> None:
    path = tmp_path / "state" / "consent.json"
    ConsentStore(path).remember(KEY_HOST, "llm.example.com:8443")
    again = ConsentStore(path)
    assert again.allowed(KEY_HOST, "llm.example.com:8443")
    assert not again.allowed(KEY_HOST, "llm.example.com")  # another port is another subject
    assert not again.allowed(CHECK, "llm.example.com:8443")  # kinds are apart
    assert json.loads(path.read_text())["allowed"] == {KEY_HOST: ["llm.example.com:8443"]}


def test_nothing_is_allowed_without_a_file(tmp_path: Path) -> None:
    store = ConsentStore(tmp_path / "missing" / "consent.json")
    assert not store.allowed(KEY_HOST, "a.example")
    assert not (tmp_path / "missing").exists()  # asking does not create anything


def test_another_servers_answer_counts_at_once(tmp_path: Path) -> None:
    path = tmp_path / "consent.json"
    mine, theirs = ConsentStore(path), ConsentStore(path)
    assert not mine.allowed(KEY_HOST, "a.example")
    theirs.remember(KEY_HOST, "a.example")
    assert mine.allowed(KEY_HOST, "a.example")
    mine.remember(KEY_HOST, "b.example")
    assert theirs.allowed(KEY_HOST, "a.example") and theirs.allowed(KEY_HOST, "b.example")


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"allowed": []}', '{"allowed": {"key-host": "a.example"}}']
)
def test_an_unreadable_file_allows_nothing_and_is_repaired(tmp_path: Path, content: str) -> None:
    path = tmp_path / "consent.json"
    path.write_text(content)
    store = ConsentStore(path)
    assert not store.allowed(KEY_HOST, "a.example")
    assert not store.allowed(KEY_HOST, "a")  # a string is not a list of subjects
    store.remember(KEY_HOST, "b.example")
    assert ConsentStore(path).allowed(KEY_HOST, "b.example")


def test_the_state_folder_is_made_private_and_the_file_readable(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "state" / "consent.json"  # neither folder exists yet
    ConsentStore(path).remember(KEY_HOST, "b.example")
    ConsentStore(path).remember(KEY_HOST, "a.example")
    assert path.parent.stat().st_mode & 0o777 == 0o700  # other users cannot list it
    # Indented, a subject a line, sorted: a person can read and edit it.
    assert path.read_text() == (
        '{\n  "allowed": {\n    "key-host": [\n      "a.example",\n      "b.example"\n'
        "    ]\n  }\n}\n"
    )


def test_the_file_is_written_beside_itself_then_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not in the system's temporary folder: a rename from there can cross file systems, and
    # that folder may not even exist.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    path = tmp_path / "state" / "consent.json"
    ConsentStore(path).remember(KEY_HOST, "a.example")
    assert [p.name for p in path.parent.iterdir()] == ["consent.json"]
    assert ConsentStore(path).allowed(KEY_HOST, "a.example")


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "consent.json"
    path.mkdir()  # a folder where the file should be: the rename fails
    with pytest.raises(OSError):
        ConsentStore(path).remember(KEY_HOST, "a.example")
    assert [p.name for p in tmp_path.iterdir()] == ["consent.json"]


def test_subjects_with_odd_characters_survive(tmp_path: Path) -> None:
    subject = '/home/u/proj\0["python", "-m", "pytest"]'
    ConsentStore(tmp_path / "c.json").remember(CHECK, subject)
    assert ConsentStore(tmp_path / "c.json").allowed(CHECK, subject)


def test_the_state_dir_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLM_LSP_STATE_DIR", str(tmp_path / "st"))
    assert state_dir() == tmp_path / "st"
    assert ConsentStore().path == tmp_path / "st" / "consent.json"
    monkeypatch.delenv("GLM_LSP_STATE_DIR")
    assert ConsentStore().path.parent.name == "glm-lsp"


async def ask_editor(editor: Editor, kind: str, subject: str, question: str) -> Answer:
    """The trust core's question, asked through the LSP front door's asker."""
    return await ask(LspAsker(editor), editor.consent, kind, subject, question)


async def ask_consent(editor: Editor, kind: str, subject: str, question: str) -> bool:
    return await ask_editor(editor, kind, subject, question) is Answer.ALLOWED


class Editor:
    """The client's side of window/showMessageRequest: records questions, answers as told."""

    def __init__(self, store: ConsentStore, answer: Any) -> None:
        self.consent = store
        self.answer = answer
        self.questions: list[types.ShowMessageRequestParams] = []
        self.release = asyncio.Event()
        self.release.set()

    async def window_show_message_request_async(
        self, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        self.questions.append(params)
        await self.release.wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return None if self.answer is None else types.MessageActionItem(title=self.answer)


async def test_allow_is_remembered_and_not_asked_again(tmp_path: Path) -> None:
    editor = Editor(ConsentStore(tmp_path / "c.json"), ALLOW)
    question = "Send your GLM API key to llm.example.com?"
    assert await ask_consent(editor, KEY_HOST, "llm.example.com", question)
    assert await ask_consent(editor, KEY_HOST, "llm.example.com", question)
    assert len(editor.questions) == 1
    asked = editor.questions[0]
    assert asked.message == question
    assert [a.title for a in asked.actions or []] == [ALLOW, DONT_ALLOW]
    assert ConsentStore(tmp_path / "c.json").allowed(KEY_HOST, "llm.example.com")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (DONT_ALLOW, Answer.DECLINED),
        ("Something else", Answer.DECLINED),
        (None, Answer.DISMISSED),
        (RuntimeError("Method not found: window/showMessageRequest"), Answer.UNSUPPORTED),
    ],
)
async def test_anything_but_allow_is_no_and_nothing_is_remembered(
    tmp_path: Path, answer: Any, expected: Answer
) -> None:
    editor = Editor(ConsentStore(tmp_path / "c.json"), answer)
    assert await ask_editor(editor, KEY_HOST, "h.example", "?") is expected
    assert not await ask_consent(editor, KEY_HOST, "h.example", "?")
    assert len(editor.questions) == 2  # a no is asked again next time
    assert not (tmp_path / "c.json").exists()


async def test_concurrent_requests_share_one_question(tmp_path: Path) -> None:
    editor = Editor(ConsentStore(tmp_path / "c.json"), ALLOW)
    editor.release.clear()
    waiting = [
        asyncio.ensure_future(ask_consent(editor, KEY_HOST, "h.example", "?")) for _ in range(3)
    ]
    await asyncio.sleep(0.01)
    editor.release.set()
    assert await asyncio.gather(*waiting) == [True, True, True]
    assert len(editor.questions) == 1


async def test_concurrent_questions_for_two_hosts_are_asked_apart(tmp_path: Path) -> None:
    # One question per subject: host B must not ride on the answer given for host A.
    editor = Editor(ConsentStore(tmp_path / "c.json"), ALLOW)
    editor.release.clear()
    waiting = [
        asyncio.ensure_future(ask_consent(editor, KEY_HOST, host, f"Send to {host}?"))
        for host in ("a.example", "b.example")
    ]
    await asyncio.sleep(0.01)
    editor.release.set()
    assert await asyncio.gather(*waiting) == [True, True]
    asked = sorted(q.message for q in editor.questions)
    assert asked == ["Send to a.example?", "Send to b.example?"]
