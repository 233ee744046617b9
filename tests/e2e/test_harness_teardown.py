"""The harness itself: a server that never exits is killed at teardown and the test fails,
so one stuck server cannot hang the rest of the suite (as a stuck check once did for 17 min)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from tests.fake_glm import FakeGlm
from tests.lsp_harness import shut_down, start_session


async def test_a_server_that_never_exits_is_killed_and_the_test_fails(
    fake_glm: FakeGlm, tmp_path: Path
) -> None:
    async with start_session(fake_glm, tmp_path) as (client, _):
        process = client._server
        assert process is not None
        os.kill(process.pid, signal.SIGSTOP)  # deaf to shutdown and exit, like a hung server
        with pytest.raises(AssertionError, match="did not exit within 2 s"):
            await shut_down(client, grace=2)
        assert process.returncode is not None
        assert not psutil.pid_exists(process.pid) or (
            psutil.Process(process.pid).status() == psutil.STATUS_ZOMBIE
        )
