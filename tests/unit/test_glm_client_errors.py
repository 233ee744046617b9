"""The GLM client's errors, waits and bodies (glm/client.py): the words a user reads and the
values the client acts on."""

from __future__ import annotations
