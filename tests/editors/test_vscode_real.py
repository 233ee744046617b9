"""The extension inside a real VS Code: code-server 4.139.1 in Debian's chromium.

Each test does what a person does in the workbench (keys, the command palette, the light
bulb, notification buttons) and checks what that person would see: the editor's text, the
files on disk, the notifications, and what the fake GLM received. Never the extension's state.
A screenshot of every step goes to the folder printed at the start.

Tools: ``tests/install_test_tools.sh``. Without them these tests skip, except under CI=true,
where a missing tool is a failure. Run the suite without them: ``pytest -m "not vscode"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.editors.next_edit_script import RenameModel
from tests.editors.vscode.workbench import CodeServer, StepFailed, Tools, Workbench, wait_until
from tests.fake_glm import FakeGlm, Reply

pytestmark = [pytest.mark.vscode, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"
GLM_LSP = ROOT / ".venv" / "bin" / "glm-lsp"
ENV_KEY = "env-exported.key"
STORED_KEY = "secret-storage.key"
COMPLETION_MODEL = "glm-completion-under-test"  # tells completion requests from the rest

# A debian-like ~/.profile: VS Code's server takes PATH from the login shell, not from the
# process that started it, so this is how a pipx user's ~/.local/bin reaches glm-lsp.
PROFILE = 'if [ -d "$HOME/.local/bin" ] ; then PATH="$HOME/.local/bin:$PATH"; fi\n'
QUIET_SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.disableAIFeatures": True,
    "extensions.ignoreRecommendations": True,
    "telemetry.telemetryLevel": "off",
    "workbench.tips.enabled": False,
    # Word suggestions would cover the ghost text and take Tab; a test of ghost text turns
    # them off as a user who relies on inline completion might.
    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
    "editor.suggestOnTriggerCharacters": False,
    "editor.wordBasedSuggestions": "off",
}


def _tools() -> Tools:
    tools, missing = Tools.find()
    if tools is None:
        reason = "; ".join(missing) + ". Install them with: bash tests/install_test_tools.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the VS Code test tools are missing: {reason}")
        pytest.skip(reason)
    return tools


def _announce(request: pytest.FixtureRequest, line: str) -> None:
    """A line on the terminal now, even while pytest captures output."""
    plugins = request.config.pluginmanager
    reporter, capture = plugins.getplugin("terminalreporter"), plugins.getplugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_line(line)


@pytest.fixture(scope="module")
def tools() -> Tools:
    return _tools()


@pytest.fixture(scope="module")
def vsix(tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .vsix that `npm run package` builds, written where no other test deletes it."""
    if not (VSCODE / "node_modules").is_dir():
        message = "editors/vscode/node_modules is missing: run `npm ci` in editors/vscode"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("vsix") / "glm-lsp.vsix"
    result = subprocess.run(
        ["npm", "run", "package", "--", "--out", str(out)],
        cwd=VSCODE,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0 and out.is_file(), result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest) -> Path:
    # Outside pytest's numbered temp folders, which later runs delete: a person looks later.
    configured = os.environ.get("GLM_LSP_SCREENSHOTS")
    folder = Path(configured or tempfile.mkdtemp(prefix="glm-lsp-vscode-screenshots-"))
    _announce(request, f"VS Code screenshots: {folder}")
    return folder


