"""CORE: the agent. One request from instruction to verdict (session), the tool loop, the tools,
its prompt and the check that runs in a scratch copy."""
