"""Code actions: explain, refactor, fix, generate tests, custom actions, and the menu."""
