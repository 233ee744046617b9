"""Where ``glm.generateTests`` writes, what it shows as a style sample, and the change itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from glm_lsp.context.target import conventional_test_path, looks_like_test_file, path_for_model
from glm_lsp.lsp.edits import LineIndex
from glm_lsp.lsp.features.actions.target import ActionTarget
from glm_lsp.lsp.features.apply import DocumentSnapshot, NewFile, TextChange, snapshot
from glm_lsp.lsp.features.context import agent_may_read
from glm_lsp.lsp.server import GlmLanguageServer
from glm_lsp.parse import text_to_append
from glm_lsp.prompts import StyleSample

SAMPLE_LIMIT = 6000  # characters of a style sample; enough to show imports and a test or two


@dataclass(frozen=True)
class GeneratedTestsFile:
    """The test file's current state; appended to when it exists, created when not."""

    document: DocumentSnapshot
    display_path: str
    sample: StyleSample | None

    @property
    def exists(self) -> bool:
        return self.document.exists


def plan_tests_file(server: GlmLanguageServer, target: ActionTarget) -> GeneratedTestsFile:
    assert target.path is not None
    root = target.root
    has_tests_dir = root is not None and (root / "tests").is_dir()
    path = Path(conventional_test_path(target.path, target.language, root, has_tests_dir))
    document = snapshot(server, path.as_uri())
    display = path_for_model(path, root)
    sample_path = path if document.exists else find_test_sample(path, target.path, root)
    sample = None
    if sample_path is not None and not agent_may_read(server, root, sample_path):
        sample_path = None  # like every context: nothing the agent may not read
    if sample_path is not None:
        text = document.text if sample_path == path else snapshot(server, sample_path.as_uri()).text
        sample = StyleSample(path_for_model(sample_path, root), _cut(text))
    return GeneratedTestsFile(document, display, sample)


def find_test_sample(test_path: Path, source: Path, root: Path | None) -> Path | None:
    """An existing test file of the project with the same suffix, looked for beside the new
    test file, beside the source and in ``tests/`` or ``test/`` at the root (no deep walk)."""
    places = [test_path.parent, source.parent]
    if root is not None:
        places += [root / "tests", root / "test"]
    for place in dict.fromkeys(places):
        if not place.is_dir():
            continue
        for candidate in sorted(place.iterdir()):
            if (
                candidate.suffix == test_path.suffix
                and candidate != source
                and candidate.is_file()
                and looks_like_test_file(candidate)
            ):
                return candidate
    return None


def _cut(text: str) -> str:
    if len(text) <= SAMPLE_LIMIT:
        return text
    return text[: text.rfind("\n", 0, SAMPLE_LIMIT) + 1] + "# … (rest of the file not shown)\n"


def tests_change(plan: GeneratedTestsFile, code: str, language: str) -> TextChange | NewFile:
    if not plan.exists:
        return NewFile(plan.document.uri, code.rstrip("\n") + "\n")
    text = plan.document.text
    end = LineIndex(text).position(len(text))
    blank_lines = 2 if language == "python" else 1
    return TextChange(
        plan.document,
        types.Range(start=end, end=end),
        text_to_append(text, code, blank_lines),
    )
