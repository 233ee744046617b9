"""The agent's tools as the model sees them: results, errors that say how to recover, caps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glm_lsp.agent.tools import TOOL_NAMES, TOOL_SCHEMAS, AgentTools, cap_output
from glm_lsp.workspace import CreateChange, TextChange, Workspace

SECRET = "s3cr3t-DO-NOT-LEAK"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    files = {
        "a.py": "def helper():\n    return 1\n\n\ndef other():\n    return helper()\n",
        "b.py": "from a import helper\n\nprint(helper())\n",
        "src/app.ts": "export const helper = 1;\n",
        ".env": f"TOKEN={SECRET}\n",
        ".git/config": f"url = https://{SECRET}@example.com\n",
        "keys/server.key": SECRET,
        "dist/bundle.js": "helper()\n",
        ".gitignore": "dist/\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "outside.txt").write_text(SECRET)
    (root / "innocent.txt").symlink_to(tmp_path / "outside.txt")
    return root


def make_tools(root: Path, *, max_output_bytes: int = 32768, **kwargs: object) -> AgentTools:
    return AgentTools(Workspace([root], **kwargs), max_output_bytes=max_output_bytes)  # type: ignore[arg-type]


def call(tools: AgentTools, name: str, **arguments: object) -> str:
    return tools.run(name, json.dumps(arguments))


def test_schemas_are_exactly_the_seven_tools() -> None:
    assert TOOL_NAMES == (
        "read_file",
        "list_files",
        "search",
        "write_file",
        "edit_file",
        "delete_file",
        "rename_file",
    )
    params = {s["function"]["name"]: s["function"]["parameters"] for s in TOOL_SCHEMAS}
    assert set(params["read_file"]["properties"]) == {"path", "start_line", "end_line"}
    assert params["edit_file"]["required"] == ["path", "old_text", "new_text"]
    assert params["list_files"]["required"] == []
    assert set(params["search"]["properties"]) == {"query", "path", "regex"}
    assert all(s["type"] == "function" for s in TOOL_SCHEMAS)


# --- attacks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["../outside.txt", "innocent.txt", ".git/config", ".env", "keys/server.key"]
)
def test_reading_off_limits_answers_error_without_the_secret(tree: Path, path: str) -> None:
    output = call(make_tools(tree), "read_file", path=path)
    assert output.startswith("error: ")
    assert SECRET not in output


def test_reading_an_absolute_path_outside_answers_error(tree: Path) -> None:
    output = call(make_tools(tree), "read_file", path=str(tree.parent / "outside.txt"))
    assert output.startswith("error: ") and "outside the workspace" in output
    assert SECRET not in output


def test_secrets_are_neither_listed_nor_searched(tree: Path) -> None:
    tools = make_tools(tree)
    listing = call(tools, "list_files")
    assert ".env" not in listing and "server.key" not in listing and ".git/" not in listing
    assert call(tools, "search", query=SECRET) == "(no matches)"
    assert call(tools, "search", query="s3cr3t.*LEAK", regex=True) == "(no matches)"


@pytest.mark.parametrize("path", ["../evil.py", "/tmp/evil.py", ".git/hooks/pre-commit", ".env"])
def test_writes_off_limits_stage_nothing(tree: Path, path: str) -> None:
    tools = make_tools(tree)
    assert call(tools, "write_file", path=path, content="pwned").startswith("error: ")
    assert call(tools, "rename_file", path="a.py", new_path=path).startswith("error: ")
    assert call(tools, "delete_file", path=path).startswith("error: ")
    assert tools.workspace.changes() == []


# --- read_file --------------------------------------------------------------------------


def test_read_file_returns_unsaved_buffer_text(tree: Path) -> None:
    tools = make_tools(tree, open_buffers={tree / "b.py": "print('unsaved')\n"})
    assert call(tools, "read_file", path="b.py") == "print('unsaved')\n"


def test_read_file_line_range(tree: Path) -> None:
    output = call(make_tools(tree), "read_file", path="a.py", start_line=5, end_line=6)
    assert output == "[a.py lines 5-6 of 6]\ndef other():\n    return helper()\n"


def test_read_file_errors_tell_how_to_recover(tree: Path) -> None:
    tools = make_tools(tree)
    missing = call(tools, "read_file", path="nope.py")
    assert missing.startswith("error: ") and "list_files" in missing
    assert "only 6 lines" in call(tools, "read_file", path="a.py", start_line=40)
    assert call(tools, "read_file", path="src").startswith("error: src is a directory")


def test_big_read_is_cut_at_a_line_with_where_to_read_on(tree: Path) -> None:
    (tree / "big.py").write_text("".join(f"line {n}\n" for n in range(1, 2001)))
    output = call(make_tools(tree, max_output_bytes=1000), "read_file", path="big.py")
    assert len(output.encode()) <= 1000
    last_line = [line for line in output.splitlines() if line.startswith("line ")][-1]
    next_line = int(last_line.split()[1]) + 1
    assert f"start_line={next_line}" in output


def test_tool_outputs_are_capped_with_a_note(tree: Path) -> None:
    for n in range(300):
        (tree / f"file_{n:03}.py").write_text("helper = 1\n")
    tools = make_tools(tree, max_output_bytes=600)
    for output in (call(tools, "list_files"), call(tools, "search", query="helper")):
        assert len(output.encode()) <= 600
        assert "[output cut at" in output


def test_cap_output_leaves_short_text_alone_and_never_splits_characters() -> None:
    assert cap_output("short", 100, "hint") == "short"
    capped = cap_output("中" * 1000, 300, "hint")
    assert len(capped.encode()) <= 300 and capped.startswith("中")


# --- list_files and search ------------------------------------------------------------


def test_list_files_with_path_and_pattern(tree: Path) -> None:
    tools = make_tools(tree)
    assert call(tools, "list_files", pattern="*.py") == "a.py\nb.py"
    assert call(tools, "list_files", path="src") == "src/app.ts"
    assert "dist/bundle.js" not in call(tools, "list_files")  # .gitignore honoured


def test_search_literal_regex_and_single_file(tree: Path) -> None:
    tools = make_tools(tree, open_buffers={tree / "b.py": "x = helper.value\n"})
    assert call(tools, "search", query="helper.", path="b.py") == "b.py:1: x = helper.value"
    regex = call(tools, "search", query=r"def \w+\(", regex=True)
    assert regex == "a.py:1: def helper():\na.py:5: def other():"
    assert "dist/" not in call(tools, "search", query="helper")
    anchored = call(tools, "search", query="^def o", regex=True)  # ^ anchors at each line
    assert anchored == "a.py:5: def other():"
    assert call(tools, "search", query="(", regex=True).startswith("error: query is not a valid")


# --- writing tools ----------------------------------------------------------------------


def test_edit_file_exactly_once(tree: Path) -> None:
    tools = make_tools(tree)
    output = call(tools, "edit_file", path="b.py", old_text="print(helper())", new_text="run()")
    assert output.startswith("edited b.py")
    assert call(tools, "read_file", path="b.py") == "from a import helper\n\nrun()\n"


def test_ambiguous_edit_names_the_lines_and_changes_nothing(tree: Path) -> None:
    tools = make_tools(tree)
    output = call(tools, "edit_file", path="a.py", old_text="    return", new_text="    yield")
    assert output.startswith("error: old_text occurs 2 times in a.py (lines 2, 6)")
    assert "more surrounding lines" in output
    assert tools.workspace.changes() == []


def test_edit_with_no_match_says_to_copy_exactly(tree: Path) -> None:
    tools = make_tools(tree)
    output = call(tools, "edit_file", path="a.py", old_text="def  helper():", new_text="")
    assert output.startswith("error: old_text was not found in a.py")
    spaced = call(tools, "edit_file", path="a.py", old_text="  def helper():", new_text="")
    assert "different white space" in spaced


def test_edit_on_a_crlf_file_keeps_crlf(tree: Path) -> None:
    (tree / "win.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    tools = make_tools(tree)
    output = call(
        tools, "edit_file", path="win.py", old_text="a = 1\nb = 2", new_text="a = 3\nb = 4"
    )
    assert output.startswith("edited")
    assert call(tools, "read_file", path="win.py") == "a = 3\r\nb = 4\r\n"


def test_write_delete_rename_are_staged(tree: Path) -> None:
    tools = make_tools(tree)
    assert (
        call(tools, "write_file", path="pkg/new.py", content="x\n")
        == "created pkg/new.py (1 lines)"
    )
    assert call(tools, "write_file", path="a.py", content="y\n") == "wrote a.py (1 lines)"
    assert call(tools, "delete_file", path="b.py") == "deleted b.py"
    assert call(tools, "rename_file", path="src/app.ts", new_path="src/main.ts") == (
        "renamed src/app.ts to src/main.ts"
    )
    assert call(tools, "read_file", path="b.py").startswith("error: b.py has been deleted")
    assert call(tools, "rename_file", path="a.py", new_path="src/main.ts").startswith(
        "error: src/main.ts already exists"
    )
    kinds = [type(c).__name__ for c in tools.workspace.changes()]
    assert kinds == ["TextChange", "DeleteChange", "RenameChange", "CreateChange"]
    assert (tree / "b.py").exists() and not (tree / "pkg").exists()


# --- malformed calls --------------------------------------------------------------------


def test_bad_json_unknown_tool_and_bad_arguments(tree: Path) -> None:
    tools = make_tools(tree)
    bad_json = tools.run("read_file", '{"path": "a.py"')
    assert bad_json.startswith("error: the arguments of read_file are not valid JSON")
    unknown = tools.run("run_shell", "{}")
    assert unknown.startswith("error: there is no tool named 'run_shell'")
    assert "read_file" in unknown
    assert tools.run("read_file", "[1]").startswith("error: the arguments of read_file must be")
    assert tools.run("read_file", "{}") == "error: argument 'path' is missing"
    assert call(tools, "write_file", path="x.py", content=3) == (
        "error: argument 'content' must be a string"
    )
    assert call(tools, "read_file", path="a.py", start_line=0).startswith("error: argument")


def test_changes_after_a_mix_of_tools(tree: Path) -> None:
    tools = make_tools(tree)
    call(tools, "edit_file", path="a.py", old_text="def helper", new_text="def assist")
    call(tools, "write_file", path="c.py", content="c\n")
    a, c = tools.workspace.resolve("a.py"), tools.workspace.resolve("c.py")
    changes = tools.workspace.changes()
    assert changes[1] == CreateChange(c, "c\n")
    assert isinstance(changes[0], TextChange) and changes[0].path == a
    assert changes[0].new_text.startswith("def assist():")


def test_activity_words_for_progress() -> None:
    assert AgentTools.activity("read_file", '{"path": "b.py"}') == "reading b.py"
    assert AgentTools.activity("edit_file", '{"path": "a.py"}') == "editing a.py"
    assert AgentTools.activity("read_file", "not json") == "reading ."
