"""CORE: what the user agreed to. The question port (asker), remembered consent, where the key
may go, and the files a tool would run without asking."""