@dataclass
class Session:
    """One code-server with the extension, one browser page on it, and the fake behind it."""

    server: CodeServer
    wb: Workbench
    workspace: Path
    home: Path
    fake: FakeGlm
    replies: deque[Reply] = field(default_factory=deque)  # for code actions and the agent
    completion: Reply = field(default_factory=lambda: Reply(text=""))
    next_edit: RenameModel = field(default_factory=RenameModel)  # the next-edit "model"

    def reply(self, body: dict[str, Any]) -> Reply:
        if "<|editable_region_start|>" in json.dumps(body.get("messages")):
            return self.next_edit(body)
        if body.get("model") == COMPLETION_MODEL:
            return self.completion
        return self.replies.popleft() if self.replies else Reply(text="(unscripted)")

    def chat_requests(self) -> list[Any]:
        return [r for r in self.fake.requests if r.body.get("model") != COMPLETION_MODEL]

    def next_edit_requests(self) -> list[Any]:
        return [r for r in self.fake.requests if "<|editable_region_start|>" in r.text()]

    def completion_requests(self) -> list[Any]:
        return [r for r in self.fake.requests if r.body.get("model") == COMPLETION_MODEL]

    def diagnosis(self) -> str:
        """What to read when a step did not happen: the server's log, the fake's view, toasts."""
        log = self.home.parent / "glm-lsp.log"
        text = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log.is_file() else ""
        seen = [(r.path, r.body.get("model"), r.closed_early) for r in self.fake.requests]
        return f"glm-lsp log:\n{text}\nfake saw: {seen}\nnotifications: {self.wb.notifications()}"

    def glm_lsp_processes(self) -> list[psutil.Process]:
        wanted = str(self.home / ".local" / "bin" / "glm-lsp")
        found = []
        for process in psutil.process_iter(["cmdline"]):
            if wanted in (process.info["cmdline"] or []):
                found.append(process)
        return found


def open_session(
    tools: Tools,
    vsix: Path,
    base: Path,
    shots: Path,
    env: dict[str, str],
    settings: dict[str, Any],
    files: dict[str, str],
    fake: FakeGlm,
    server_starts: bool = True,
) -> Session:
    home = base / "home"
    user_bin = home / ".local" / "bin"
    user_bin.mkdir(parents=True)
    (user_bin / "glm-lsp").symlink_to(GLM_LSP)  # as pipx puts it: outside every system dir
    (home / ".profile").write_text(PROFILE, encoding="utf-8")
    workspace = base / "workspace"
    for name, text in files.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(text, encoding="utf-8")
    server = CodeServer(
        tools,
        home,
        {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "SHELL": "/bin/bash",
            "GLM_LSP_STATE_DIR": str(base / "state"),
            **env,
        },
    )
    server.install_extension(vsix)
    server.write_user_settings(
        {
            **QUIET_SETTINGS,
            "glm.completion.model": COMPLETION_MODEL,
            "glmLsp.serverArgs": ["--log-file", str(base / "glm-lsp.log"), "-vv"],
            **settings,
        }
    )
    server.start(workspace)
    wb = Workbench(tools, server.url, base / "chromium-profile", shots)
    try:
        wb.call("open")
    except BaseException:
        wb.close()
        server.stop()
        raise
    session = Session(server, wb, workspace, home, fake)
    fake.responder = session.reply
    if server_starts:
        # glm-lsp's connection warm-up: the extension is active and the server initialized.
        started = fake.wait_for(lambda: bool(fake.other_headers), timeout=120)
        if not started:
            wb.screenshot("server did not start")
            close_session(session)
            raise AssertionError(f"glm-lsp never reached the fake GLM: {server.log_tail()}")
    return session


def close_session(session: Session) -> None:
    session.wb.close()
    session.server.stop()


@pytest.fixture(scope="class")
def vscode(
    tools: Tools, vsix: Path, shots: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Session]:
    """code-server started with a key and an endpoint exported, as from a user's shell."""
    with FakeGlm() as fake:
        session = open_session(
            tools,
            vsix,
            tmp_path_factory.mktemp("vscode-main"),
            shots / "main",
            env={"BIGMODEL_API_KEY": ENV_KEY, "GLM_LSP_BASE_URL": fake.url},
            settings={},
            files={
                "calc.py": "def add(a, b):\n    return a+b\n",
                "shapes.py": "def area(width, height):\n",
                "greet.py": "def greet(name):\n    return 'hi ' + name\n",
                "slow.py": "def slow(x):\n    return x\n",
                "rename.py": RENAME_SOURCE,
            },
            fake=fake,
        )
        try:
            yield session
        finally:
            close_session(session)


RENAME_SOURCE = (
    "def total(values):\n    result = 0\n    for value in values:\n"
    "        result += value\n    return result\n"
)


