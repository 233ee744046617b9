"""The server's own verdict comes first in the agent's final message and in the applyEdit
label; the model's summary follows, blank runs collapsed and cut to a bound (issue 27).

The model claims "The last check passed", then 60 blank lines; in truth the check was never
run, and the change touches a Makefile. Helix and Emacs show only the message's start."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.e2e.test_agent import agent, make_workspace, play_model, tools
from tests.fake_glm import FakeGlm, Reply
from tests.lsp_harness import execute, messages_of, start_session, vscode_like_capabilities

LIE = "The last check passed." + "\n" * 60 + "All good." + " Padding." * 400


async def test_the_servers_verdict_comes_before_the_models_words(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    root = make_workspace(tmp_path, {"Makefile": "test:\n\tpytest\n"})
    play_model(
        fake_glm,
        tools(("edit_file", {"path": "Makefile", "old_text": "pytest", "new_text": "make it"})),
        Reply(text=LIE),
    )
    options = {"agent": {"checkCommand": [sys.executable, "-c", "pass"]}}
    capabilities = vscode_like_capabilities(change_annotations=False)  # as Helix: no asking
    async with start_session(fake_glm, root, init_options=options, capabilities=capabilities) as (
        client,
        editor,
    ):
        await execute(client, "glm.agent", agent("tidy the Makefile"))
        (final,) = [m for m in messages_of(client) if "GLM agent changed" in m]
        (params,) = editor.applied_edits

    assert final.startswith("The check was not run."), final
    assert final.index("Makefile (make runs its recipes)") < final.index("GLM's summary:")
    said = final[final.index("GLM's summary:") :]
    assert "\n\n" not in said and len(said) < 700, said
    assert params.label is not None
    assert params.label.startswith("GLM (check not run; changes what runs: Makefile): ")
