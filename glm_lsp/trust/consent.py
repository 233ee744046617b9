"""What the user agreed to, remembered in the user's state directory (never the workspace).

A cloned repository can carry settings that point glm-lsp somewhere new: another host for the
key, a command to run. Those wait for the user's answer to ``window/showMessageRequest``;
``Allow`` is remembered here, per kind and subject, so the question comes once.

Kinds in use: ``"key-host"`` (subject ``host[:port]``), ``"check"`` and
``"check-unconfined"`` (subject: the workspace's identity, the argv and a hash of what the
settings open; see ``glm_lsp.agent.check_consent``).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
from pathlib import Path
from typing import Any

from glm_lsp.trust.asker import Asker, AskUnsupported

log = logging.getLogger(__name__)

STATE_DIR_ENV = "GLM_LSP_STATE_DIR"
CONSENT_FILE = "consent.json"
ALLOW = "Allow"
DONT_ALLOW = "Don't allow"
KEY_HOST = "key-host"
CHECK = "check"


def state_dir() -> Path:
    """``$GLM_LSP_STATE_DIR``, else the platform's per-user state directory."""
    configured = os.environ.get(STATE_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_state_dir

    return Path(user_state_dir("glm-lsp"))


class ConsentStore:
    """A small JSON file: ``{"allowed": {kind: [subject, ...]}}``.

    Read again whenever it changed on disk, so an answer given in one editor window counts in
    the others. An unreadable file counts as no consent at all (and is replaced on the next
    ``remember``): failing closed is the point of the file.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._allowed: dict[str, set[str]] = {}
        self._stamp: tuple[int, int] | None = None
        # Questions being asked now, so concurrent requests share one question.
        self.pending: dict[tuple[str, str], asyncio.Future[Answer]] = {}

    @property
    def path(self) -> Path:
        # Found on first use: platformdirs is not needed to answer `initialize`.
        if self._path is None:
            self._path = state_dir() / CONSENT_FILE
        return self._path

    def allowed(self, kind: str, subject: str) -> bool:
        return subject in self._load().get(kind, set())

    def remember(self, kind: str, subject: str) -> None:
        allowed = self._load()
        allowed.setdefault(kind, set()).add(subject)
        data = {"allowed": {k: sorted(v) for k, v in sorted(allowed.items())}}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written whole then renamed: another server reading it sees the old or the new file.
        import tempfile  # on first write only: not needed to start

        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".consent-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=2)
                out.write("\n")
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self._stamp = None  # re-read next time: cheap, and it picks up our own write

    def _load(self) -> dict[str, set[str]]:
        try:
            stat = self.path.stat()
        except OSError:
            self._allowed, self._stamp = {}, None
            return self._allowed
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._allowed = _read(self.path)
            self._stamp = stamp
        return self._allowed


def _read(path: Path) -> dict[str, set[str]]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable consent file %s: %s", path, exc)
        return {}
    allowed = data.get("allowed") if isinstance(data, dict) else None
    if not isinstance(allowed, dict):
        return {}
    return {
        kind: {s for s in subjects if isinstance(s, str)}
        for kind, subjects in allowed.items()
        if isinstance(kind, str) and isinstance(subjects, list)
    }


class Answer(enum.Enum):
    ALLOWED = "allowed"  # remembered, or "Allow" now
    DECLINED = "declined"  # "Don't allow", or any other action
    DISMISSED = "dismissed"  # the client answered null: the user closed the question
    UNSUPPORTED = "unsupported"  # the client cannot ask (an error answer)


async def ask(asker: Asker, store: ConsentStore, kind: str, subject: str, question: str) -> Answer:
    """True-ish when remembered; else asks (``Allow`` / ``Don't allow``) and remembers
    ``Allow``. The answer says why it is no (callers tell the user)."""
    if store.allowed(kind, subject):
        return Answer.ALLOWED
    key = (kind, subject)
    pending = store.pending.get(key)
    if pending is None:
        pending = asyncio.ensure_future(_ask_user(asker, question))
        store.pending[key] = pending
        pending.add_done_callback(lambda _: store.pending.pop(key, None))
    answer = await asyncio.shield(pending)
    if answer is Answer.ALLOWED and not store.allowed(kind, subject):
        store.remember(kind, subject)
    return answer


async def _ask_user(asker: Asker, question: str) -> Answer:
    try:
        choice = await asker.ask(question, [ALLOW, DONT_ALLOW])
    except AskUnsupported as exc:
        log.info("cannot ask the user: %s", exc)
        return Answer.UNSUPPORTED
    if choice is None:
        return Answer.DISMISSED
    return Answer.ALLOWED if choice == ALLOW else Answer.DECLINED