def decorations(session: Session) -> tuple[list[str], list[str]]:
    """What the editor draws as decorations: (texts shown after lines, texts struck through)."""
    drawn = session.wb.call("decorationTexts")
    return list(drawn["after"]), list(drawn["struck"])


def select_first_lines(session: Session, lines: int) -> None:
    session.wb.press("Control+Home", *["Shift+ArrowDown"] * lines)


def run_code_action(session: Session, title: str, attempts: int = 3) -> None:
    """Ctrl+. on the selection, then the action's entry in the light-bulb menu.

    Under load, Ctrl+. twice showed no menu within 60 s (cause not found: it did not recur
    in 10 loaded runs). A person presses it again, and so does this."""
    for attempt in range(1, attempts + 1):
        session.wb.press("Control+.")
        try:
            session.wb.wait_for(".action-widget", text=title, timeout=30)
            break
        except StepFailed:
            if attempt == attempts:
                raise
    session.wb.screenshot(f"menu {title}")
    session.wb.click(title, within=".action-widget")


class TestOneSession:
    """The steps of a person's first session, in order, in one code-server; it closes before
    the tests that need a code-server of their own start, so two never compete for the CPU."""

    def test_starts_with_the_exported_key_and_the_server_from_the_users_path(
        self, vscode: Session
    ) -> None:
        fake = vscode.fake  # the session waited for glm-lsp's first request
        vscode.wb.screenshot("activated")
        # The first request glm-lsp sends (its connection warm-up) carries the exported key.
        assert fake.other_requests[0].endswith("/models")
        assert fake.other_headers[0]["authorization"] == f"Bearer {ENV_KEY}"
        assert fake.other_headers[0]["user-agent"].startswith("glm-lsp/")
        # The process got VS Code's environment, not an empty one.
        [process] = vscode.glm_lsp_processes()
        env = process.environ()
        assert env["HOME"] == str(vscode.home)
        assert str(vscode.home / ".local" / "bin") in env["PATH"].split(":")
        assert env["BIGMODEL_API_KEY"] == ENV_KEY

    def test_refactor_from_the_light_bulb_and_one_undo(self, vscode: Session) -> None:
        original = "def add(a, b):\n    return a+b\n"
        refactored = "def add(a: int, b: int) -> int:\n    return a + b\n"
        vscode.replies.append(Reply(text=f"Here it is:\n```python\n{refactored}```\n"))
        vscode.wb.open_file("calc.py")
        assert vscode.wb.editor_text() == original
        select_first_lines(vscode, 2)
        vscode.wb.screenshot("refactor selection")
        run_code_action(vscode, "GLM: Refactor")

        assert vscode.wb.wait_editor_text(refactored) == refactored, vscode.diagnosis()
        vscode.wb.screenshot("refactored")
        assert "a+b" in vscode.chat_requests()[-1].text()  # the model was shown the selection
        vscode.wb.press("Control+Z")
        assert vscode.wb.wait_editor_text(original) == original, vscode.diagnosis()
        vscode.wb.screenshot("undone")

    def test_ghost_text_from_the_fake_and_tab_accepts_it(self, vscode: Session) -> None:
        vscode.completion = Reply(text="    return width * height")
        vscode.wb.open_file("shapes.py")
        vscode.wb.press("Control+End")
        vscode.wb.type("    ret")
        shown = vscode.wb.wait_ghost_text("urn width * height")
        vscode.wb.screenshot("ghost text")
        assert "urn width * height" in shown
        assert vscode.completion_requests(), "the ghost text came from somewhere else"
        vscode.wb.press("Tab")
        expected = "def area(width, height):\n    return width * height"
        assert vscode.wb.wait_editor_text(expected) == expected, vscode.diagnosis()
        vscode.wb.screenshot("ghost text accepted")

    def test_next_edit_decorations_tab_jumps_then_applies_escape_and_typing_dismiss(
        self, vscode: Session
    ) -> None:
        vscode.completion = Reply(text="")  # no ghost text from the test before
        vscode.next_edit.old, vscode.next_edit.new = "values", "items"
        vscode.wb.open_file("rename.py")
        # The user renames the parameter: select `values` in the signature, type `items`.
        vscode.wb.press("Control+Home", "End", "ArrowLeft", "ArrowLeft", "Shift+Control+ArrowLeft")
        vscode.wb.type("items")
        renamed = RENAME_SOURCE.replace("total(values)", "total(items)")
        assert vscode.wb.wait_editor_text(renamed) == renamed
        shown = wait_until(lambda: decorations(vscode)[0], 60)  # the decoration shows
        vscode.wb.screenshot("next edit shown")
        assert [" ".join(text.split()) for text in shown] == ["→ for value in items:"]
        assert decorations(vscode)[1] == ["values"]
        assert vscode.wb.editor_text() == renamed  # shown, not applied
        assert "-def total(values):" in vscode.next_edit_requests()[-1].text()

        vscode.wb.press("Tab")  # the cursor is on line 1, the edit on line 3: jump
        vscode.wb.screenshot("jumped to the next edit")
        assert vscode.wb.editor_text() == renamed
        vscode.wb.press("Tab")  # on the edit: apply
        predicted = renamed.replace("in values", "in items")
        assert vscode.wb.wait_editor_text(predicted) == predicted, vscode.diagnosis()
        vscode.wb.screenshot("next edit applied")

        # A second rename; its suggestion shows; typing on dismisses it, text untouched.
        vscode.next_edit.old, vscode.next_edit.new = "result", "acc"
        vscode.wb.press("Control+Home", "ArrowDown", "Home", "Shift+Control+ArrowRight")
        vscode.wb.type("acc")
        assert wait_until(lambda: decorations(vscode)[0], 60), vscode.diagnosis()
        second = vscode.wb.editor_text()
        vscode.wb.press("Escape")  # dismisses it, the text stays
        assert wait_until(lambda: decorations(vscode) == ([], []), 30)
        assert vscode.wb.editor_text() == second
        vscode.wb.command("GLM: Predict next edit")  # asked again: it shows again
        assert wait_until(lambda: decorations(vscode)[0], 60), vscode.diagnosis()
        vscode.next_edit.old = None  # the model predicts nothing from here on
        vscode.wb.press("End")
        vscode.wb.type("  # start")
        typed = predicted.replace("    result = 0", "    acc = 0  # start")
        assert vscode.wb.wait_editor_text(typed) == typed, vscode.diagnosis()
        assert wait_until(lambda: decorations(vscode) == ([], []), 30)
        vscode.wb.screenshot("next edit dismissed by typing")
        assert vscode.wb.editor_text() == typed

    def test_agent_edits_one_file_and_creates_another_through_the_refactor_preview(
        self, vscode: Session
    ) -> None:
        test_file = (
            "from greet import greet\n\n\ndef test_greet():\n    assert greet('Ann') == 'hi Ann'\n"
        )
        vscode.replies.extend(
            [
                Reply(
                    tool_calls=[
                        {
                            "name": "edit_file",
                            "arguments": {
                                "path": "greet.py",
                                "old_text": "'hi ' + name",
                                "new_text": "f'hi {name}'",
                            },
                        },
                        {
                            "name": "write_file",
                            "arguments": {"path": "test_greet.py", "content": test_file},
                        },
                    ]
                ),
                Reply(text="greet uses an f-string now, and test_greet.py tests it."),
            ]
        )
        vscode.wb.open_file("greet.py")
        vscode.wb.command("GLM: Agent…")
        vscode.wb.answer_input("use an f-string in greet and add a test")

        creating = '.bulk-edit-panel .monaco-list-row[aria-label^="Creating test_greet.py"]'
        vscode.wb.wait_for(creating)
        vscode.wb.screenshot("refactor preview")
        assert not (vscode.workspace / "test_greet.py").exists()  # nothing before it is accepted
        vscode.wb.call("clickSelector", selector=f"{creating} .edit-checkbox")  # needs confirmation
        vscode.wb.screenshot("creation confirmed")
        vscode.wb.click("Apply", within=".bulk-edit-panel")
        vscode.wb.command("File: Save All")

        def on_disk(name: str) -> str:
            path = vscode.workspace / name
            return path.read_text(encoding="utf-8") if path.is_file() else ""

        edited = "def greet(name):\n    return f'hi {name}'\n"
        assert wait_until(lambda: on_disk("greet.py") == edited, 60), on_disk("greet.py")
        new = "test_greet.py"
        assert wait_until(lambda: on_disk(new) == test_file, 60), on_disk(new)
        vscode.wb.screenshot("agent applied")
        assert len(vscode.chat_requests()[-1].messages) > 2  # the second turn saw the tool results

    def test_cancel_in_the_progress_notification_closes_the_stream_and_changes_nothing(
        self, vscode: Session
    ) -> None:
        original = "def slow(x):\n    return x\n"
        slow = "```python\ndef slow(x):\n    return x * 2\n```\n"
        vscode.replies.append(Reply(text=slow, chunk_size=1, chunk_delay=1.0))
        vscode.wb.open_file("slow.py")
        select_first_lines(vscode, 2)
        run_code_action(vscode, "GLM: Refactor")
        # The notification streams the reply's progress ("N tokens") and offers Cancel.
        shown = vscode.wb.wait_for(".notification-toast", text="token")
        assert "GLM: Refactor" in shown and "Cancel" in shown
        vscode.wb.screenshot("progress notification")
        vscode.wb.click("Cancel", within=".notification-toast")

        assert vscode.fake.wait_closed(timeout=60), "the upstream stream was not closed"
        request = vscode.chat_requests()[-1]
        assert request.closed_early and request.chunks_sent < len(slow)
        # The notification goes away and the buffer holds what it held.
        assert wait_until(lambda: not vscode.wb.call("count", selector=".notification-toast"), 60)
        vscode.wb.screenshot("cancelled")
        assert vscode.wb.editor_text() == original

    def test_set_api_key_is_used_after_the_server_restarts(self, vscode: Session) -> None:
        warmups = len(vscode.fake.other_headers)
        vscode.wb.command("GLM: Set API key")
        vscode.wb.answer_input(STORED_KEY)
        vscode.wb.wait_for(".notification-toast", text="API key saved")
        vscode.wb.screenshot("api key saved")
        fake = vscode.fake
        assert fake.wait_for(lambda: len(fake.other_headers) > warmups, timeout=120)
        assert fake.other_headers[-1]["authorization"] == f"Bearer {STORED_KEY}"

        vscode.replies.append(Reply(text="```python\ndef add(a, b):\n    return b + a\n```"))
        vscode.wb.open_file("calc.py")
        select_first_lines(vscode, 2)
        run_code_action(vscode, "GLM: Refactor")
        swapped = "def add(a, b):\n    return b + a\n"
        assert vscode.wb.wait_editor_text(swapped) == swapped, vscode.diagnosis()
        assert vscode.chat_requests()[-1].headers["authorization"] == f"Bearer {STORED_KEY}"
        vscode.wb.screenshot("refactor with the stored key")


