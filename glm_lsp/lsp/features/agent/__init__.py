"""The agent command: the run, and the one WorkspaceEdit it hands back."""
