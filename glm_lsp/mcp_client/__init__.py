"""MCP client core: the user's MCP servers as extra tools for the agent.

Built on the ``mcp`` package (the protocol, the session, the message types); this package
adds what an editor needs around it: definitions from the places users keep them, consent
before a workspace's server starts and before each tool's first call, a bounded child
environment, process groups that never outlive the editor, and results cut to size.
Knows no editor protocol: asking, remembering and telling go through small ports.
Modules are imported where used: loading ``mcp`` costs time an agent-less session never pays.
"""