def test_base_url_from_user_settings_is_used_and_a_workspace_one_is_not(
    tools: Tools, vsix: Path, shots: Path, tmp_path: Path
) -> None:
    """`glm.baseUrl` is application-scoped: User settings choose the endpoint, a cloned
    workspace's .vscode/settings.json cannot redirect the key."""
    with FakeGlm() as users_endpoint, FakeGlm() as workspace_endpoint:
        session = open_session(
            tools,
            vsix,
            tmp_path,
            shots / "base-url",
            env={"BIGMODEL_API_KEY": ENV_KEY},  # no GLM_LSP_BASE_URL: settings decide
            settings={"glm.baseUrl": users_endpoint.url},
            files={
                "calc.py": "def add(a, b):\n    return a+b\n",
                ".vscode/settings.json": json.dumps({"glm.baseUrl": workspace_endpoint.url}),
            },
            fake=users_endpoint,
        )
        try:
            session.replies.append(Reply(text="```python\ndef add(a, b):\n    return a + b\n```"))
            session.wb.open_file("calc.py")
            select_first_lines(session, 2)
            run_code_action(session, "GLM: Refactor")
            spaced = "def add(a, b):\n    return a + b\n"
            assert session.wb.wait_editor_text(spaced) == spaced, session.diagnosis()
            session.wb.screenshot("refactor through the user's endpoint")
            assert session.chat_requests()[-1].headers["authorization"] == f"Bearer {ENV_KEY}"
            redirected = [r.path for r in workspace_endpoint.requests]
            assert redirected + workspace_endpoint.other_requests == [], "the workspace chose"
        finally:
            close_session(session)


