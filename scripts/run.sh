#!/usr/bin/env bash
# Runs a command with the project's toolchain first on PATH, installing it and the
# workspace's dependencies first when they are missing. Used by the root npm scripts,
# so that `npm test` works with whatever old Node the machine has.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
export PATH="$root/.tools/bin:$PATH"
cd "$root"
stamp="$root/node_modules/.ocne-install-stamp"
if [ ! -f "$stamp" ] || [ "$root/pnpm-lock.yaml" -nt "$stamp" ] || [ "$root/package.json" -nt "$stamp" ]; then
  pnpm install --frozen-lockfile --reporter=append-only >&2
  touch "$stamp"
fi
exec "$@"
