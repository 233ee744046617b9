"""The floor for start-up: a pygls server with one feature and nothing else.

python benchmarks/bare_pygls_server.py   (LSP over stdio)
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("bare-pygls", "0")


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    pass


if __name__ == "__main__":
    server.start_io()