def test_a_workspace_cannot_choose_the_server_program_or_its_arguments(
    tools: Tools, vsix: Path, shots: Path, tmp_path: Path
) -> None:
    """`glmLsp.serverPath` and `serverArgs` are machine-scoped: a cloned repository's
    .vscode/settings.json naming its own program (which would start with the key in its
    environment) is ignored, and glm-lsp from the user's settings runs as usual."""
    marker = tmp_path / "workspace-program-ran"
    args_log = tmp_path / "workspace-args.log"
    program = f'#!/bin/sh\necho ran > {marker}\nexec {GLM_LSP} "$@"\n'
    tool = tmp_path / "workspace" / "tools" / "glm-lsp"  # in the repository, executable
    workspace_settings = {
        "glmLsp.serverPath": str(tool),
        "glmLsp.serverArgs": ["--log-file", str(args_log)],
    }
    tool.parent.mkdir(parents=True)
    tool.write_text(program, encoding="utf-8")
    tool.chmod(0o755)
    with FakeGlm() as fake:
        session = open_session(
            tools,
            vsix,
            tmp_path,
            shots / "workspace-server-path",
            env={"BIGMODEL_API_KEY": ENV_KEY, "GLM_LSP_BASE_URL": fake.url},
            settings={},
            files={
                "calc.py": "def add(a, b):\n    return a+b\n",
                ".vscode/settings.json": json.dumps(workspace_settings),
            },
            fake=fake,
        )
        try:
            session.replies.append(Reply(text="```python\ndef add(a, b):\n    return a + b\n```"))
            session.wb.open_file("calc.py")
            select_first_lines(session, 2)
            run_code_action(session, "GLM: Refactor")
            spaced = "def add(a, b):\n    return a + b\n"
            assert session.wb.wait_editor_text(spaced) == spaced, session.diagnosis()
            session.wb.screenshot("the user's glm-lsp ran, not the workspace's")
            assert not marker.exists(), "the workspace's program was started"
            assert not args_log.exists(), "the workspace's arguments were used"
        finally:
            close_session(session)


def test_a_wrong_server_path_shows_one_clear_error_and_no_restart_loop(
    tools: Tools, vsix: Path, shots: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "not-installed" / "glm-lsp"
    with FakeGlm() as fake:
        session = open_session(
            tools,
            vsix,
            tmp_path,
            shots / "wrong-server-path",
            env={"BIGMODEL_API_KEY": ENV_KEY, "GLM_LSP_BASE_URL": fake.url},
            settings={"glmLsp.serverPath": str(missing)},
            files={"calc.py": "def add(a, b):\n    return a+b\n"},
            fake=fake,
            server_starts=False,
        )
        try:
            message = session.wb.wait_for(".notification-toast", text="could not start")
            session.wb.screenshot("wrong server path")
            assert str(missing) in message
            assert "pipx install glm-lsp" in message and "glmLsp.serverPath" in message

            # No crash loop: a second notification (a retry failing again) never comes.
            def glm_errors() -> list[str]:
                return [text for text in session.wb.notifications() if "GLM" in text]

            assert not wait_until(lambda: len(glm_errors()) > 1, 20), glm_errors()
            assert len(glm_errors()) == 1
            assert fake.requests == [] and session.glm_lsp_processes() == []
        finally:
            close_session(session)
