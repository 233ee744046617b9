"""Which settings layer may change what.

The user's own layers (the editor's initializationOptions, the user's settings file) are
trusted. The workspace layer (``workspace/configuration``: a cloned repository's
``.vscode/settings.json`` reaches the server this way) may change any setting, but the
security settings only towards safety: it can add to ``agent.exclude``, never take a
pattern out. What it tried to loosen is kept as the user had it, and a warning names it.
"""

from __future__ import annotations

from .config import GlmSettings


def with_workspace_layer(
    user: GlmSettings, workspace: GlmSettings
) -> tuple[GlmSettings, list[str]]:
    """``workspace``'s settings with each security setting at least as strict as ``user``'s;
    one warning per setting the workspace tried to loosen."""
    settings = workspace.model_copy(deep=True)
    warnings: list[str] = []
    kept = [pattern for pattern in user.agent.exclude if pattern not in settings.agent.exclude]
    if kept:
        settings.agent.exclude = [*settings.agent.exclude, *kept]
        warnings.append(
            "Workspace setting 'agent.exclude' may add patterns, not remove them: "
            f"{', '.join(kept)} stay excluded (set them in your user settings instead)"
        )
    return settings, warnings
