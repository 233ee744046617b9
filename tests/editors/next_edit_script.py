"""The fake GLM as a next-edit model for the real-editor tests: it rewrites the editable
window the prompt shows by renaming ``old`` to ``new`` (what a user who just renamed one use
wants for the others), or answers NO_CHANGE when there is nothing left to rename."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.fake_glm import FakeGlm, Reply

_REGION = re.compile(r"<\|editable_region_start\|>\n(.*?)\n<\|editable_region_end\|>", re.S)


@dataclass
class RenameModel:
    old: str | None = None
    new: str = ""
    asked: int = 0

    def __call__(self, body: dict[str, Any]) -> Reply:
        prompt = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        found = _REGION.search(prompt)
        if found is None:  # not a next-edit request
            return Reply(text="OK")
        self.asked += 1
        window = found.group(1).replace("<|cursor|>", "")
        if self.old is None or not re.search(rf"\b{self.old}\b", window):
            return Reply(text="NO_CHANGE")
        renamed = re.sub(rf"\b{self.old}\b", self.new, window)
        return Reply(text=f"```\n{renamed}\n```")


def next_edit_model(fake_glm: FakeGlm) -> RenameModel:
    model = RenameModel()
    fake_glm.responder = model
    return model
